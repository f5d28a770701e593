"""Whitelisted functions for statistics along one axis of a matrix: per column, per row, per group of rows
(batch / layer / instance / group norm, feature scaling, the rows of a Q table).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.expr import ExprError
from dlstudy.mathtext.fn_checks import as_matrix


def _group_count(k) -> int:
    value = float(k)
    if value != int(value) or not 1 <= value <= 10**6:
        raise ExprError(f"a count must be a whole number from 1 to 10^6, not {format(value, 'g')}")
    return int(value)


def _group_stat(stat, m, groups) -> np.ndarray:
    """``stat`` over each of ``groups`` consecutive blocks of rows (every column of them)."""
    m = as_matrix(m)
    count = _group_count(groups)
    if m.shape[0] % count:
        raise ExprError(f"{count} groups do not split {m.shape[0]} rows evenly")
    return stat(m.reshape(count, -1), axis=1)


def _mean(m, axis: int) -> np.ndarray:
    """np.mean of a matrix along ``axis``: the same sum and division, without its dispatch (batch norm's
    sampler tries a constraint on column means and variances thousands of times)."""
    m = as_matrix(m)
    count = m.shape[axis]
    if not count:
        return np.mean(m, axis=axis)  # NumPy's warning about an empty slice
    return np.add.reduce(m, axis=axis) / count


def _var(m, axis: int) -> np.ndarray:
    """np.var of a matrix along ``axis`` (population variance), as ``_mean``: the same steps as NumPy's."""
    m = as_matrix(m)
    count = m.shape[axis]
    if not count:
        return np.var(m, axis=axis)
    deviation = m - np.add.reduce(m, axis=axis, keepdims=True) / count
    return np.add.reduce(np.square(deviation, out=deviation), axis=axis) / count


STATISTICS_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # colmean(X)[j] is the mean of column j (over the rows), rowmean(X)[i] the mean of row i; the
    # variances are population variances (divide by the count), as batch norm normalises with.
    "colmean": (lambda m: _mean(m, 0), 1, 1),
    "colvar": (lambda m: _var(m, 0), 1, 1),
    "colmin": (lambda m: np.min(as_matrix(m), axis=0), 1, 1),
    "colmax": (lambda m: np.max(as_matrix(m), axis=0), 1, 1),
    "rowmean": (lambda m: _mean(m, 1), 1, 1),
    "rowvar": (lambda m: _var(m, 1), 1, 1),
    "colsum": (lambda m: np.add.reduce(as_matrix(m), axis=0), 1, 1),  # np.sum's reduction, without its dispatch
    "rowsum": (lambda m: np.add.reduce(as_matrix(m), axis=1), 1, 1),
    "rowmax": (lambda m: np.max(as_matrix(m), axis=1), 1, 1),
    "rowargmax": (lambda m: np.argmax(as_matrix(m), axis=1) + 1.0, 1, 1),  # 1-based; the first on ties
    # groupmean(X, G): the rows of X (channels x positions) split into G consecutive groups of equal size;
    # one mean (variance) over every entry of each group, GroupNorm's statistics.
    "groupmean": (lambda m, g: _group_stat(np.mean, m, g), 2, 2),
    "groupvar": (lambda m, g: _group_stat(np.var, m, g), 2, 2),
    # repeat(v, k): each entry of v k times in a row, [a, b] -> [a, a, b, b] (a group's statistic per channel)
    "repeat": (lambda v, k: np.repeat(np.atleast_1d(np.asarray(v, dtype=float)), _group_count(k)), 2, 2),
}
