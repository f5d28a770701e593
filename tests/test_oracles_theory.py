"""Theory oracles: PCA, low-rank SVD, bias vs variance and k-fold sizes against NumPy and published examples."""

from __future__ import annotations

import numpy as np
import pytest

from dlstudy.engine.oracles import get

rng = np.random.default_rng(31)


def test_pca_matches_numpy_eigendecomposition():
    for case in range(300):
        N, d = int(rng.integers(2, 9)), int(rng.integers(1, 5))
        X = rng.normal(size=(N, d)) * rng.uniform(0.5, 3, size=d)
        var = ("sample", "population")[case % 2]
        out = get("pca_by_hand")({"X": X, "var": var})
        C = np.cov(X.T, ddof=1 if var == "sample" else 0).reshape(d, d)
        values, vectors = np.linalg.eigh(C)
        np.testing.assert_allclose(out["C"], C, atol=1e-12)
        np.testing.assert_allclose(out["lam"], values[::-1], atol=1e-9)
        if d > 1 and values[-1] - values[-2] < 1e-6:
            continue  # no unique leading direction
        lead = vectors[:, -1] * np.sign(vectors[np.argmax(np.abs(vectors[:, -1])), -1])
        np.testing.assert_allclose(out["v1"], lead, atol=1e-9)
        np.testing.assert_allclose(out["z"], (X - X.mean(axis=0)) @ lead, atol=1e-9)
        assert out["ratio"] == pytest.approx(values[-1] / values.sum())


def test_pca_lindsay_smith_tutorial_golden():
    """L. I. Smith, "A tutorial on Principal Components Analysis" (2002), section 3.1: the covariance, the
    eigenvalues and the leading eigenvector of the ten-point data set, and its first transformed coordinate
    (the tutorial's eigenvector is -(0.677873399, 0.735178656); here the largest entry is positive)."""
    x = [2.5, 0.5, 2.2, 1.9, 3.1, 2.3, 2.0, 1.0, 1.5, 1.1]
    y = [2.4, 0.7, 2.9, 2.2, 3.0, 2.7, 1.6, 1.1, 1.6, 0.9]
    out = get("pca_by_hand")({"X": np.array([x, y]).T, "var": "sample"})
    np.testing.assert_allclose(out["C"], [[0.616555556, 0.615444444], [0.615444444, 0.716555556]], atol=1e-9)
    np.testing.assert_allclose(out["lam"], [1.28402771, 0.0490833989], atol=1e-8)
    np.testing.assert_allclose(out["v1"], [0.677873399, 0.735178656], atol=1e-9)
    published = [-0.827970186, 1.77758033, -0.992197494, -0.274210416, -1.67580142,
                 -0.912949103, 0.0991094375, 1.14457216, 0.438046137, 1.22382056]
    np.testing.assert_allclose(out["z"], -np.array(published), atol=1e-8)


def test_low_rank_error_matches_eckart_young():
    for _ in range(300):
        m, n = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        M = rng.normal(size=(m, n))
        k = int(rng.integers(0, min(m, n) + 1))
        s = np.linalg.svd(M, compute_uv=False)
        fro = get("svd_low_rank")({"M": M, "k": k, "norm": "frobenius"})
        spectral = get("svd_low_rank")({"M": M, "k": k, "norm": "spectral"})
        np.testing.assert_allclose(fro["sigma"], s, atol=1e-12)
        assert fro["err"] == pytest.approx(np.sqrt(np.sum(s[k:] ** 2)), abs=1e-9)
        assert spectral["err"] == pytest.approx(s[k] if k < len(s) else 0.0, abs=1e-9)


def test_svd_wikipedia_example_golden():
    """Wikipedia, "Singular value decomposition", Example: the 4 x 5 matrix with singular values 3, sqrt(5),
    2, 0. The best rank-1 approximation misses sqrt(5 + 4) = 3 in the Frobenius norm and sqrt(5) in the
    spectral norm (Eckart-Young)."""
    M = np.array([[1.0, 0, 0, 0, 2], [0, 0, 3, 0, 0], [0, 0, 0, 0, 0], [0, 2, 0, 0, 0]])
    fro = get("svd_low_rank")({"M": M, "k": 1, "norm": "frobenius"})
    np.testing.assert_allclose(fro["sigma"], [3, np.sqrt(5), 2, 0], atol=1e-12)
    assert fro["err"] == pytest.approx(3.0)
    assert get("svd_low_rank")({"M": M, "k": 1, "norm": "spectral"})["err"] == pytest.approx(np.sqrt(5))


def test_bias_variance_ng_examples_golden():
    """Andrew Ng, Deep Learning Specialization (course 2, "Bias / Variance"; course 3, "Avoidable bias"):
    train 1%, dev 11% -> high variance; train 15%, dev 16% -> high bias; human 1%, train 8%, dev 10% ->
    focus on bias (7 vs 2); human 7.5%, train 8%, dev 10% -> focus on variance (0.5 vs 2)."""
    oracle = get("bias_variance_diagnosis")
    assert oracle({"train": 1, "dev": 11})["focus"] == 2
    assert oracle({"train": 15, "dev": 16})["focus"] == 1
    out = oracle({"train": 8, "dev": 10, "bayes": 1})
    assert (out["bias"], out["variance"], out["focus"]) == (7, 2, 1)
    out = oracle({"train": 8, "dev": 10, "bayes": 7.5})
    assert (out["bias"], out["variance"], out["focus"]) == (0.5, 2, 2)


def test_kfold_sizes_scikit_learn_golden():
    """scikit-learn, KFold docs: "The first n_samples % n_splits folds have size n_samples // n_splits + 1,
    other folds have size n_samples // n_splits". Its example splits 4 samples into 2 folds of 2."""
    out = get("kfold_sizes")({"N": 4, "K": 2})
    np.testing.assert_array_equal(out["sizes"], [2, 2])
    np.testing.assert_array_equal(out["train"], [2, 2])
    for N in range(2, 40):
        for K in range(2, N + 1):
            sizes = get("kfold_sizes")({"N": N, "K": K})["sizes"]
            # numpy.array_split deals the indices the same way
            np.testing.assert_array_equal(sizes, [len(part) for part in np.array_split(np.arange(N), K)])
            assert sizes.sum() == N
