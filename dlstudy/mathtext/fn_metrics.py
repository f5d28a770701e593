"""Whitelisted functions for losses and evaluation metrics (the losses, generative and vision templates):
class basis vectors for losses over any number of classes, ranked-list metrics (AP), segmentation
confusion matrices, contrastive (cosine) similarities, box overlaps and greedy NMS.

Each refuses arguments that would allocate more than the work limit (students' answers can call them too).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy import limits
from dlstudy.mathtext.expr import ExprError


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


METRIC_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
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
