"""Computational graphs (engine.graphs): parsing into nodes, the local-derivative closed forms, the
template made concrete for an expression, and `solve` on a student's own expression."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlstudy.engine import exercises, graphs, sampling
from dlstudy.engine.templates import get_template
from dlstudy.errors import DlstudyError
from dlstudy.mathtext import expr, parsing, printer
from dlstudy.mathtext.functions import evaluate


def _ops(text):
    return [(op.name, printer.expression(op.formula())) for op in graphs.parse_graph(text).operations]


def test_nodes_in_forward_order_named_apart_from_the_inputs():
    assert _ops("(x + y)*z") == [("a", "x + y"), ("f", "a·z")]
    graph = graphs.parse_graph("a*b + c")
    assert graph.inputs == ("a", "b", "c")
    assert _ops("a*b + c") == [("d", "a·b"), ("f", "d + c")]
    assert graph.gradient == {"d": "dd", "f": "df", "a": "da", "b": "db", "c": "dc"}


def test_constants_are_numbers_not_nodes():
    assert _ops("2*x + 1") == [("a", "2·x"), ("f", "a + 1")]
    assert _ops("(1/2)*x^2") == [("a", "x^2"), ("f", "(1/2)·a")]
    assert _ops("-x") == [("f", "−x")]
    assert _ops("e^x") == [("f", "e^x")]


def test_a_gradient_sums_over_every_use():
    graph = graphs.parse_graph("x*y + x")
    assert len(graph.uses("x")) == 2
    assert printer.expression(graphs.gradient_formula(graph, "x")) == "y·da + 1·df"


@pytest.mark.parametrize("text, why", [
    ("x @ y", "not '@'"),
    ("x[1] + 2", "indexing"),
    ("softmax(x)", "not softmax()"),
    ("x < y", "not '<'"),
    ("max(x, y, z)", "takes 2 argument"),
    ("x", "at least one operation"),
    ("2*3", "at least one operation"),
    ("f + x", "names the output"),
    ("+".join(["x"] * 45), "at most"),
])
def test_what_is_not_a_graph_is_refused(text, why):
    with pytest.raises(graphs.GraphError, match=why):
        graphs.parse_graph(text)


LOCAL_CASES = ["x + y", "x - y", "x*y", "x/y", "x^3", "x^y", "e^x", "-x", "exp(x)", "log(x)", "ln(x)",
               "sigmoid(x)", "σ(x)", "tanh(x)", "relu(x)", "sqrt(x)", "abs(x)", "sin(x)", "cos(x)", "max(x, y)",
               "min(x, y)"]


@pytest.mark.parametrize("text", LOCAL_CASES)
def test_local_derivative_rules_match_central_differences(text):
    """Each closed-form rule, on its own, against the expression differentiated numerically (no torch)."""
    graph = graphs.parse_graph(text)
    (op,) = graph.operations
    node = parsing.parse(text)
    rng = np.random.default_rng(2)
    for _ in range(20):
        point = {"x": float(rng.uniform(0.3, 2.5)), "y": float(rng.uniform(-2.5, -0.3))}
        env = {**point, op.name: evaluate(node, point)}
        for position, operand in enumerate(op.operands):
            if not isinstance(operand, expr.Name) or operand.id not in point:
                continue
            up, down = dict(point), dict(point)
            up[operand.id] += 1e-6
            down[operand.id] -= 1e-6
            numeric = (evaluate(node, up) - evaluate(node, down)) / 2e-6
            rule = evaluate(graphs.local_derivative(op, position), env)
            assert rule == pytest.approx(numeric, rel=1e-5, abs=1e-8), (text, operand.id)


def test_concrete_template_has_the_graphs_inputs_steps_and_parts():
    template = graphs.specialise(get_template("graph-backprop"), "(x + y)*z")
    assert list(template.params) == ["graph", "x", "y", "z"]
    assert [s.name for s in template.steps] == ["a", "f", "df", "da", "dx", "dy", "dz"]
    assert template.answer.parts == ("f", "dx", "dy", "dz")
    assert {m.id for m in template.mistakes} == {"no-upstream-x", "no-upstream-y", "own-factor-a", "own-factor-z"}
    assert graphs.specialise(get_template("graph-backprop"), "(x + y)*z") is template  # cached
    assert "$x = {x}$, $y = {y}$ and $z = {z}$" in template.statement[""]


def test_solve_a_students_graph_cs231n():
    # CS231n's first example, typed as on the command line: dlstudy solve graph-backprop 'f=(x+y)*z' x=-2 y=5 z=-4
    solution = exercises.solve_numbers("graph-backprop", ["f=(x+y)*z", "x=-2", "y=5", "z=-4"])
    assert [(s.name, s.value) for s in solution.steps] == [
        ("a", 3), ("f", -12), ("df", 1), ("da", -4), ("dx", -4), ("dy", -4), ("dz", 3)]
    lines = {s.name: (s.formula, s.substituted) for s in solution.steps}
    assert lines["a"] == ("a=x+y", "(-2) + 5 = 3")
    assert lines["da"] == ("∂f/∂a=z·∂f/∂f", "(-4)·1 = -4")
    assert solution.template.answer.parts == ("f", "dx", "dy", "dz")


def test_solve_refuses_a_tie_of_max_and_a_point_outside_the_domain():
    with pytest.raises(DlstudyError, match="no derivative where its two arguments are equal"):
        exercises.solve_numbers("graph-backprop", ["f=max(x, y)*2", "x=1", "y=1"])
    with pytest.raises(DlstudyError, match="not finite"):
        exercises.solve_numbers("graph-backprop", ["f=log(x)", "x=-1"])
    with pytest.raises(DlstudyError, match="needs y"):
        exercises.solve_numbers("graph-backprop", ["graph=x*y", "x=1"])
    with pytest.raises(DlstudyError, match="needs graph/f, the expression"):
        exercises.solve_numbers("graph-backprop", ["x=1"])


def test_sampled_variants_draw_the_graphs_inputs():
    variant = sampling.sample(get_template("graph-backprop"), 3)
    graph = graphs.parse_graph(variant.params["graph"])
    assert list(variant.params) == ["graph", *graph.inputs]
    assert all(v != 0 and float(v).is_integer() and -3 <= v <= 3 for k, v in variant.params.items() if k != "graph")
    assert not math.isnan(variant.formula_values["f"])


def test_generated_formulas_typeset():
    """The generated step formulas of every sampled graph compile in Typst (the PDF sheets)."""
    from dlstudy.output.typstmath import compile_errors

    generic = get_template("graph-backprop")
    formulas = [latex for text in generic.params["graph"].options
                for step in graphs.specialise(generic, text).steps for latex in step.latex.values()]
    assert compile_errors(formulas) == []


def test_the_step_function_prints_as_an_indicator():
    node = parsing.parse("step(a - b)*db")
    assert printer.expression(node) == "𝟙[a − b > 0]·db"
    assert printer.expression(node, printer.LATEX, values={"a": 2.0, "b": -1.0}) == r"\mathbb{1}[2 - (-1) > 0] \cdot \mathit{db}"
