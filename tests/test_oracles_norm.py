"""Batch-norm oracles against an independent NumPy implementation and published facts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get

rng = np.random.default_rng(7)


def _numpy_batchnorm(X, gamma, beta, running_mean, running_var, momentum, eps):
    """Ioffe & Szegedy (2015), Algorithm 1, plus PyTorch's documented running-stat update."""
    n = X.shape[0]
    mu = X.sum(axis=0) / n
    sigma2 = ((X - mu) ** 2).sum(axis=0) / n
    x_hat = (X - mu) / np.sqrt(sigma2 + eps)
    y = gamma * x_hat + beta
    s2 = ((X - mu) ** 2).sum(axis=0) / (n - 1)
    rm = (1 - momentum) * running_mean + momentum * mu
    rv = (1 - momentum) * running_var + momentum * s2
    return mu, sigma2, x_hat, y, s2, rm, rv


def test_batchnorm_matches_numpy():
    forward, running = get("batchnorm_train_forward"), get("batchnorm_running_stats")
    for _ in range(300):
        n, c = int(rng.integers(2, 9)), int(rng.integers(1, 5))
        X = np.round(rng.uniform(-5, 5, (n, c)), 1)
        p = {
            "X": X,
            "gamma": np.round(rng.uniform(0.2, 2, c), 1),
            "beta": np.round(rng.uniform(-1, 1, c), 1),
            "running_mean": np.round(rng.uniform(-1, 1, c), 1),
            "running_var": np.round(rng.uniform(0.1, 3, c), 1),
            "momentum": float(rng.choice([0.1, 0.01, 0.5])),
            "eps": float(rng.choice([1e-5, 1e-3])),
        }
        mu, sigma2, x_hat, y, s2, rm, rv = _numpy_batchnorm(*(p[k] for k in ("X", "gamma", "beta", "running_mean", "running_var", "momentum", "eps")))
        out = forward(p)
        np.testing.assert_allclose(out["mu"], mu, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["sigma2"], sigma2, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(out["x_hat"], x_hat, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(out["y"], y, rtol=1e-8, atol=1e-10)
        out = running(p)
        np.testing.assert_allclose(out["mu"], mu, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["s2"], s2, rtol=1e-10)
        np.testing.assert_allclose(out["rm_new"], rm, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["rv_new"], rv, rtol=1e-10)


def test_batchnorm_oracle_leaves_torch_threads_alone():
    before = torch.get_num_threads()
    get("batchnorm_train_forward")({"X": np.arange(8.0).reshape(4, 2), "gamma": np.ones(2), "beta": np.zeros(2), "eps": 1e-5})
    assert torch.get_num_threads() == before


def test_batchnorm_golden_pytorch_docs_hand_worked():
    # PyTorch BatchNorm1d docs: running_mean/var start at 0/1; new = (1 - momentum)*old +
    # momentum*batch statistic; normalization uses the biased variance, running_var the
    # unbiased one.  Hand-worked for the feature column [1, 2, 3, 4]: mean 2.5, biased
    # variance 1.25, unbiased 5/3, running_mean 0.25, running_var 0.9 + 0.1*5/3 = 1.0666667.
    X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 4.0], [4.0, 4.0]])
    p = {"X": X, "gamma": np.array([1.0, 2.0]), "beta": np.array([0.0, 1.0]), "eps": 1e-5, "momentum": 0.1}
    out = get("batchnorm_train_forward")(p)
    np.testing.assert_allclose(out["mu"], [2.5, 2.0])
    np.testing.assert_allclose(out["sigma2"], [1.25, 4.0])
    # Column 2 is [0, 0, 4, 4]: x_hat = -+2/sqrt(4 + 1e-5) = -+0.99999875, y = 2*x_hat + 1.
    np.testing.assert_allclose(out["y"][:, 1], [-0.9999975, -0.9999975, 2.9999975, 2.9999975], rtol=1e-7)
    run = get("batchnorm_running_stats")({**p, "running_mean": np.zeros(2), "running_var": np.ones(2)})
    np.testing.assert_allclose(run["s2"], [5 / 3, 16 / 3])
    np.testing.assert_allclose(run["rm_new"], [0.25, 0.2])
    np.testing.assert_allclose(run["rv_new"], [1.0666667, 0.9 + 1.6 / 3], rtol=1e-7)


def test_batchnorm_golden_normalized_batch_statistics():
    # Ioffe & Szegedy (2015), Algorithm 1: each feature of x_hat has zero mean and (up to eps)
    # unit variance over the mini-batch, whatever the input's scale and shift.
    X = rng.normal(3.0, 5.0, (16, 3))
    out = get("batchnorm_train_forward")({"X": X, "gamma": np.ones(3), "beta": np.zeros(3), "eps": 1e-5})
    np.testing.assert_allclose(out["x_hat"].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out["x_hat"].var(axis=0), 1, rtol=1e-5)
    assert out["y"] == pytest.approx(out["x_hat"])
