"""The in-place tensor operations torch.optim is written in (``lerp_``, ``addcmul_``, ``addcdiv_``,
``add_``, ``mul_``, ``sqrt``), in NumPy, rounded as torch's CPU kernels round them.

torch's CPU kernels for ``lerp``, ``addcmul`` and ``add(alpha=...)`` round once through a fused
multiply-add on every x86-64 CPU with AVX2 (the builds torch dispatches to there); ``fma`` does the same,
so the values agree with torch to the last bit.  Each operation writes into its first argument and returns
it, as torch's in-place methods do.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np


def vector(value: Any) -> np.ndarray:
    """A parameter, gradient or state as the float64 array the operations below work on (a number: one entry)."""
    return np.atleast_1d(np.array(value, dtype=float))


def fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """``a*b + c`` element-wise with a single rounding (a fused multiply-add).

    The product and sum are done exactly in rationals and rounded once, which is
    what the FMA instruction in torch's vectorised CPU kernels does.
    """
    a, b, c = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (a, b, c)))
    if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(c).all()):
        return a * b + c  # inf/nan propagate the same way; nothing to round
    out = []
    for x, y, z in zip(a.flat, b.flat, c.flat):
        exact = Fraction(x) * Fraction(y) + Fraction(z)
        # An exact 0 keeps IEEE's sign of zero, which the plain x*y + z gets right there.
        out.append(float(exact) if exact else x * y + z)
    return np.array(out, dtype=float).reshape(a.shape)


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """``start.lerp_(end, weight)``: ATen's lerp, from the nearer end for numerical accuracy."""
    if abs(weight) < 0.5:
        start[...] = fma(weight, end - start, start)
    else:
        start[...] = fma(weight - 1.0, end - start, end)
    return start


def addcmul_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1.0) -> np.ndarray:
    """``x.addcmul_(t1, t2, value=value)``: x + value*t1*t2."""
    x[...] = fma(value * t1, t2, x)
    return x


def addcdiv_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1.0) -> np.ndarray:
    """``x.addcdiv_(t1, t2, value=value)``: x + value*t1/t2."""
    x[...] = x + value * t1 / t2
    return x


def add_(x: np.ndarray, other: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``x.add_(other, alpha=alpha)``: x + alpha*other."""
    x[...] = fma(alpha, other, x)
    return x


def mul_(x: np.ndarray, factor: float) -> np.ndarray:
    """``x.mul_(factor)``."""
    x *= factor
    return x


# ``x.sqrt()``.  IEEE square root, correctly rounded; torch's CPU kernel (MKL's vdSqrt in
# high-accuracy mode) is within one unit in the last place of it and differs on
# about 0.6% of inputs.  tests/test_oracles_optim.py swaps torch's own into ``optimizers`` to compare
# bit for bit.
sqrt = np.sqrt
