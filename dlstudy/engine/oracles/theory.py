"""Oracles for learning theory and unsupervised basics: PCA, low-rank SVD, bias vs variance, k-fold sizes.

- PCA: torch.linalg.svd of the centred data (the right singular vectors are the principal directions,
  the squared singular values over N - ddof the variances), not the covariance's eigendecomposition
  that the template's formulas use;
- low-rank approximation: the truncated SVD rebuilt as a matrix and the norm of what it misses,
  measured by torch.linalg.matrix_norm (not the Eckart-Young sums the formulas use);
- bias vs variance: the gaps of Ng's error analysis, compared;
- k-fold sizes: scikit-learn's KFold rule (the first N mod K folds get one example more).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


def _sign_fixed(vector: np.ndarray) -> np.ndarray:
    """The eigenvector's sign that makes its largest-magnitude entry positive (the first such entry on ties)."""
    lead = vector[int(np.argmax(np.round(np.abs(vector), 12)))]
    return vector if lead >= 0 else -vector


@register("pca_by_hand")
def pca_by_hand(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    data = torch.tensor(np.asarray(p["X"], dtype=float))
    ddof = 1 if p.get("var", "sample") == "sample" else 0
    mean = data.mean(dim=0)
    centred = data - mean
    _, singular, directions = torch.linalg.svd(centred, full_matrices=True)
    variances = torch.zeros(data.shape[1], dtype=torch.float64)
    variances[: len(singular)] = singular**2 / (data.shape[0] - ddof)
    lead = _sign_fixed(directions[0].numpy())
    covariance = torch.cov(data.T, correction=ddof).reshape(data.shape[1], data.shape[1]).numpy()
    return {
        "mu": mean.numpy(),
        "Xc": centred.numpy(),
        "C": covariance,
        "lam": variances.numpy(),
        "v1": lead,
        "ratio": float(variances[0] / variances.sum()),
        "z": (centred.numpy() @ lead),
    }


@register("svd_low_rank")
def svd_low_rank(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    matrix = torch.tensor(np.asarray(p["M"], dtype=float))
    k = int(p["k"])
    U, S, Vh = torch.linalg.svd(matrix, full_matrices=False)
    approx = U[:, :k] @ torch.diag(S[:k]) @ Vh[:k]
    which = "fro" if p.get("norm", "frobenius") == "frobenius" else 2
    error = float(torch.linalg.matrix_norm(matrix - approx, ord=which))
    total = float(torch.linalg.matrix_norm(matrix, ord=which))
    return {"sigma": S.numpy(), "err": error, "rel": error / total}


@register("bias_variance_diagnosis")
def bias_variance_diagnosis(p: Mapping[str, Any]) -> dict[str, Any]:
    errors = {"bayes": float(p.get("bayes", 0.0)), "train": float(p["train"]), "dev": float(p["dev"])}
    gaps = {"bias": errors["train"] - errors["bayes"], "variance": errors["dev"] - errors["train"]}
    larger = max(gaps, key=gaps.get)
    return {"bias": gaps["bias"], "variance": gaps["variance"], "focus": 1 if larger == "bias" else 2}


@register("kfold_sizes")
def kfold_sizes(p: Mapping[str, Any]) -> dict[str, Any]:
    n, k = int(p["N"]), int(p["K"])
    # scikit-learn's KFold: n // k examples per fold, and one more for each of the first n % k folds
    base, extra = divmod(n, k)
    sizes = np.array([base + (1 if fold < extra else 0) for fold in range(k)], dtype=float)
    return {"sizes": sizes, "train": n - sizes}
