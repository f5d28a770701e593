"""Whitelisted functions of linear algebra: inverse, determinant, matrix powers, positive definiteness,
eigenvalues and eigenvectors of a symmetric matrix, singular values.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.expr import ExprError
from dlstudy.mathtext.fn_checks import as_matrix, as_square, position, whole_count


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


def _eigen(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and unit eigenvectors (columns) of a symmetric matrix; each eigenvector's
    sign makes its largest-magnitude entry positive (the first such entry on ties), so the key is unique."""
    m = as_square(m)
    if not np.allclose(m, m.T):
        raise ExprError("eigvals()/eigvec() need a symmetric matrix")
    values, vectors = np.linalg.eigh(m)
    values, vectors = values[::-1], vectors[:, ::-1]
    lead = vectors[np.argmax(np.abs(vectors) - 1e-12 * np.arange(len(m))[:, None], axis=0), np.arange(len(m))]
    return values, vectors * np.where(lead < 0, -1.0, 1.0)


LINALG_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # inv(M): the inverse of a square matrix (a singular one is an error, not inf).
    "inv": (lambda m: _inverse(m), 1, 1),
    # posdef(M): true when M is symmetric and positive definite (a covariance matrix), for constraints.
    "posdef": (lambda m: _positive_definite(m), 1, 1),
    "det": (lambda m: float(np.linalg.det(as_square(m))), 1, 1),
    "matpow": (lambda m, k: np.linalg.matrix_power(as_square(m), whole_count(k, "matpow", 0)), 2, 2),
    "eigvals": (lambda m: _eigen(m)[0], 1, 1),  # of a symmetric matrix, largest first
    "eigvec": (lambda m, k: _eigen(m)[1][:, position(k, np.shape(m)[0])], 2, 2),  # k-th, largest entry positive
    "svdvals": (lambda m: np.linalg.svd(as_matrix(m), compute_uv=False), 1, 1),  # largest first
}
