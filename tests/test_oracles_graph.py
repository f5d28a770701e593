"""The computational-graph oracle (torch autograd, node by node) against published worked examples and
central differences of the expression itself."""

from __future__ import annotations

import numpy as np
import pytest

from dlstudy.engine import graphs
from dlstudy.engine.oracles import get
from dlstudy.engine.templates import get_template
from dlstudy.mathtext import parsing
from dlstudy.mathtext.functions import evaluate

oracle = get("graph_backprop")


def test_cs231n_add_multiply_golden():
    # CS231n "Backpropagation, Intuitions" (cs231n.github.io/optimization-2): f(x, y, z) = (x + y) z at
    # x = -2, y = 5, z = -4 gives q = 3, f = -12, df/dz = q = 3, df/dx = df/dy = z = -4.
    out = oracle({"graph": "(x + y)*z", "x": -2, "y": 5, "z": -4})
    assert out["a"] == 3 and out["f"] == -12
    assert (out["dx"], out["dy"], out["dz"], out["da"], out["df"]) == (-4, -4, 3, -4, 1)


def test_cs231n_sigmoid_neuron_golden():
    # CS231n, same notes, "Sigmoid example": w = [2, -3, -3], x = [-1, -2]; the neuron outputs 0.73 and the
    # printed gradients are dx = [0.39, -0.59], dw = [-0.2, -0.39, 0.2] (two decimals).
    p = {"graph": "sigmoid(w0*x0 + w1*x1 + w2)", "w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    out = oracle(p)
    assert out["f"] == pytest.approx(0.73, abs=0.005)
    assert [out["dx0"], out["dx1"]] == pytest.approx([0.39, -0.59], abs=0.005)
    assert [out["dw0"], out["dw1"], out["dw2"]] == pytest.approx([-0.2, -0.39, 0.2], abs=0.005)
    # The expanded circuit of the same notes (exp, +1, 1/x gates) gives the same numbers.
    expanded = oracle({**p, "graph": "1/(1 + exp(-(w0*x0 + w1*x1 + w2)))"})
    for name in ("f", "dw0", "dx0", "dw1", "dx1", "dw2"):
        assert expanded[name] == pytest.approx(out[name], rel=1e-12)


def test_cs231n_gate_patterns_golden():
    # CS231n, same notes, "Patterns in backward flow": f = 2 (x y + max(z, w)) at x = 3, y = -4, z = 2,
    # w = -1: output -20; the add gate distributes, the max gate routes (dz = 2, dw = 0), the multiply
    # gate swaps (dx = -8, dy = 6).
    out = oracle({"graph": "2*(x*y + max(z, w))", "x": 3, "y": -4, "z": 2, "w": -1})
    assert out["f"] == -20
    assert (out["dx"], out["dy"], out["dz"], out["dw"]) == (-8, 6, 2, 0)


def _central_difference(node, point: dict[str, float], name: str, h: float = 1e-6) -> float:
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    return (evaluate(node, up) - evaluate(node, down)) / (2 * h)


@pytest.mark.parametrize("text", get_template("graph-backprop").params["graph"].options)
def test_every_sampled_graph_matches_central_differences(text):
    graph = graphs.parse_graph(text)
    node = parsing.parse(text)
    rng = np.random.default_rng(5)
    for _ in range(30):
        point = {name: float(rng.uniform(-2, 2)) for name in graph.inputs}
        out = oracle({"graph": text, **point})
        assert out["f"] == pytest.approx(evaluate(node, point), rel=1e-12)
        for name in graph.inputs:
            numeric = _central_difference(node, point, name)
            assert out[graph.gradient[name]] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (text, name)


def test_every_node_gets_a_value_and_a_gradient():
    graph = graphs.parse_graph("(x + sigmoid(y))/(sigmoid(x) + (x + y)^2)")
    out = oracle({"graph": graph.text, "x": 3, "y": -4})
    assert set(out) == {op.name for op in graph.operations} | set(graph.gradient.values())
    assert out["df"] == 1
