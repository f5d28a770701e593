"""Are two expressions equal?  Random points first, sympy when points can't tell.

The sympy tree is built node by node from our own AST (never ``sympify``), and
constant exponents are bounded first so ``9^9^9^9`` cannot make sympy build a
gigantic integer.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from dlstudy.mathtext import expr
from dlstudy.mathtext import printer
from dlstudy.mathtext.functions import evaluate

MAX_EXPONENT = 1000
PROBES = 24


def probe_points(variables: Sequence[str], seed: int = 0) -> dict[str, np.ndarray]:
    """Points away from 0 on both sides, where activations are smooth."""
    rng = np.random.default_rng(seed)
    points = {}
    for name in variables:
        magnitude = rng.uniform(0.2, 2.5, PROBES)
        sign = np.where(np.arange(PROBES) % 2 == 0, 1.0, -1.0)
        points[name] = magnitude * sign
    return points


def numeric_equal(
    values_a: np.ndarray, values_b: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9
) -> bool | None:
    """True/False when enough points are finite on both sides, None when they can't tell."""
    a = np.broadcast_to(np.asarray(values_a, dtype=float), (PROBES,))
    b = np.broadcast_to(np.asarray(values_b, dtype=float), (PROBES,))
    finite = np.isfinite(a) & np.isfinite(b)
    if np.any(np.isfinite(a) != np.isfinite(b)):
        return False
    if finite.sum() < PROBES // 2:
        return None
    return bool(np.allclose(a[finite], b[finite], rtol=rtol, atol=atol))


def evaluate_at(node: expr.Node, points: dict[str, np.ndarray]) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(evaluate(node, points), dtype=float)


def equivalent(given: expr.Node, key: expr.Node, variable: str, params: Mapping[str, Any]) -> bool:
    """Is ``given`` the same function of ``variable`` as ``key`` (with ``params`` filled in)?"""
    points = probe_points([variable])
    verdict = numeric_equal(evaluate_at(given, {**params, **points}), evaluate_at(key, {**params, **points}))
    if verdict is not None:
        return verdict
    return sympy_equal(given, key, params)


def sympy_equal(a: expr.Node, b: expr.Node, params: Mapping[str, Any]) -> bool:
    import sympy

    try:
        difference = sympy.simplify(to_sympy(a, params) - to_sympy(b, params))
    except expr.ExprError:
        return False
    return difference == 0


def to_sympy(node: expr.Node, params: Mapping[str, Any] | None = None) -> Any:
    """Build a sympy expression from our AST, refusing huge constant powers."""
    import sympy

    x = sympy.Symbol
    functions: dict[str, Callable[..., Any]] = {
        "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
        "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh,
        "abs": sympy.Abs, "erf": sympy.erf,
        "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
        "sigma": lambda u: 1 / (1 + sympy.exp(-u)),
        "σ": lambda u: 1 / (1 + sympy.exp(-u)),
        "softplus": lambda u: sympy.log(1 + sympy.exp(u)),
        "relu": lambda u: sympy.Max(u, 0),
    }

    def build(n: expr.Node) -> Any:
        if isinstance(n, expr.Num):
            return sympy.Rational(n.text) if "e" not in n.text.lower() else sympy.Float(n.value)
        if isinstance(n, expr.Name):
            if params and n.id in params and np.ndim(params[n.id]) == 0 and not isinstance(params[n.id], str):
                return sympy.nsimplify(float(params[n.id]))
            return {"pi": sympy.pi, "e": sympy.E}.get(n.id) or x(n.id)
        if isinstance(n, expr.Group):
            return build(n.inner)
        if isinstance(n, expr.Unary) and n.op in "+-":
            value = build(n.operand)
            return -value if n.op == "-" else value
        if isinstance(n, expr.Binary) and n.op in ("+", "-", "*", "/", "^"):
            left, right = build(n.left), build(n.right)
            if n.op == "^":
                if not right.free_symbols and abs(float(right)) > MAX_EXPONENT:
                    raise expr.ExprError("exponent too large")
                if not left.free_symbols and not right.free_symbols:
                    magnitude = abs(float(right)) * np.log10(max(abs(float(left)), 1e-300))
                    if magnitude > 300:
                        raise expr.ExprError("number too large")
                return left**right
            return {"+": left + right, "-": left - right, "*": left * right, "/": left / right}[n.op]
        if isinstance(n, expr.Call) and n.func in functions and len(n.args) == 1:
            return functions[n.func](build(n.args[0]))
        raise expr.ExprError(f"cannot compare {printer.expression(n)!r} symbolically")

    return build(node)
