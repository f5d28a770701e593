"""Argument checks shared by the whitelisted functions and the evaluator.

Positions are 1-based, as in the course notes; every check raises ``ExprError`` with a message for the
student.  Nothing here imports the function registry (``functions.py``), which imports this.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlstudy import limits
from dlstudy.mathtext.expr import ExprError

MAX_TABLE = 10**6  # entries a reshape/eye/seq may make (the templates' costs stay far below)


def position(i: Any, size: int) -> int:
    """A 1-based position, checked."""
    value = float(i)
    if value != int(value) or not 1 <= value <= size:
        raise ExprError(f"index {format(value, 'g')} is out of range 1..{size}")
    return int(value) - 1


def positions(j: Any, size: int) -> np.ndarray:
    """1-based positions (a number or a vector of them), checked, as 0-based integers."""
    j = np.atleast_1d(np.asarray(j, dtype=float))
    if np.any(j != np.round(j)) or np.any(j < 1) or np.any(j > size):
        raise ExprError(f"indices must be whole numbers from 1 to {size}")
    return j.astype(int) - 1


def check_elements(count: int) -> None:
    """Refuse, before allocating it, an array larger than limits.MAX_ARRAY_ELEMENTS."""
    if count > limits.MAX_ARRAY_ELEMENTS:
        raise ExprError(f"the result would have {count:.3g} entries; the limit is {limits.MAX_ARRAY_ELEMENTS:.0e}")


def whole_count(n: Any, name: str, low: int = 1) -> int:
    """A whole number from ``low`` to MAX_TABLE, the argument of the function ``name``."""
    value = float(n)
    if value != int(value) or not low <= value <= MAX_TABLE:
        raise ExprError(f"{name}() needs a whole number from {low} to {MAX_TABLE}, got {format(value, 'g')}")
    return int(value)


def as_matrix(m: Any) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    if m.ndim != 2:
        raise ExprError(f"expected a matrix, got a value of shape {m.shape}")
    return m


def as_square(m: Any) -> np.ndarray:
    m = as_matrix(m)
    if m.shape[0] != m.shape[1]:
        raise ExprError(f"expected a square matrix, got shape {m.shape}")
    return m
