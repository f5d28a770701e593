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
SYMPY_SECONDS = 2.0  # the most a symbolic comparison may take


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
    values_a, values_b = np.asarray(values_a, dtype=float), np.asarray(values_b, dtype=float)
    if values_a.shape not in ((), (PROBES,)) or values_b.shape not in ((), (PROBES,)):
        return False  # a list or a table, not a number for each value of the variable
    a = np.broadcast_to(values_a, (PROBES,))
    b = np.broadcast_to(values_b, (PROBES,))
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
    try:
        given_values = evaluate_at(given, {**params, **points})
    except expr.ExprError:
        return False  # e.g. a vector operation on a scalar variable: not this function
    verdict = numeric_equal(given_values, evaluate_at(key, {**params, **points}))
    if verdict is not None:
        return verdict
    return sympy_equal(given, key, params)


def sympy_equal(a: expr.Node, b: expr.Node, params: Mapping[str, Any], seconds: float = SYMPY_SECONDS) -> bool:
    """sympy's verdict on a - b == 0, within ``seconds`` (False when it can't decide in time)."""
    import sympy

    try:
        difference = to_sympy(a, params) - to_sympy(b, params)
    except expr.ExprError:
        return False
    return _within(seconds, lambda: sympy.simplify(difference) == 0)


def _within(seconds: float, decide: Callable[[], bool]) -> bool:
    """``decide()`` in a forked worker that is killed after ``seconds``; False when it runs out of time.

    simplify() has no time limit of its own and some expressions keep it busy for minutes.
    """
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: decide here, unbounded
        return decide()
    reader, writer = context.Pipe(duplex=False)

    def work() -> None:
        try:
            writer.send(bool(decide()))
        except BaseException:  # noqa: BLE001 - any failure in the worker means "can't decide"
            writer.send(False)

    worker = context.Process(target=work, daemon=True)
    worker.start()
    writer.close()
    try:
        return bool(reader.recv()) if reader.poll(seconds) else False
    except EOFError:
        return False
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()


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
