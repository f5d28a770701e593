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


def _onehot(c: Any, size: Any) -> np.ndarray:
    """``onehot(c, K)``: length K, 1 at position c; for a vector of positions, one such row per entry."""
    n = int(size) if float(size) == int(size) and 1 <= float(size) <= 10**6 else -1
    if n < 1:
        raise ExprError(f"onehot(): the length must be a whole number from 1, got {format(float(size), 'g')}")
    if np.ndim(c) == 0:
        vector = np.zeros(n)
        vector[_position(c, n)] = 1.0
        return vector
    positions = [_position(x, n) for x in np.asarray(c, dtype=float).reshape(-1)]
    _check_elements(len(positions) * n)
    table = np.zeros((len(positions), n))
    table[np.arange(len(positions)), positions] = 1.0
    return table


def _inverse(m: Any) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ExprError(f"inv(): needs a square matrix, got shape {m.shape}")
    try:
        return np.linalg.inv(m)
    except np.linalg.LinAlgError:
        raise ExprError("inv(): the matrix is singular") from None


def _positive_definite(m: Any) -> bool:
    m = np.asarray(m, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.array_equal(m, m.T):
        return False
    try:
        np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return False
    return True
# -- optim block: statistics along an axis (batch / layer / instance / group norm, feature scaling)


def _group_count(k) -> int:
    value = float(k)
    if value != int(value) or not 1 <= value <= 10**6:
        raise ExprError(f"a count must be a whole number from 1 to 10^6, not {format(value, 'g')}")
    return int(value)


def _group_stat(stat, m, groups) -> np.ndarray:
    """``stat`` over each of ``groups`` consecutive blocks of rows (every column of them)."""
    m = _matrix(m)
    count = _group_count(groups)
    if m.shape[0] % count:
        raise ExprError(f"{count} groups do not split {m.shape[0]} rows evenly")
    return stat(m.reshape(count, -1), axis=1)

# ---- cnn (template team cnn): sliding-window helpers for convolution and pooling by hand.
# Plain NumPy on 2-D float arrays; sizes arrive as floats and must be whole numbers >= 1.


def _whole(value: Any, what: str, low: int = 1) -> int:
    number = float(value)
    if number != int(number) or number < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {number:g}")
    return int(number)


def _image(x: Any) -> np.ndarray:
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
    return np.pad(_image(x), ((top, bottom), (left, right)))


def _dilate(x, stride):
    """stride - 1 zeros inserted between neighbouring entries (rows and columns)."""
    x, s = _image(x), _whole(stride, "stride")
    out = np.zeros(((x.shape[0] - 1) * s + 1, (x.shape[1] - 1) * s + 1))
    out[::s, ::s] = x
    return out


def _windows(x, kernel_shape, stride):
    """The (rows, cols, kh, kw) windows of a valid sliding window with ``stride`` (floor: a window past the end is dropped)."""
    x, s = _image(x), _whole(stride, "stride")
    kh, kw = kernel_shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise ValueError(f"a {kh} x {kw} window does not fit a {x.shape[0]} x {x.shape[1]} input")
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw))[::s, ::s]


def _xcorr2d(x, kernel, stride=1):
    """Valid cross-correlation (what deep learning calls convolution): each output is the sum of a window times K."""
    k = _image(kernel)
    return np.einsum("ijab,ab->ij", _windows(x, k.shape, stride), k)


def _pool(reduce):
    def pool(x, size, stride):
        k = _whole(size, "window")
        return reduce(_windows(x, (k, k), stride))

    return pool


def _maxpool_route(x, grad, size, stride):
    """Max-pooling backward: each window's upstream gradient goes to the position of its (first) maximum."""
    k, s = _whole(size, "window"), _whole(stride, "stride")
    x, grad = _image(x), _image(grad)
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
    # onehot(c, K): the one-hot vector of length K with a 1 at position c (1-based).
    "onehot": (lambda c, K: _onehot(c, K), 2, 2),
    # additions: foundations
    # inv(M): the inverse of a square matrix (a singular one is an error, not inf).
    "inv": (lambda m: _inverse(m), 1, 1),
    # posdef(M): true when M is symmetric and positive definite (a covariance matrix), for constraints.
    "posdef": (lambda m: _positive_definite(m), 1, 1),
    # additions: optim
    # additions: optim (optimization, regularization, normalization, initialization, activations)
    # Statistics along one axis of a matrix, for batch/layer/instance/group norm and feature scaling:
    # colmean(X)[j] is the mean of column j (over the rows), rowmean(X)[i] the mean of row i; the
    # variances are population variances (divide by the count), as batch norm normalises with.
    "colmean": (lambda m: np.mean(_matrix(m), axis=0), 1, 1),
    "colvar": (lambda m: np.var(_matrix(m), axis=0), 1, 1),
    "colmin": (lambda m: np.min(_matrix(m), axis=0), 1, 1),
    "colmax": (lambda m: np.max(_matrix(m), axis=0), 1, 1),
    "rowmean": (lambda m: np.mean(_matrix(m), axis=1), 1, 1),
    "rowvar": (lambda m: np.var(_matrix(m), axis=1), 1, 1),
    "colsum": (lambda m: np.sum(_matrix(m), axis=0), 1, 1),
    # groupmean(X, G): the rows of X (channels x positions) split into G consecutive groups of equal size;
    # one mean (variance) over every entry of each group, GroupNorm's statistics.
    "groupmean": (lambda m, g: _group_stat(np.mean, m, g), 2, 2),
    "groupvar": (lambda m, g: _group_stat(np.var, m, g), 2, 2),
    # repeat(v, k): each entry of v k times in a row, [a, b] -> [a, a, b, b] (a group's statistic per channel)
    "repeat": (lambda v, k: np.repeat(np.atleast_1d(np.asarray(v, dtype=float)), _group_count(k)), 2, 2),
    # additions: rnn
    # additions: rl (also the gnn and theory templates; helpers at the end of the file)
    # Tables of a tabular MDP: P is (S*A) x S with row (s - 1)A + a, Q and R are S x A.
    "reshape": (lambda x, r, c: _reshape(x, r, c), 3, 3),  # row by row, as numpy's default order
    "eye": (lambda n: np.eye(_count(n, "eye")), 1, 1),
    "ones": (lambda n: np.ones(_count(n, "ones")), 1, 1),
    "seq": (lambda n: np.arange(1.0, _count(n, "seq") + 1), 1, 1),  # [1, 2, ..., n]
    "cumsum": (lambda x: np.cumsum(np.asarray(x, dtype=float), axis=-1), 1, 1),
    "rowsum": (lambda m: np.sum(_matrix(m), axis=1), 1, 1),
    "rowmax": (lambda m: np.max(_matrix(m), axis=1), 1, 1),
    "rowargmax": (lambda m: np.argmax(_matrix(m), axis=1) + 1.0, 1, 1),  # 1-based; the first on ties
    "gather": (lambda m, j: _gather(m, j), 2, 2),  # [M[1, j_1], M[2, j_2], ...], 1-based
    "take": (lambda x, j: _take(x, j), 2, 2),  # [x[j_1], x[j_2], ...], 1-based
    "det": (lambda m: float(np.linalg.det(_square(m))), 1, 1),
    "matpow": (lambda m, k: np.linalg.matrix_power(_square(m), _count(k, "matpow", 0)), 2, 2),
    "eigvals": (lambda m: _eigen(m)[0], 1, 1),  # of a symmetric matrix, largest first
    "eigvec": (lambda m, k: _eigen(m)[1][:, _position(k, np.shape(m)[0])], 2, 2),  # k-th, largest entry positive
    "svdvals": (lambda m: np.linalg.svd(_matrix(m), compute_uv=False), 1, 1),  # largest first
    "nbmax": (lambda a, h: _neighbour_max(a, h), 2, 2),
    "hstack": (lambda *ms: np.hstack([np.atleast_2d(_matrix(m)) for m in ms]), 2, 8),  # matrices side by side  # row i: entry-wise max of h_j over j with a_ij != 0
    "gridworld": (lambda *args: _gridworld(*args), 11, 11),
    # gnn: the undirected graph given by an adjacency matrix, node-pair flags and/or an edge list (their union)
    "graph_adjacency": (lambda n, a, e, edges: _graph_adjacency(n, a, e, edges), 4, 4),
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
    # BPE (Sennrich et al. 2016) on words spelled as symbol ids, one word per row of width L flattened into one
    # vector (0 after a word's end): bpe_pair(s, c, L) is [a, b, count, runner-up count] of the most frequent
    # adjacent pair, each word counted c times (ties: the pair seen first, word by word, left to right);
    # bpe_merge(s, a, b, new, L) replaces each a b by the symbol new, left to right
    "bpe_pair": (lambda s, c, L: _bpe_pair(s, c, L), 3, 3),
    "bpe_merge": (lambda s, a, b, new, L: _bpe_merge(s, a, b, new, L), 5, 5),
    # flatten(M): the entries row by row; reshape(x, r, c): the entries of x as an r x c matrix, row by row
    "flatten": (lambda M: np.asarray(M, dtype=float).reshape(-1), 1, 1),
    # additions: attention
    # causal_mask(n): the n x n matrix with 1 above the diagonal (key k after query t), 0 elsewhere
    "causal_mask": (lambda n: np.triu(np.ones((int(n), int(n))), 1) if 1 <= n <= 4096 else np.ones(-1), 1, 1),
    # additions: vision
    "round": (lambda x: np.rint(x), 1, 1),  # to nearest, halves to even (as torch.round / quantize_per_tensor)
    "sort": (lambda x: np.sort(np.asarray(x, dtype=float), axis=None), 1, 1),  # ascending; sort(d)[k] = k-th smallest
    "gamma": (np.vectorize(math.gamma, otypes=[float]), 1, 1),  # Euler's Gamma function, Γ(n + 1) = n!
}

# ---------------------------------------------------------------------------
# additions: losses, generative, vision (template team t-gen)
#
# Plain NumPy helpers for losses over any number of classes, ranked-list metrics (AP), segmentation
# masks, contrastive similarities, box overlaps and greedy NMS.  Each refuses arguments that would
# allocate more than the work limit (students' answers can call them too).

def _whole_in(value: Any, low: int, high: int, what: str) -> int:
    number = float(value)
    if number != int(number) or not low <= number <= high:
        raise ExprError(f"{what} must be a whole number in {low}..{high}, got {format(number, 'g')}")
    return int(number)


def _flat(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=float).reshape(-1)


def _basis(c: Any, k: Any) -> np.ndarray:
    """The basis vector e_c of length K (1-based c): the one-hot vector of class c, as a vector."""
    size = _whole_in(k, 1, limits.MAX_ARRAY_ELEMENTS, "basis's length K")
    out = np.zeros(size)
    out[_whole_in(c, 1, size, "basis's entry c") - 1] = 1.0
    return out


def _increments(v: Any) -> np.ndarray:
    """v_k - v_(k-1) with v_0 = 0: the first entry is kept (recall gained at each rank)."""
    flat = _flat(v)
    return np.diff(flat, prepend=0.0)


def _suffix_max(v: Any) -> np.ndarray:
    """Entry k is the largest of v_k, v_(k+1), ...: interpolated precision, max over recalls >= r_k."""
    return np.maximum.accumulate(_flat(v)[::-1])[::-1].copy()


def _cosine(a: Any, b: Any) -> Any:
    """Cosine similarities of the rows of A with the rows of B (a matrix); of two vectors, a number."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    vectors = a.ndim == 1 and b.ndim == 1
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if a.shape[1] != b.shape[1]:
        raise ExprError(f"cosine needs rows of the same length, got {a.shape[1]} and {b.shape[1]}")
    if a.shape[0] * b.shape[0] > limits.MAX_ARRAY_ELEMENTS:
        raise ExprError("cosine: too many pairs of rows")
    norms = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
    out = (a @ b.T) / norms  # a zero row gives nan: no direction, no cosine
    return float(out[0, 0]) if vectors else out


def _confusion(truth: Any, predicted: Any, classes: Any) -> np.ndarray:
    """C x C counts: entry [i, j] counts the pixels of true class i - 1 predicted as class j - 1 (ids 0..C-1)."""
    size = _whole_in(classes, 1, 1000, "the number of classes C")
    t, p = _flat(truth), _flat(predicted)
    if t.shape != p.shape:
        raise ExprError(f"confusion needs masks of the same size, got {np.shape(truth)} and {np.shape(predicted)}")
    for ids in (t, p):
        if not np.all((ids == np.round(ids)) & (ids >= 0) & (ids < size)):
            raise ExprError(f"class ids must be whole numbers 0..{size - 1}")
    return np.bincount((t * size + p).astype(int), minlength=size * size).reshape(size, size).astype(float)


def _rowsums(m: Any) -> np.ndarray:
    return np.atleast_2d(np.asarray(m, dtype=float)).sum(axis=1)


def _box_iou(x1: Any, y1: Any, x2: Any, y2: Any) -> np.ndarray:
    """n x n IoUs of boxes (x1_i, y1_i, x2_i, y2_i) from their corners."""
    x1, y1, x2, y2 = np.broadcast_arrays(_flat(x1), _flat(y1), _flat(x2), _flat(y2))
    if len(x1) > 1000:
        raise ExprError("boxiou: at most 1000 boxes")
    width = np.clip(np.minimum.outer(x2, x2) - np.maximum.outer(x1, x1), 0.0, None)
    height = np.clip(np.minimum.outer(y2, y2) - np.maximum.outer(y1, y1), 0.0, None)
    inter = width * height
    area = (x2 - x1) * (y2 - y1)
    return inter / (area[:, None] + area[None, :] - inter)


def _order_desc(s: Any) -> np.ndarray:
    """Box numbers (1-based) by decreasing score; equal scores keep their order."""
    return np.argsort(-_flat(s), kind="stable").astype(float) + 1.0


def _greedy_nms(s: Any, iou: Any, t: Any, every: Any = 0.0) -> np.ndarray:
    """0/1 kept flags of greedy NMS: best score first; a box is dropped when its IoU with a kept box is > t.

    every = 1 lets discarded boxes suppress too (a common slip, for mistake formulas)."""
    scores, overlap = _flat(s), np.asarray(iou, dtype=float)
    n = len(scores)
    if overlap.shape != (n, n) or n > 1000:
        raise ExprError(f"nms needs n scores and an n x n IoU matrix (n <= 1000), got {n} and {overlap.shape}")
    keep = np.zeros(n)
    suppressors: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if all(overlap[i, j] <= float(t) for j in suppressors):
            keep[i] = 1.0
            suppressors.append(int(i))
        elif float(every):
            suppressors.append(int(i))
    return keep


LOSSES_GENERATIVE_VISION_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "basis": (_basis, 2, 2),
    "diff": (_increments, 1, 1),
    "suffixmax": (_suffix_max, 1, 1),
    "cosine": (_cosine, 2, 2),
    "confusion": (_confusion, 3, 3),
    "rowsums": (_rowsums, 1, 1),
    "vec": (_flat, 1, 1),  # the entries row by row, as one vector
    "boxiou": (_box_iou, 4, 4),
    "ranking": (_order_desc, 1, 1),
    "nms": (_greedy_nms, 3, 4),
}
_clash = set(LOSSES_GENERATIVE_VISION_FUNCTIONS) & set(FUNCTIONS)
assert not _clash, f"function names defined twice: {_clash}"  # a later block must never replace an earlier one
FUNCTIONS.update(LOSSES_GENERATIVE_VISION_FUNCTIONS)
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


# ---------------------------------------------------------------------------
# additions: rl (helpers of the functions above)

MAX_TABLE = 10**6  # entries a reshape/eye/seq may make (the templates' costs stay far below)


def _count(n: Any, name: str, low: int = 1) -> int:
    value = float(n)
    if value != int(value) or not low <= value <= MAX_TABLE:
        raise ExprError(f"{name}() needs a whole number from {low} to {MAX_TABLE}, got {format(value, 'g')}")
    return int(value)


def _matrix(m: Any) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    if m.ndim != 2:
        raise ExprError(f"expected a matrix, got a value of shape {m.shape}")
    return m


def _square(m: Any) -> np.ndarray:
    m = _matrix(m)
    if m.shape[0] != m.shape[1]:
        raise ExprError(f"expected a square matrix, got shape {m.shape}")
    return m


def _reshape(x: Any, r: Any, c: Any) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    rows, cols = _count(r, "reshape"), _count(c, "reshape")
    if x.size != rows * cols:
        raise ExprError(f"cannot arrange {x.size} entries as {rows} x {cols}")
    return x.reshape(rows, cols)


def _positions(j: Any, size: int) -> np.ndarray:
    j = np.atleast_1d(np.asarray(j, dtype=float))
    if np.any(j != np.round(j)) or np.any(j < 1) or np.any(j > size):
        raise ExprError(f"indices must be whole numbers from 1 to {size}")
    return j.astype(int) - 1


def _gather(m: Any, j: Any) -> np.ndarray:
    m = _matrix(m)
    index = _positions(j, m.shape[1])
    if len(index) != m.shape[0]:
        raise ExprError(f"gather() needs one index per row: {m.shape[0]} rows, {len(index)} indices")
    return m[np.arange(m.shape[0]), index]


def _take(x: Any, j: Any) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ExprError("take() picks entries of a vector")
    return x[_positions(j, len(x))]


def _eigen(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and unit eigenvectors (columns) of a symmetric matrix; each eigenvector's
    sign makes its largest-magnitude entry positive (the first such entry on ties), so the key is unique."""
    m = _square(m)
    if not np.allclose(m, m.T):
        raise ExprError("eigvals()/eigvec() need a symmetric matrix")
    values, vectors = np.linalg.eigh(m)
    values, vectors = values[::-1], vectors[:, ::-1]
    lead = vectors[np.argmax(np.abs(vectors) - 1e-12 * np.arange(len(m))[:, None], axis=0), np.arange(len(m))]
    return values, vectors * np.where(lead < 0, -1.0, 1.0)


def _neighbour_max(a: Any, h: Any) -> np.ndarray:
    a, h = _square(a), np.asarray(h, dtype=float)
    if h.ndim == 1:
        h = h[:, None]
    if h.shape[0] != a.shape[0]:
        raise ExprError(f"nbmax() needs one feature row per node: {a.shape[0]} nodes, {h.shape[0]} rows")
    masked = np.where(a[:, :, None] != 0, h[None, :, :], -np.inf)
    best = masked.max(axis=1)
    return np.where(np.isfinite(best), best, 0.0)  # a node without neighbours gets 0, as PyTorch Geometric


def _graph_adjacency(n: Any, a: Any, e: Any, edges: Any) -> np.ndarray:
    """The symmetric 0/1 adjacency of the union of: the matrix ``a`` (n x n), the flags ``e`` of the node
    pairs (1,2), (1,3), ..., (1,n), (2,3), ... (upper triangle row by row) and the edge list ``edges``
    (rows i, j; a row [0, 0] is no edge). The diagonal is always 0."""
    n = _count(n, "graph_adjacency")
    adjacency = (_square(a) != 0).astype(float)
    if adjacency.shape[0] != n:
        raise ExprError(f"graph_adjacency() needs an {n} x {n} matrix")
    upper = np.zeros((n, n))
    flags = np.atleast_1d(np.asarray(e, dtype=float))
    if len(flags) != n * (n - 1) // 2:
        raise ExprError(f"graph_adjacency() needs {n * (n - 1) // 2} pair flags")
    upper[np.triu_indices(n, 1)] = flags != 0
    listed = np.zeros((n, n))
    pairs = np.atleast_2d(np.asarray(edges, dtype=float))
    pairs = pairs[np.any(pairs != 0, axis=1)]
    if len(pairs):
        i, j = _positions(pairs[:, 0], n), _positions(pairs[:, 1], n)
        listed[i, j] = 1.0
    union = np.maximum.reduce([adjacency, upper, listed])
    union = np.maximum(union, union.T)
    np.fill_diagonal(union, 0.0)  # a node's own loop is the layer's business (A + I), not the graph's
    return union


# Gridworld moves in the order up, right, down, left; a slip turns the move 90 degrees either way.
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


def _gridworld(rows, cols, walls, terminals, payoffs, step, slip, gamma, sweeps, payoff_as_value, in_place):
    """Value iteration on a gridworld, in matrix form: the tabular MDP P[(s, a), s'] built from the grid, then
    ``sweeps`` sweeps of V(s) = max_a sum_s' P(s' | s, a) (reward + gamma V(s')), from V = 0.

    Cells are numbered row by row from 1; a wall cell number of 0 means no wall. Moving off the grid or into a
    wall leaves the agent where it is. Terminal cells end the episode: entering one earns the step reward
    plus its payoff, and it is worth 0 afterwards (``payoff_as_value`` = 0); or it is worth its payoff as a
    value (``payoff_as_value`` = 1, the Russell & Norvig convention, where the payoff is discounted like any
    next value). ``in_place`` = 1 sweeps the cells row by row using the values already updated in this sweep.
    Walls show 0.
    """
    rows, cols = _count(rows, "gridworld"), _count(cols, "gridworld")
    n = rows * cols
    if n > 400:
        raise ExprError("gridworld() takes at most 400 cells")
    sweeps = _count(sweeps, "gridworld", 0)
    wall = np.zeros(n, dtype=bool)
    wall[_positions([w for w in np.atleast_1d(walls) if w != 0], n)] = True
    term_cells = _positions(terminals, n)
    payoffs = np.atleast_1d(np.asarray(payoffs, dtype=float))
    if len(payoffs) != len(term_cells):
        raise ExprError("gridworld() needs one payoff per terminal cell")
    terminal = np.zeros(n, dtype=bool)
    terminal[term_cells] = True
    payoff = np.zeros(n)
    payoff[term_cells] = payoffs
    P = np.zeros((n * 4, n))
    for s in range(n):
        i, j = divmod(s, cols)
        for a in range(4):
            for turn, prob in ((0, 1 - slip), (1, slip / 2), (3, slip / 2)):
                di, dj = _MOVES[(a + turn) % 4]
                ni, nj = i + di, j + dj
                inside = 0 <= ni < rows and 0 <= nj < cols and not wall[ni * cols + nj]
                P[s * 4 + a, ni * cols + nj if inside else s] += prob
    live = ~(wall | terminal)
    entry = step + np.where(terminal & (payoff_as_value == 0), payoff, 0.0)  # reward for arriving in s'
    fixed = np.where(terminal & (payoff_as_value != 0), payoff, 0.0)  # terminal values that never change
    R = (P * entry[None, :]).sum(axis=1).reshape(n, 4)
    V = fixed.copy()
    for _ in range(sweeps):
        if in_place:
            for s in np.flatnonzero(live):
                V[s] = np.max(R[s] + gamma * (P[s * 4: s * 4 + 4] @ V))
        else:
            Q = R + gamma * (P @ V).reshape(n, 4)
            V = np.where(live, Q.max(axis=1), fixed)
    return V.reshape(rows, cols)
