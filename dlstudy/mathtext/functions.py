"""The whitelist of functions an expression may call, and the AST evaluator.

Every function here is a plain NumPy computation on floats or arrays.  Indices
are 1-based, as in the course notes (x_1 is the first entry).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable, Mapping

import numpy as np

from dlstudy.mathtext.expr import Array, Binary, Call, ExprError, Group, Index, Name, Node, Num, Slice, Unary

# SELU's constants (Klambauer et al., 2017), as torch.nn.SELU uses them.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_erf = np.vectorize(math.erf, otypes=[float])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    z = np.asarray(x, dtype=float)
    z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return z / np.sum(z, axis=-1, keepdims=True)


def _max(*args):
    return np.max(args[0]) if len(args) == 1 else _reduce(np.maximum, args)


def _min(*args):
    return np.min(args[0]) if len(args) == 1 else _reduce(np.minimum, args)


def _reduce(op, args):
    result = args[0]
    for arg in args[1:]:
        result = op(result, arg)
    return result


def _position(i: Any, size: int) -> int:
    """A 1-based position, checked."""
    value = float(i)
    if value != int(value) or not 1 <= value <= size:
        raise ExprError(f"index {format(value, 'g')} is out of range 1..{size}")
    return int(value) - 1


def _argmax(x):
    return float(np.argmax(x) + 1)


def _argmin(x):
    return float(np.argmin(x) + 1)


def _row(m, i):
    m = np.asarray(m)
    return m[_position(i, m.shape[0])]


def _col(m, j):
    m = np.asarray(m)
    return m[:, _position(j, m.shape[1])]


def _shape_dim(x, axis):
    shape = np.shape(x)
    if len(shape) <= axis:
        raise ExprError(f"value has {len(shape)} dimension(s), not {axis + 1}")
    return float(shape[axis])



# ---- cnn (template team cnn): sliding-window helpers for convolution and pooling by hand.
# Plain NumPy on 2-D float arrays; sizes arrive as floats and must be whole numbers >= 1.


def _whole(value: Any, what: str, low: int = 1) -> int:
    number = float(value)
    if number != int(number) or number < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {number:g}")
    return int(number)


def _matrix(x: Any) -> np.ndarray:
    array = np.asarray(x, dtype=float)
    if array.ndim != 2:
        raise ValueError("expects a matrix")
    return array


def _pad(x, *amounts):
    """Zero padding: pad(X, p) on every side, pad(X, p_rows, p_cols), or pad(X, top, bottom, left, right)."""
    sides = [_whole(a, "padding", 0) for a in amounts]
    if len(sides) == 1:
        sides *= 4
    elif len(sides) == 2:
        sides = [sides[0], sides[0], sides[1], sides[1]]
    elif len(sides) != 4:
        raise ValueError("takes 1, 2 or 4 padding amounts")
    top, bottom, left, right = sides
    return np.pad(_matrix(x), ((top, bottom), (left, right)))


def _dilate(x, stride):
    """stride - 1 zeros inserted between neighbouring entries (rows and columns)."""
    x, s = _matrix(x), _whole(stride, "stride")
    out = np.zeros(((x.shape[0] - 1) * s + 1, (x.shape[1] - 1) * s + 1))
    out[::s, ::s] = x
    return out


def _windows(x, kernel_shape, stride):
    """The (rows, cols, kh, kw) windows of a valid sliding window with ``stride`` (floor: a window past the end is dropped)."""
    x, s = _matrix(x), _whole(stride, "stride")
    kh, kw = kernel_shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise ValueError(f"a {kh} x {kw} window does not fit a {x.shape[0]} x {x.shape[1]} input")
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw))[::s, ::s]


def _xcorr2d(x, kernel, stride=1):
    """Valid cross-correlation (what deep learning calls convolution): each output is the sum of a window times K."""
    k = _matrix(kernel)
    return np.einsum("ijab,ab->ij", _windows(x, k.shape, stride), k)


def _pool(reduce):
    def pool(x, size, stride):
        k = _whole(size, "window")
        return reduce(_windows(x, (k, k), stride))

    return pool


def _maxpool_route(x, grad, size, stride):
    """Max-pooling backward: each window's upstream gradient goes to the position of its (first) maximum."""
    k, s = _whole(size, "window"), _whole(stride, "stride")
    x, grad = _matrix(x), _matrix(grad)
    windows = _windows(x, (k, k), s)
    if windows.shape[:2] != grad.shape:
        raise ValueError(f"the gradient must be {windows.shape[0]} x {windows.shape[1]}, the pooled size")
    out = np.zeros_like(x)
    first = windows.reshape(*windows.shape[:2], -1).argmax(axis=-1)  # row-major order within the window
    for (i, j), index in np.ndenumerate(first):
        out[i * s + index // k, j * s + index % k] += grad[i, j]
    return out


def _cumulative(op):
    def run(v):
        array = np.asarray(v, dtype=float)
        if array.ndim != 1:
            raise ValueError("expects a vector")
        return op(array)

    return run

# ---- end cnn


FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # name: (function, min args, max args)
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "abs": (np.abs, 1, 1),
    "sign": (np.sign, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "ln": (np.log, 1, 1),
    "log2": (np.log2, 1, 1),
    "log10": (np.log10, 1, 1),
    "sin": (np.sin, 1, 1),
    "cos": (np.cos, 1, 1),
    "tan": (np.tan, 1, 1),
    "tanh": (np.tanh, 1, 1),
    "erf": (_erf, 1, 1),
    "sigmoid": (_sigmoid, 1, 1),
    "sigma": (_sigmoid, 1, 1),
    "σ": (_sigmoid, 1, 1),
    "relu": (lambda x: np.maximum(x, 0.0), 1, 1),
    "step": (lambda x: np.where(np.asarray(x) > 0, 1.0, 0.0), 1, 1),
    "leaky_relu": (lambda x, a=0.01: np.where(np.asarray(x) > 0, x, a * np.asarray(x)), 1, 2),
    "elu": (lambda x, a=1.0: np.where(np.asarray(x) > 0, x, a * np.expm1(np.minimum(x, 0))), 1, 2),
    "selu": (
        lambda x: SELU_LAMBDA * np.where(np.asarray(x) > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
        1,
        1,
    ),
    "gelu": (lambda x: 0.5 * np.asarray(x) * (1.0 + _erf(np.asarray(x) / math.sqrt(2.0))), 1, 1),
    "Phi": (lambda x: 0.5 * (1.0 + _erf(np.asarray(x) / math.sqrt(2.0))), 1, 1),
    "phi": (lambda x: np.exp(-0.5 * np.square(x)) / math.sqrt(2.0 * math.pi), 1, 1),
    "softplus": (lambda x: np.logaddexp(0.0, x), 1, 1),
    "softmax": (_softmax, 1, 1),
    "logsumexp": (lambda x: float(np.logaddexp.reduce(np.asarray(x, dtype=float))), 1, 1),
    "max": (_max, 1, 16),
    "min": (_min, 1, 16),
    "sum": (lambda x: np.sum(x), 1, 1),
    "prod": (lambda x: np.prod(x), 1, 1),
    "mean": (lambda x: np.mean(x), 1, 1),
    "var": (lambda x: np.var(x), 1, 1),  # population variance, as batch norm uses
    "std": (lambda x: np.std(x), 1, 1),
    "norm": (lambda x: np.linalg.norm(x), 1, 1),
    "dot": (lambda a, b: np.dot(a, b), 2, 2),
    "outer": (lambda a, b: np.outer(a, b), 2, 2),
    "transpose": (lambda a: np.transpose(a), 1, 1),
    "concat": (lambda *xs: np.concatenate([np.atleast_1d(x) for x in xs]), 1, 16),
    "argmax": (_argmax, 1, 1),
    "argmin": (_argmin, 1, 1),
    "row": (_row, 2, 2),
    "col": (_col, 2, 2),
    "len": (lambda x: _shape_dim(x, 0), 1, 1),
    "rows": (lambda x: _shape_dim(x, 0), 1, 1),
    "cols": (lambda x: _shape_dim(x, 1), 1, 1),
    "all": (lambda x: bool(np.all(x)), 1, 1),
    "any": (lambda x: bool(np.any(x)), 1, 1),
    "ifelse": (lambda c, a, b: np.where(c, a, b), 3, 3),
    "clip": (lambda x, lo, hi: np.clip(x, lo, hi), 3, 3),
    "diag": (lambda x: np.diag(x), 1, 1),
    "isint": (lambda x: bool(np.all(np.asarray(x) == np.round(x))), 1, 1),
    # additions: cnn
    "cumsum": (_cumulative(np.cumsum), 1, 1),  # running sums s_1, s_1 + s_2, ...
    "cumprod": (_cumulative(np.cumprod), 1, 1),  # running products s_1, s_1 s_2, ...
    # lag(v, first): each entry's predecessor, [first, v_1, ..., v_{n-1}] (a layer's input width)
    "lag": (lambda v, first: np.concatenate([[float(first)], _cumulative(lambda a: a)(v)[:-1]]), 2, 2),
    "pad": (_pad, 2, 5),  # zero padding: pad(X, p), pad(X, p_rows, p_cols), pad(X, top, bottom, left, right)
    "dilate": (_dilate, 2, 2),  # dilate(X, s): s - 1 zeros between entries (transposed convolution)
    "rot180": (lambda k: _matrix(k)[::-1, ::-1], 1, 1),  # the kernel flipped both ways
    "xcorr2d": (_xcorr2d, 2, 3),  # xcorr2d(X, K, s): valid cross-correlation with stride s
    "maxpool2d": (_pool(lambda w: w.max(axis=(-2, -1))), 3, 3),  # maxpool2d(X, k, s)
    "avgpool2d": (_pool(lambda w: w.mean(axis=(-2, -1))), 3, 3),  # avgpool2d(X, k, s)
    "l2pool2d": (_pool(lambda w: np.sqrt(np.square(w).sum(axis=(-2, -1)))), 3, 3),  # sqrt of the window's sum of squares
    "maxpool_route": (_maxpool_route, 4, 4),  # maxpool_route(X, G, k, s): max-pooling backward
    # additions: mlp
    # additions: optim
    # additions: rnn
    # additions: rl
    # additions: nlp
    # ngram_counts(x, n, V): table of n-gram counts (n = 1..3) of word ids 1..V (V <= 20) in the
    # sentence x, or in each row of a matrix x separately; entry [a, b] counts the bigram "a b".
    "ngram_counts": (
        lambda x, n, V: np.bincount(
            ((np.lib.stride_tricks.sliding_window_view(np.atleast_2d(x), int(n), axis=-1).reshape(-1, int(n)) - 1)
             @ (int(V) ** np.arange(int(n) - 1, -1, -1))).astype(int),
            minlength=int(V) ** int(n)
            if n in (1, 2, 3) and 1 <= V <= 20 and np.all((np.asarray(x) >= 1) & (np.asarray(x) <= V) & (np.asarray(x) % 1 == 0))
            else -1,  # bad arguments: a ValueError, reported as an expression error
        ).astype(float).reshape((int(V),) * int(n)),
        3,
        3,
    ),
    # additions: vision
    "round": (lambda x: np.rint(x), 1, 1),  # to nearest, halves to even (as torch.round / quantize_per_tensor)
    "sort": (lambda x: np.sort(np.asarray(x, dtype=float), axis=None), 1, 1),  # ascending; sort(d)[k] = k-th smallest
    "gamma": (np.vectorize(math.gamma, otypes=[float]), 1, 1),  # Euler's Gamma function, Γ(n + 1) = n!
}

def _checked(python_op: Callable[[Any, Any], Any], numpy_op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Python's operator (fast on floats, NumPy semantics on arrays); NumPy's on 1/0 and overflow."""

    def op(a: Any, b: Any) -> Any:
        try:
            return python_op(a, b)
        except (ZeroDivisionError, OverflowError):
            return numpy_op(np.float64(a), b)

    return op


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": _checked(operator.add, np.add),
    "-": _checked(operator.sub, np.subtract),
    "*": _checked(operator.mul, np.multiply),
    "/": _checked(operator.truediv, np.true_divide),
    "%": _checked(operator.mod, np.mod),
    # float_power: Python's ** makes (-8) ** (1/3) complex, and np.power wraps int64 around on overflow
    "^": np.float_power,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _matmul(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[0]:
        raise ExprError(f"cannot multiply shapes {a.shape} and {b.shape}")
    return a @ b


Compiled = Callable[[Mapping[str, Any]], Any]


def evaluate(node: Node, env: Mapping[str, Any] | None = None) -> Any:
    """Evaluate once (compiles the tree first); names resolve in ``env`` then to pi/e.

    See ``compile_node`` to evaluate many times.
    """
    with np.errstate(all="ignore"):
        return compile_node(node)(env or {})


def _compile_index(node: Node) -> Callable[[Mapping[str, Any], int], Any]:
    """A position (1-based) or a range ``a:b`` (both included) along an axis of ``size``."""
    if isinstance(node, Slice):
        start, stop = compile_node(node.start), compile_node(node.stop)

        def span(env: Mapping[str, Any], size: int) -> slice:
            first, last = _position(start(env), size), _position(stop(env), size)
            if last < first:
                raise ExprError(f"range {first + 1}:{last + 1} is empty")
            return slice(first, last + 1)

        return span
    position = compile_node(node)
    return lambda env, size: _position(position(env), size)


def compile_node(node: Node) -> Compiled:
    """Turn the tree into nested closures once, so repeated evaluation skips the dispatch.

    The closures only look up names in ``env`` and call whitelisted functions;
    callers wrap runs in ``np.errstate(all="ignore")`` so overflow gives inf/nan.
    """
    if isinstance(node, Num):
        value = node.value
        return lambda env: value
    if isinstance(node, Name):
        name = node.id
        constant = CONSTANTS.get(name)

        def lookup(env: Mapping[str, Any]) -> Any:
            try:
                return env[name]
            except KeyError:
                if constant is None:
                    raise ExprError(f"unknown name {name!r}") from None
                return constant

        return lookup
    if isinstance(node, Group):
        return compile_node(node.inner)
    if isinstance(node, Binary):
        left, right = compile_node(node.left), compile_node(node.right)
        if node.op == "and":
            return lambda env: _truth(left(env)) and _truth(right(env))
        if node.op == "or":
            return lambda env: _truth(left(env)) or _truth(right(env))
        if node.op == "@":
            return lambda env: _matmul(left(env), right(env))
        op, symbol = _BINARY[node.op], node.op

        def binary(env: Mapping[str, Any]) -> Any:
            a, b = left(env), right(env)
            try:
                return op(a, b)
            except (ValueError, TypeError) as exc:  # mismatched shapes, or a word where a number belongs
                raise ExprError(f"cannot apply {symbol!r} to {_short(a)} and {_short(b)}: {exc}") from None

        return binary
    if isinstance(node, Unary):
        operand = compile_node(node.operand)
        if node.op == "-":
            return lambda env: -_as_number(operand(env))
        if node.op == "+":
            return lambda env: _as_number(operand(env))
        if node.op == "not":
            return lambda env: not _truth(operand(env))
        return lambda env: np.transpose(operand(env))
    if isinstance(node, Call):
        entry = FUNCTIONS.get(node.func)
        if entry is None:
            raise ExprError(f"unknown function {node.func!r}")
        func, lo, hi = entry
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ExprError(f"{node.func}() takes {want} argument(s), got {len(node.args)}")
        args = [compile_node(a) for a in node.args]
        name = node.func

        def call(env: Mapping[str, Any]) -> Any:
            try:
                return func(*[a(env) for a in args])
            except (ValueError, TypeError, IndexError, ArithmeticError) as exc:
                raise ExprError(f"{name}(): {exc}") from None

        return call
    if isinstance(node, Index):
        target = compile_node(node.target)
        indices = [_compile_index(i) for i in node.indices]

        def index(env: Mapping[str, Any]) -> Any:
            array = np.asarray(target(env))
            if len(indices) != array.ndim:
                raise ExprError(f"value has {array.ndim} dimension(s) but {len(indices)} index(es) were given")
            return array[tuple(i(env, size) for i, size in zip(indices, array.shape))]

        return index
    if isinstance(node, Array):
        items = [compile_node(item) for item in node.items]

        def array(env: Mapping[str, Any]) -> Any:
            try:
                return np.array([item(env) for item in items], dtype=float)
            except ValueError:
                raise ExprError("rows of a matrix must have the same length") from None

        return array
    raise TypeError(f"not an expression node: {node!r}")


def _truth(value: Any) -> bool:
    if np.ndim(value) != 0:
        raise ExprError("a condition on a vector or matrix needs all(...) or any(...)")
    return bool(value)


def _short(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float)) else f"an array of shape {np.shape(value)}"


def finite(value: Any) -> bool:
    """No inf or nan anywhere (fast for plain numbers)."""
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


def _as_number(value: Any) -> Any:
    if isinstance(value, str):
        raise ExprError(f"{value!r} is a word, not a number")
    return value
