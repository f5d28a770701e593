"""Computational graphs: an expression split into its operations, and a template made concrete for one of them.

A template with a ``graph`` parameter (docs/problems.md, "Computational graphs") models backpropagation
through any small scalar expression. The student gives the expression (``f = (x + y)*z``) and its inputs'
values; every operation becomes a node with a name, in the order a forward pass computes them
(post-order: ``a = x + y``, then ``f = a z``), and the worked solution is generated from the graph:

* forward: each node's value from its operands;
* backward: ``∂f/∂f = 1``, then each node's gradient by the chain rule, its local derivative times the
  gradient of the node it feeds, summed over every node it feeds (``∂f/∂a = z · ∂f/∂f``); the inputs last.

The expression is parsed by dlstudy's own grammar (``mathtext.expr``) and never run as code. The closed
forms here (each operation's local derivative rule) are proven equal, step by step, to the oracle
``graph_backprop`` (``oracles/graph.py``), which builds the same nodes in torch and runs autograd.

``specialise(template, text)`` gives the template for one expression: the graph parameter, then one real
parameter per input (named as in the expression), the generated steps, the answer parts (``f`` and every
input's gradient), generated common mistakes and the statement with ``{inputs}`` filled in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from dlstudy.engine.model import Answer, Constraint, Domain, Formula, Mistake, Param, Step, Template
from dlstudy.errors import DlstudyError
from dlstudy.mathtext import expr, parsing, printer
from dlstudy.mathtext import latex as tex
from dlstudy.mathtext.expr import Binary, Call, Group, Name, Node, Num, Unary
from dlstudy.mathtext.functions import compile_node

ROOT = "f"  # the output node; its gradient ∂f/∂f = 1 starts the backward pass
OPERATORS = ("+", "-", "*", "/", "^")
# Functions a graph may use, with their number of arguments.
GRAPH_FUNCTIONS = {
    "exp": 1, "log": 1, "ln": 1, "sigmoid": 1, "sigma": 1, "σ": 1, "tanh": 1, "relu": 1, "sqrt": 1, "abs": 1,
    "sin": 1, "cos": 1, "max": 2, "min": 2,
}
SIGMOIDS = ("sigmoid", "sigma", "σ")
MAX_NODES = 40  # operations in one graph: keeps a worked solution readable and the work tiny
INPUTS_PLACEHOLDER = "inputs"  # {inputs} in a graph template's statement: "x = −2, y = 5 and z = −4"
# Names of intermediate nodes, in the order the forward pass creates them (an input's name is skipped).
_NODE_NAMES = tuple("abcdghkmnpqrstuv")


class GraphError(DlstudyError):
    """An expression that is not a computational graph dlstudy can differentiate."""


@dataclass(frozen=True)
class Operation:
    """One node: ``name = op(operands)``; an operand is an input's or an earlier node's Name, or a constant."""

    name: str
    op: str  # one of OPERATORS, "neg" (unary minus) or a function of GRAPH_FUNCTIONS
    operands: tuple[Node, ...]

    def formula(self) -> Node:
        """The node's value from its operands, as an expression tree."""
        a = self.operands
        if self.op == "neg":
            return Unary("-", a[0])
        if self.op in OPERATORS:
            return Binary(self.op, a[0], a[1])
        return Call(self.op, a)


@dataclass(frozen=True)
class Graph:
    text: str  # the expression as written
    expression: Node  # as parsed (with the author's parentheses), for the statement
    inputs: tuple[str, ...]  # variable names, in order of first appearance
    operations: tuple[Operation, ...]  # post-order: each after its operands; the last is ROOT
    gradient: Mapping[str, str]  # input or node name -> its gradient step's name (x -> dx)

    def uses(self, name: str) -> list[tuple[Operation, int]]:
        """Every (operation, operand position) that reads ``name``: where its gradient comes from."""
        return [(op, i) for op in self.operations for i, operand in enumerate(op.operands)
                if isinstance(operand, Name) and operand.id == name]


# ---------------------------------------------------------------------------
# Parsing


@lru_cache(maxsize=256)
def parse_graph(text: str) -> Graph:
    """The expression's graph; GraphError says what is not allowed."""
    try:
        root = parsing.parse(text)
    except expr.ExprError as exc:
        raise GraphError(exc.message) from None
    _check_allowed(root)
    inputs = tuple(dict.fromkeys(n.id for n in expr.walk(root) if isinstance(n, Name) and n.id not in expr.CONSTANT_NAMES))
    if ROOT in inputs:
        raise GraphError(f"{ROOT} names the output; call the input something else")
    pending: list[tuple[str, tuple[Node, ...]]] = []
    top = _split(root, pending, set(inputs))
    if not isinstance(top, Name) or not pending or top.id != f"#{len(pending) - 1}":
        raise GraphError("the expression needs at least one operation on an input, e.g. (x + y)*z")
    if len(pending) > MAX_NODES:
        raise GraphError(f"the graph has {len(pending)} operations; at most {MAX_NODES} are shown by hand")
    free = [n for n in _NODE_NAMES if n not in inputs]
    names = [free[i] if len(pending) - 1 <= len(free) else f"v{i + 1}" for i in range(len(pending) - 1)] + [ROOT]
    if len(set(names) | set(inputs)) != len(names) + len(inputs):
        raise GraphError("rename the inputs: they clash with the names of the intermediate nodes v1, v2, ...")
    renamed = {f"#{i}": name for i, name in enumerate(names)}
    operations = tuple(
        Operation(renamed[f"#{i}"], op, tuple(Name(renamed[o.id]) if isinstance(o, Name) and o.id in renamed else o
                                             for o in operands))
        for i, (op, operands) in enumerate(pending)
    )
    taken = set(inputs) | set(names)
    gradient: dict[str, str] = {}
    for name in [*names, *inputs]:
        candidate = "d" + name
        while candidate in taken:
            candidate = "d" + candidate
        gradient[name] = candidate
        taken.add(candidate)
    return Graph(text, root, inputs, operations, gradient)


def _check_allowed(node: Node) -> None:
    for n in expr.walk(node):
        if isinstance(n, (Num, Name, Group)) or (isinstance(n, Unary) and n.op in "+-"):
            continue
        if isinstance(n, Binary) and n.op in OPERATORS:
            continue
        if isinstance(n, Call) and n.func in GRAPH_FUNCTIONS:
            if len(n.args) != GRAPH_FUNCTIONS[n.func]:
                raise GraphError(f"{n.func}() takes {GRAPH_FUNCTIONS[n.func]} argument(s) in a graph")
            continue
        what = f"{n.func}()" if isinstance(n, Call) else f"'{n.op}'" if isinstance(n, (Binary, Unary)) else "arrays and indexing"
        raise GraphError(
            f"a graph may use + - * / ^, unary minus and {', '.join(sorted(GRAPH_FUNCTIONS))} on scalars, not {what}"
        )


def _ungroup(node: Node) -> Node:
    while isinstance(node, Group) or (isinstance(node, Unary) and node.op == "+"):
        node = node.inner if isinstance(node, Group) else node.operand
    return node


def _split(node: Node, pending: list[tuple[str, tuple[Node, ...]]], inputs: set[str]) -> Node:
    """Append ``node``'s operations to ``pending`` in post-order; what its parent reads for it."""
    if not (expr.names(node) & inputs):
        return node  # a constant such as 2 or (1/2): a number in its parent's formula, not a node
    node = _ungroup(node)
    if isinstance(node, Name):
        return node
    if isinstance(node, Unary):
        op, children = "neg", (node.operand,)
    elif isinstance(node, Binary):
        op, children = node.op, (node.left, node.right)
    else:
        assert isinstance(node, Call)
        op, children = node.func, node.args
    operands = tuple(_split(child, pending, inputs) for child in children)
    pending.append((op, operands))
    return Name(f"#{len(pending) - 1}")


# ---------------------------------------------------------------------------
# Local derivatives: the closed forms of the backward pass


def local_derivative(op: Operation, position: int) -> Node:
    """∂(op)/∂(operand ``position``) as an expression of the operands and the node's own value."""
    p = Name(op.name)
    u = op.operands[position]
    one = Num(1.0, "1")
    minus_one = Unary("-", one)
    if op.op == "+":
        return one
    if op.op == "-":
        return one if position == 0 else minus_one
    if op.op == "*":
        return _operand(op.operands[1 - position])
    if op.op == "/":
        a, b = op.operands
        return Binary("/", one, _operand(b)) if position == 0 else Unary("-", Binary("/", _operand(a), Binary("^", _operand(b), Num(2.0, "2"))))
    if op.op == "^":
        base, exponent = op.operands
        if position == 1:  # d(b^u)/du = b^u ln b
            return p if isinstance(base, Name) and base.id == "e" else Binary("*", p, Call("ln", (base,)))
        if isinstance(exponent, Num):  # c u^(c-1), with c - 1 worked out
            lowered = exponent.value - 1
            power = _operand(base) if lowered == 1 else Binary("^", _operand(base), Num(lowered, _number(lowered)))
            return Binary("*", exponent, power)
        return Binary("*", _operand(exponent), Binary("^", _operand(base), Group(Binary("-", exponent, one))))
    if op.op == "neg":
        return minus_one
    if op.op == "exp":
        return p
    if op.op in ("log", "ln"):
        return Binary("/", one, _operand(u))
    if op.op in SIGMOIDS:
        return Binary("*", p, Group(Binary("-", one, p)))
    if op.op == "tanh":
        return Group(Binary("-", one, Binary("^", p, Num(2.0, "2"))))
    if op.op == "relu":
        return Call("step", (u,))  # printed 𝟙[u > 0]; torch's convention: 0 at u = 0
    if op.op == "sqrt":
        return Binary("/", one, Group(Binary("*", Num(2.0, "2"), p)))
    if op.op == "abs":
        return Call("sign", (u,))
    if op.op == "sin":
        return Call("cos", (u,))
    if op.op == "cos":
        return Unary("-", Call("sin", (u,)))
    if op.op in ("max", "min"):  # the gradient goes to the larger (smaller) argument; ties are refused
        a, b = op.operands
        first = (op.op == "max") == (position == 0)
        return Call("step", (Binary("-", a, b) if first else Binary("-", b, a),))
    raise AssertionError(f"no local derivative for {op.op}")


def _operand(node: Node) -> Node:
    """An operand inside a product or power: a compound constant keeps its parentheses."""
    return node if isinstance(node, (Name, Num, Group)) else Group(node)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def gradient_formula(graph: Graph, name: str, replace: Mapping[tuple[str, int], Node] | None = None,
                     only_first: bool = False, upstream: bool = True) -> Node:
    """∂f/∂name = Σ over the nodes p it feeds of (∂p/∂name)·(∂f/∂p); ``replace`` swaps a local derivative
    (a common mistake), ``only_first`` keeps one path, ``upstream=False`` drops the ∂f/∂p factors."""
    terms: list[Node] = []
    for op, position in graph.uses(name):
        local = (replace or {}).get((op.name, position)) or local_derivative(op, position)
        terms.append(Binary("*", local, Name(graph.gradient[op.name])) if upstream else local)
        if only_first:
            break
    total = terms[0]
    for term in terms[1:]:
        total = Binary("+", total, term)
    return total


# ---------------------------------------------------------------------------
# The template for one expression


def graph_param(template: Template) -> Param | None:
    return next((p for p in template.params.values() if p.kind == "graph"), None)


def concrete(template: Template, params: Mapping[str, Any]) -> Template:
    """The template these parameters belong to: specialised to their graph, or ``template`` itself."""
    param = graph_param(template)
    if param is None or template.steps:
        return template
    return specialise(template, str(params[param.name]))


_SPECIALISED: dict[tuple[str, str], tuple[Template, Template]] = {}


def specialise(template: Template, text: str) -> Template:
    """``template`` (with a graph parameter) made concrete for the expression ``text``."""
    key = (template.source, text)
    cached = _SPECIALISED.get(key)
    if cached is not None and cached[0] is template:
        return cached[1]
    result = _build(template, parse_graph(text))
    if len(_SPECIALISED) > 256:
        _SPECIALISED.clear()
    _SPECIALISED[key] = (template, result)
    return result


def _build(template: Template, graph: Graph) -> Template:
    param = graph_param(template)
    assert param is not None
    taken = set(template.params) - {param.name}
    clash = [n for n in (*graph.inputs, *graph.gradient.values(), *(o.name for o in graph.operations)) if n in taken or n == param.name]
    if clash:
        raise GraphError(f"{clash[0]!r} is already a parameter of {template.id}; call the input something else")
    inputs = {
        name: Param(name, "real", about=f"input ${tex.name(name)}$", low=param.low, high=param.high,
                    decimals=param.decimals, exclude=param.exclude, domain=Domain())
        for name in graph.inputs
    }
    params = {param.name: param, **inputs, **{n: p for n, p in template.params.items() if n != param.name}}
    symbols = {grad: rf"\partial f / \partial {tex.name(name)}" for name, grad in graph.gradient.items()}
    steps = [_value_step(op, symbols) for op in graph.operations]
    steps.append(Step(graph.gradient[ROOT], r"the start of the backward pass, $\partial f / \partial f$",
                      {"": r"\partial f / \partial f = 1"}, {"": _formula(Num(1.0, "1"))}))
    backward = [op.name for op in reversed(graph.operations[:-1])] + list(graph.inputs)
    for name in backward:
        steps.append(_gradient_step(graph, name, symbols))
    answer = Answer(
        kind=template.answer.kind, step=graph.gradient[graph.inputs[-1]], rtol=template.answer.rtol,
        atol=template.answer.atol, sigfigs=template.answer.sigfigs,
        parts=(ROOT, *(graph.gradient[name] for name in graph.inputs)),
    )
    listed = ", ".join(f"${tex.name(n)} = {{{n}}}$" for n in graph.inputs)
    if len(graph.inputs) > 1:
        head, _, last = listed.rpartition(", ")
        listed = f"{head} and {last}"
    statement = {case: text.replace("{" + INPUTS_PLACEHOLDER + "}", listed) for case, text in template.statement.items()}
    return dataclasses.replace(
        template, params=params, steps=tuple(steps), answer=answer, statement=statement,
        symbols={**template.symbols, **symbols}, mistakes=_mistakes(graph), constraints=_ties(graph),
    )


def _formula(node: Node) -> Formula:
    return Formula(printer.expression(node), node, compile_node(node))


def _value_step(op: Operation, symbols: Mapping[str, str]) -> Step:
    node = op.formula()
    what = r"the output $f$" if op.name == ROOT else f"node ${tex.name(op.name)}$ of the forward pass"
    latex = f"{tex.name(op.name)} = {printer.expression(node, printer.LATEX, symbols=symbols)}"
    return Step(op.name, what, {"": latex}, {"": _formula(node)})


def _gradient_step(graph: Graph, name: str, symbols: Mapping[str, str]) -> Step:
    grad = graph.gradient[name]
    node = gradient_formula(graph, name)
    latex = f"{symbols[grad]} = {printer.expression(node, printer.LATEX, symbols=symbols)}"
    kind = "input" if name in graph.inputs else "node"
    return Step(grad, f"gradient of {kind} ${tex.name(name)}$, $\\partial f / \\partial {tex.name(name)}$",
                {"": latex}, {"": _formula(node)})


def _mistakes(graph: Graph) -> tuple[Mistake, ...]:
    """The slips of a backward pass, generated for this graph's nodes."""
    mistakes: list[Mistake] = []
    for name in [*(op.name for op in graph.operations[:-1]), *graph.inputs]:
        uses = graph.uses(name)
        grad = graph.gradient[name]
        shown = _plain(name)
        if any(op.name != ROOT for op, _ in uses):
            mistakes.append(Mistake(
                f"no-upstream-{name}", grad, {"": _formula(gradient_formula(graph, name, upstream=False))},
                f"Chain rule: multiply the local derivative ∂p/∂{shown} by the gradient ∂f/∂p of the node p that "
                f"{shown} feeds; the local derivative alone is not ∂f/∂{shown}.",
            ))
        if len(uses) > 1:
            mistakes.append(Mistake(
                f"one-path-{name}", grad, {"": _formula(gradient_formula(graph, name, only_first=True))},
                f"{shown} feeds {len(uses)} operations: add up the gradients along every path (gradients add where a "
                "value fans out).",
            ))
        product = next(((op, i) for op, i in uses if op.op == "*" and op.operands[1 - i] != op.operands[i]), None)
        if product is not None:
            op, position = product
            own = gradient_formula(graph, name, replace={(op.name, position): _operand(op.operands[position])})
            mistakes.append(Mistake(
                f"own-factor-{name}", grad, {"": _formula(own)},
                "The local derivative of a product with respect to one factor is the other factor: ∂(u·v)/∂u = v.",
            ))
        squashed = next(((op, i) for op, i in uses if op.op in SIGMOIDS), None)
        if squashed is not None:
            op, position = squashed
            value = gradient_formula(graph, name, replace={(op.name, position): Name(op.name)})
            mistakes.append(Mistake(
                f"sigmoid-value-{name}", grad, {"": _formula(value)},
                "The sigmoid's slope is σ(u)(1 − σ(u)), not σ(u): multiply by (1 − σ) too.",
            ))
    return tuple(mistakes)


def _plain(name: str) -> str:
    """A name as feedback text shows it (x1 -> x₁)."""
    return printer.formula(tex.name(name))


def _ties(graph: Graph) -> tuple[Constraint, ...]:
    """max and min have no derivative where their arguments are equal (torch would split the gradient)."""
    constraints = []
    for op in graph.operations:
        if op.op in ("max", "min"):
            condition = Binary("!=", *op.operands)
            shown = printer.expression(op.formula())
            constraints.append(Constraint(
                _formula(condition), f"{shown} has no derivative where its two arguments are equal",
                steps_used=frozenset(o.id for o in op.operands if isinstance(o, Name) and o.id not in graph.inputs),
            ))
    return tuple(constraints)
