"""The whitelist of functions an expression may call, and the AST evaluator.

Every function here is a plain NumPy computation on floats or arrays.  Indices
are 1-based, as in the course notes (x_1 is the first entry).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable, Mapping

import numpy as np

from dlstudy import limits
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
    "outer": (lambda a, b: _outer(a, b), 2, 2),
    "transpose": (lambda a: np.transpose(a), 1, 1),
    "concat": (lambda *xs: _concat(*xs), 1, 16),
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
    "diag": (lambda x: _diag(x), 1, 1),
    "isint": (lambda x: bool(np.all(np.asarray(x) == np.round(x))), 1, 1),
    # additions: cnn
    # additions: mlp
    # additions: optim
    # additions: rnn
    # CTC (Graves et al. 2006): merge_repeats(x) keeps the first of each run of equal entries; drop(x, v) removes
    # every entry equal to v; ctc_extend(l, b) puts the blank b around every label (2U + 1 entries);
    # shift(v, k) moves v k places to the right, zeros coming in (the alpha recursion's alpha_{t-1}(s - k))
    "merge_repeats": (lambda x: _merge_repeats(x), 1, 1),
    "drop": (lambda x, v: np.asarray(x, dtype=float).reshape(-1)[np.asarray(x, dtype=float).reshape(-1) != v], 2, 2),
    "ctc_extend": (lambda l, b: np.insert(np.atleast_1d(np.asarray(l, dtype=float)), np.arange(np.size(l) + 1), float(b)), 2, 2),
    "shift": (lambda v, k: _shift(v, k), 2, 2),
    # additions: rl
    # additions: nlp
    # ngram_counts(x, n, V): table of n-gram counts (n = 1..4) of word ids 1..V (V^n <= 10^6) in the
    # sentence x, or in each row of a matrix x separately; entry [a, b] counts the bigram "a b".
    "ngram_counts": (
        lambda x, n, V: np.bincount(
            ((np.lib.stride_tricks.sliding_window_view(np.atleast_2d(x), int(n), axis=-1).reshape(-1, int(n)) - 1)
             @ (int(V) ** np.arange(int(n) - 1, -1, -1))).astype(int),
            minlength=int(V) ** int(n)
            if n in (1, 2, 3, 4) and 1 <= V and V ** n <= 10**6 and np.all((np.asarray(x) >= 1) & (np.asarray(x) <= V) & (np.asarray(x) % 1 == 0))
            else -1,  # bad arguments: a ValueError, reported as an expression error
        ).astype(float).reshape((int(V),) * int(n)),
        3,
        3,
    ),
    # onehot(x, V): the one-hot rows of word ids x (1..V): entry [t, w] is 1 where x_t = w, so that
    # onehot(q, V) @ counts picks each word's count and onehot(a, V) @ B @ onehot(b, V)' the bigram counts.
    "onehot": (lambda x, V: (np.atleast_1d(np.asarray(x, dtype=float))[:, None] == np.arange(1, int(V) + 1)).astype(float), 2, 2),
    # ngram_matches(x, R, N): BLEU's clipped n-gram matches of the sentence x (word ids) against the rows of R
    # (one reference per row, 0 after its end), for n = 1..N: the sum over x's n-grams g of
    # min(count of g in x, the most times g occurs in one row of R); ngram_matches(x, R, N, 0) does not clip
    # (each n-gram of x found in some row counts every time it occurs in x).
    "ngram_matches": (lambda x, R, N, clipped=1: _ngram_matches(x, R, N, bool(clipped)), 3, 4),
    # lengths(R): the number of words in each row of R (the entries before its 0 padding)
    "lengths": (lambda R: np.count_nonzero(np.atleast_2d(R), axis=-1).astype(float), 1, 1),
    # with_rest(P): a probability vector given without its last entry, completed with 1 - sum (a matrix: each row)
    "with_rest": (lambda P: np.concatenate([np.asarray(P, dtype=float), 1.0 - np.sum(P, axis=-1, keepdims=True)], axis=-1), 1, 1),
    # topk(v, k) / argtopk(v, k): the k largest entries of v, largest first, and their 1-based positions (a matrix
    # is read row by row: position (i - 1)·cols + j); equal entries keep their order, as a stable sort (all of v if
    # it has fewer than k entries)
    "topk": (lambda v, k: np.asarray(v, dtype=float).reshape(-1)[_top_positions(v, k)], 2, 2),
    "argtopk": (lambda v, k: _top_positions(v, k) + 1.0, 2, 2),
    # rowmax(M): the largest entry of each row
    "rowmax": (lambda M: np.max(np.atleast_2d(M), axis=-1), 1, 1),
    # BPE (Sennrich et al. 2016) on words spelled as symbol ids, one word per row of width L flattened into one
    # vector (0 after a word's end): bpe_pair(s, c, L) is [a, b, count, runner-up count] of the most frequent
    # adjacent pair, each word counted c times (ties: the pair seen first, word by word, left to right);
    # bpe_merge(s, a, b, new, L) replaces each a b by the symbol new, left to right
    "bpe_pair": (lambda s, c, L: _bpe_pair(s, c, L), 3, 3),
    "bpe_merge": (lambda s, a, b, new, L: _bpe_merge(s, a, b, new, L), 5, 5),
    # flatten(M): the entries row by row; reshape(x, r, c): the entries of x as an r x c matrix, row by row
    "flatten": (lambda M: np.asarray(M, dtype=float).reshape(-1), 1, 1),
    "reshape": (lambda x, r, c: np.asarray(x, dtype=float).reshape(int(r), int(c)), 3, 3),
    # additions: attention
    # causal_mask(n): the n x n matrix with 1 above the diagonal (key k after query t), 0 elsewhere
    "causal_mask": (lambda n: np.triu(np.ones((int(n), int(n))), 1) if 1 <= n <= 4096 else np.ones(-1), 1, 1),
    # additions: vision
    "round": (lambda x: np.rint(x), 1, 1),  # to nearest, halves to even (as torch.round / quantize_per_tensor)
    "sort": (lambda x: np.sort(np.asarray(x, dtype=float), axis=None), 1, 1),  # ascending; sort(d)[k] = k-th smallest
    "gamma": (np.vectorize(math.gamma, otypes=[float]), 1, 1),  # Euler's Gamma function, Γ(n + 1) = n!
}

def _merge_repeats(x: Any) -> np.ndarray:
    flat = np.asarray(x, dtype=float).reshape(-1)
    keep = np.ones(flat.size, dtype=bool)
    keep[1:] = flat[1:] != flat[:-1]
    return flat[keep]


def _shift(v: Any, k: Any) -> np.ndarray:
    flat = np.asarray(v, dtype=float).reshape(-1)
    if not float(k).is_integer() or k < 0:
        raise ValueError(f"shift by a whole number >= 0, not {k:g}")
    k = min(int(k), flat.size)
    return np.concatenate([np.zeros(k), flat[: flat.size - k]])


def _bpe_words(s: Any, L: Any) -> list[list[float]]:
    flat = np.asarray(s, dtype=float).reshape(-1)
    if not float(L).is_integer() or L < 1 or flat.size % int(L):
        raise ValueError(f"a vector of {flat.size} entries is not rows of {L:g}")
    return [[v for v in row if v != 0] for row in flat.reshape(-1, int(L))]


def _bpe_pair(s: Any, c: Any, L: Any) -> np.ndarray:
    counts: dict[tuple[float, float], float] = {}  # insertion order: the pair seen first wins a tie
    for word, weight in zip(_bpe_words(s, L), np.atleast_1d(np.asarray(c, dtype=float))):
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0.0) + float(weight)
    if not counts:
        raise ValueError("no adjacent pair is left to merge")
    best = max(counts, key=lambda pair: counts[pair])
    others = [n for pair, n in counts.items() if pair != best]
    return np.array([best[0], best[1], counts[best], max(others, default=0.0)])


def _bpe_merge(s: Any, a: Any, b: Any, new: Any, L: Any) -> np.ndarray:
    rows = []
    for word in _bpe_words(s, L):
        merged: list[float] = []
        i = 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                merged.append(float(new))
                i += 2
            else:
                merged.append(word[i])
                i += 1
        rows.append(merged + [0.0] * (int(L) - len(merged)))
    return np.array(rows).reshape(-1)


def _top_positions(v: Any, k: Any) -> np.ndarray:
    flat = np.asarray(v, dtype=float).reshape(-1)
    if not float(k).is_integer() or k < 1:
        raise ValueError(f"k must be a whole number >= 1, not {k:g}")
    return np.argsort(-flat, kind="stable")[: int(k)]


def _ngram_matches(x: Any, R: Any, N: Any, clipped: bool) -> np.ndarray:
    """BLEU's modified n-gram precision numerators for n = 1..N (Papineni et al. 2002, sec. 2.1), with NumPy:
    the distinct n-grams of x as rows (np.unique), their counts in x and in each reference's windows."""
    x = np.asarray(x, dtype=float).reshape(-1)
    R = np.atleast_2d(np.asarray(R, dtype=float))
    if not (float(N).is_integer() and 1 <= N <= 9) or R.ndim != 2 or not np.all(x % 1 == 0) or not np.all(R % 1 == 0):
        raise ValueError("ngram_matches(x, R, N) takes word ids x, a matrix R of them (0 = padding) and N = 1..9")
    _check_elements(x.size * R.size * int(N))
    references = [row[: np.count_nonzero(row)] for row in R]
    matches = []
    for n in range(1, int(N) + 1):
        if x.size < n:
            matches.append(0.0)  # no n-grams of this order
            continue
        grams, in_x = np.unique(np.lib.stride_tricks.sliding_window_view(x, n), axis=0, return_counts=True)
        most = np.zeros(len(grams))
        for reference in references:
            if reference.size >= n:
                windows = np.lib.stride_tricks.sliding_window_view(reference, n)
                most = np.maximum(most, (grams[:, None, :] == windows[None, :, :]).all(axis=-1).sum(axis=1))
        matches.append(float(np.minimum(in_x, most).sum() if clipped else in_x[most > 0].sum()))
    return np.array(matches)


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
        _check_broadcast(a, b)
        return a * b
    if a.shape[-1] != b.shape[0]:
        raise ExprError(f"cannot multiply shapes {a.shape} and {b.shape}")
    _check_elements(math.prod(a.shape[:-1]) * math.prod(b.shape[1:]))
    return a @ b


def _check_elements(count: int) -> None:
    """Refuse, before allocating it, an array larger than limits.MAX_ARRAY_ELEMENTS."""
    if count > limits.MAX_ARRAY_ELEMENTS:
        raise ExprError(f"the result would have {count:.3g} entries; the limit is {limits.MAX_ARRAY_ELEMENTS:.0e}")


def _check_broadcast(a: Any, b: Any) -> None:
    shape_a, shape_b = getattr(a, "shape", ()), getattr(b, "shape", ())
    if shape_a and shape_b and shape_a != shape_b:
        try:
            _check_elements(math.prod(np.broadcast_shapes(shape_a, shape_b)))
        except ValueError:
            pass  # shapes that don't broadcast: the operation reports it


def _outer(a, b):
    _check_elements(np.size(a) * np.size(b))
    return np.outer(a, b)


def _diag(x):
    if np.ndim(x) == 1:
        _check_elements(np.size(x) ** 2)
    return np.diag(x)


def _concat(*xs):
    _check_elements(sum(np.size(x) for x in xs))
    return np.concatenate([np.atleast_1d(x) for x in xs])


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
            if type(a) is not float and type(b) is not float:
                _check_broadcast(a, b)
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
            values = [item(env) for item in items]
            _check_elements(sum(np.size(v) for v in values))
            try:
                return np.array(values, dtype=float)
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
