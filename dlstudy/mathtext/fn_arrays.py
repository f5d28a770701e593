"""Whitelisted functions on whole vectors and matrices: reductions, products, shapes, picking entries (1-based
positions), building vectors and matrices, running sums and products, conditions.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.expr import ExprError
from dlstudy.mathtext.fn_checks import as_matrix, check_elements, position, positions, whole_count


def _max(*args):
    return np.max(args[0]) if len(args) == 1 else _reduce(np.maximum, args)


def _min(*args):
    return np.min(args[0]) if len(args) == 1 else _reduce(np.minimum, args)


def _reduce(op, args):
    result = args[0]
    for arg in args[1:]:
        result = op(result, arg)
    return result


# The array's own methods where the value is an array: the same reduction without np.sum's and np.all's
# dispatch (every constraint ends in one of these, and samplers try constraints thousands of times).
def _sum(x):
    return x.sum() if type(x) is np.ndarray else np.sum(x)


def _all(x) -> bool:
    return bool(x.all()) if type(x) is np.ndarray else bool(np.all(x))


def _any(x) -> bool:
    return bool(x.any()) if type(x) is np.ndarray else bool(np.any(x))


def _isint(x) -> bool:
    if type(x) is np.ndarray:
        return bool((x == x.round()).all())
    return bool(np.all(np.asarray(x) == np.round(x)))


def _argmax(x):
    return float(np.argmax(x) + 1)


def _argmin(x):
    return float(np.argmin(x) + 1)


def _row(m, i):
    m = np.asarray(m)
    return m[position(i, m.shape[0])]


def _col(m, j):
    m = np.asarray(m)
    return m[:, position(j, m.shape[1])]


def _shape_dim(x, axis):
    shape = np.shape(x)
    if len(shape) <= axis:
        raise ExprError(f"value has {len(shape)} dimension(s), not {axis + 1}")
    return float(shape[axis])


def _outer(a, b):
    check_elements(np.size(a) * np.size(b))
    return np.outer(a, b)


def _diag(x):
    if np.ndim(x) == 1:
        check_elements(np.size(x) ** 2)
    return np.diag(x)


def _concat(*xs):
    check_elements(sum(np.size(x) for x in xs))
    return np.concatenate([np.atleast_1d(x) for x in xs])


def _onehot(c: Any, size: Any) -> np.ndarray:
    """``onehot(c, K)``: length K, 1 at position c; for a vector of positions, one such row per entry."""
    n = int(size) if float(size) == int(size) and 1 <= float(size) <= 10**6 else -1
    if n < 1:
        raise ExprError(f"onehot(): the length must be a whole number from 1, got {format(float(size), 'g')}")
    if np.ndim(c) == 0:
        vector = np.zeros(n)
        vector[position(c, n)] = 1.0
        return vector
    places = [position(x, n) for x in np.asarray(c, dtype=float).reshape(-1)]
    check_elements(len(places) * n)
    table = np.zeros((len(places), n))
    table[np.arange(len(places)), places] = 1.0
    return table


def _cumulative(op):
    def run(v):
        array = np.asarray(v, dtype=float)
        if array.ndim != 1:
            raise ValueError("expects a vector")
        return op(array)

    return run


def _reshape(x: Any, r: Any, c: Any) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    rows, cols = whole_count(r, "reshape"), whole_count(c, "reshape")
    if x.size != rows * cols:
        raise ExprError(f"cannot arrange {x.size} entries as {rows} x {cols}")
    return x.reshape(rows, cols)


def _gather(m: Any, j: Any) -> np.ndarray:
    m = as_matrix(m)
    index = positions(j, m.shape[1])
    if len(index) != m.shape[0]:
        raise ExprError(f"gather() needs one index per row: {m.shape[0]} rows, {len(index)} indices")
    return m[np.arange(m.shape[0]), index]


def _take(x: Any, j: Any) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ExprError("take() picks entries of a vector")
    return x[positions(j, len(x))]


ARRAY_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "max": (_max, 1, 16),
    "min": (_min, 1, 16),
    "sum": (_sum, 1, 1),
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
    "all": (_all, 1, 1),
    "any": (_any, 1, 1),
    "ifelse": (lambda c, a, b: np.where(c, a, b), 3, 3),
    "clip": (lambda x, lo, hi: np.clip(x, lo, hi), 3, 3),
    "diag": (lambda x: _diag(x), 1, 1),
    "isint": (_isint, 1, 1),
    "cumprod": (_cumulative(np.cumprod), 1, 1),  # running products s_1, s_1 s_2, ...
    # lag(v, first): each entry's predecessor, [first, v_1, ..., v_{n-1}] (a layer's input width)
    "lag": (lambda v, first: np.concatenate([[float(first)], _cumulative(lambda a: a)(v)[:-1]]), 2, 2),
    "cumsum": (lambda x: np.cumsum(np.asarray(x, dtype=float), axis=-1), 1, 1),
    # onehot(c, K): the one-hot vector of length K with a 1 at position c (1-based).
    "onehot": (lambda c, K: _onehot(c, K), 2, 2),
    # Tables of a tabular MDP: P is (S*A) x S with row (s - 1)A + a, Q and R are S x A.
    "reshape": (lambda x, r, c: _reshape(x, r, c), 3, 3),  # row by row, as numpy's default order
    # flatten(M): the entries row by row; reshape(x, r, c): the entries of x as an r x c matrix, row by row
    "flatten": (lambda M: np.asarray(M, dtype=float).reshape(-1), 1, 1),
    "eye": (lambda n: np.eye(whole_count(n, "eye")), 1, 1),
    "ones": (lambda n: np.ones(whole_count(n, "ones")), 1, 1),
    "seq": (lambda n: np.arange(1.0, whole_count(n, "seq") + 1), 1, 1),  # [1, 2, ..., n]
    "hstack": (lambda *ms: np.hstack([np.atleast_2d(as_matrix(m)) for m in ms]), 2, 8),  # matrices side by side
    "gather": (lambda m, j: _gather(m, j), 2, 2),  # [M[1, j_1], M[2, j_2], ...], 1-based
    "take": (lambda x, j: _take(x, j), 2, 2),  # [x[j_1], x[j_2], ...], 1-based
    "sort": (lambda x: np.sort(np.asarray(x, dtype=float), axis=None), 1, 1),  # ascending; sort(d)[k] = k-th smallest
}
