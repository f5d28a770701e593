"""Oracle for backpropagation through a computational graph: torch autograd on the same nodes.

The graph (``engine.graphs``) names the nodes; this module builds each one as a torch operation on its
operands' tensors, in the forward pass's order, keeps every node's gradient (``retain_grad``) and runs
``backward`` from the output. Nothing here uses the closed-form local derivatives the worked steps show.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from dlstudy.engine import graphs
from dlstudy.engine.oracles import register
from dlstudy.mathtext.expr import Node
from dlstudy.mathtext.functions import evaluate


def _torch_ops() -> dict[str, Callable[..., Any]]:
    import torch

    unary = {
        "neg": torch.neg, "exp": torch.exp, "log": torch.log, "ln": torch.log, "sigmoid": torch.sigmoid,
        "sigma": torch.sigmoid, "σ": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "sqrt": torch.sqrt,
        "abs": torch.abs, "sin": torch.sin, "cos": torch.cos,
    }
    binary = {
        "+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "^": torch.pow,
        "max": torch.maximum, "min": torch.minimum,
    }
    return {**unary, **binary}


@register("graph_backprop")
def graph_backprop(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    graph = graphs.parse_graph(str(p["graph"]))
    ops = _torch_ops()
    tensors: dict[str, Any] = {
        name: torch.tensor(float(p[name]), dtype=torch.float64, requires_grad=True) for name in graph.inputs
    }

    def operand(node: Node) -> Any:
        if getattr(node, "id", None) in tensors:
            return tensors[node.id]  # type: ignore[union-attr]
        # a constant sub-expression such as 2 or 1/2: a number, no gradient
        return torch.tensor(float(evaluate(node)), dtype=torch.float64)

    for op in graph.operations:
        result = ops[op.op](*(operand(o) for o in op.operands))
        result.retain_grad()
        tensors[op.name] = result
    output = tensors[graphs.ROOT]
    output.backward()
    values: dict[str, Any] = {op.name: float(tensors[op.name].detach()) for op in graph.operations}
    for name, grad_name in graph.gradient.items():
        grad = tensors[name].grad
        values[grad_name] = float(grad) if grad is not None else math.nan
    return values
