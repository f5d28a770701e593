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


# ---------------------------------------------------------------------------
# Conventions: unbiased variance (course 002's code), Keras's momentum


def test_batchnorm_unbiased_convention_matches_numpy():
    forward = get("batchnorm_train_forward")
    for _ in range(100):
        n, c = int(rng.integers(2, 9)), int(rng.integers(1, 5))
        X = np.round(rng.uniform(-5, 5, (n, c)), 1)
        gamma, beta = np.round(rng.uniform(0.2, 2, c), 1), np.round(rng.uniform(-1, 1, c), 1)
        out = forward({"X": X, "gamma": gamma, "beta": beta, "eps": 1e-5, "variance": "unbiased"})
        # course 002's NumPy code: x_hat = (x - x.mean(0)) / sqrt(x.var(0) + eps) with torch's unbiased var
        var = X.var(axis=0, ddof=1)
        np.testing.assert_allclose(out["sigma2"], var, rtol=1e-12)
        np.testing.assert_allclose(out["y"], gamma * (X - X.mean(axis=0)) / np.sqrt(var + 1e-5) + beta, rtol=1e-9, atol=1e-12)


def test_batchnorm_golden_conventions_table():
    # exercise-types.md, conventions row 3 (course 002 L189 uses x.var(), unbiased): first row of the
    # output for X = [[1,2],[3,6],[5,4],[7,0]], gamma = [1.5, 0.5], beta = [0.2, -0.1]. By hand, column 1
    # has mean 4 and squared deviations 9, 1, 1, 9: biased variance 5, unbiased 20/3, so
    # y_11 = 1.5 * (-3)/sqrt(5) + 0.2 = -1.8125 and 1.5 * (-3)/sqrt(20/3) + 0.2 = -1.5428.
    p = {"X": np.array([[1.0, 2], [3, 6], [5, 4], [7, 0]]), "gamma": np.array([1.5, 0.5]), "beta": np.array([0.2, -0.1]), "eps": 1e-5}
    np.testing.assert_allclose(get("batchnorm_train_forward")(p)["y"][0], [-1.8125, -0.3236], atol=5e-5)
    np.testing.assert_allclose(get("batchnorm_train_forward")({**p, "variance": "unbiased"})["y"][0], [-1.5428, -0.2936], atol=5e-5)


def test_batchnorm_keras_running_stats():
    running = get("batchnorm_running_stats")
    for _ in range(100):
        n, c = int(rng.integers(2, 9)), int(rng.integers(1, 5))
        X = np.round(rng.uniform(-5, 5, (n, c)), 1)
        rm, rv, m = np.round(rng.uniform(-1, 1, c), 1), np.round(rng.uniform(0.1, 3, c), 1), float(rng.choice([0.99, 0.9, 0.1]))
        out = running({"X": X, "running_mean": rm, "running_var": rv, "momentum": m, "eps": 1e-3, "framework": "keras"})
        # Keras BatchNormalization: moving = moving * momentum + batch * (1 - momentum), biased batch variance
        np.testing.assert_allclose(out["rm_new"], rm * m + X.mean(axis=0) * (1 - m), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["rv_new"], rv * m + X.var(axis=0) * (1 - m), rtol=1e-12)
    # Keras docs: the defaults momentum = 0.99, moving_mean = 0, moving_variance = 1. Hand-worked for the
    # column [1, 2, 3, 4] (mean 2.5, biased variance 1.25): 0.99*0 + 0.01*2.5 = 0.025 and
    # 0.99*1 + 0.01*1.25 = 1.0025.
    out = running({"X": np.array([[1.0], [2], [3], [4]]), "running_mean": [0.0], "running_var": [1.0], "momentum": 0.99,
                   "eps": 1e-3, "framework": "keras"})
    np.testing.assert_allclose([out["rm_new"][0], out["rv_new"][0]], [0.025, 1.0025])


# ---------------------------------------------------------------------------
# Evaluation mode, backward pass


def test_batchnorm_eval_matches_numpy_and_bn_paper_inference():
    oracle = get("batchnorm_eval_forward")
    for _ in range(100):
        n, c = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        X = np.round(rng.uniform(-5, 5, (n, c)), 1)
        rm, rv = np.round(rng.uniform(-1, 1, c), 1), np.round(rng.uniform(0.1, 3, c), 1)
        gamma, beta, eps = np.round(rng.uniform(0.2, 2, c), 1), np.round(rng.uniform(-1, 1, c), 1), 1e-5
        out = oracle({"X": X, "running_mean": rm, "running_var": rv, "gamma": gamma, "beta": beta, "eps": eps})
        # Ioffe & Szegedy (2015), Algorithm 2, line 11: y = gamma/sqrt(Var[x] + eps) * x + (beta - gamma E[x]/sqrt(Var[x] + eps))
        scale = gamma / np.sqrt(rv + eps)
        np.testing.assert_allclose(out["y"], scale * X + (beta - scale * rm), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out["x_hat"], (X - rm) / np.sqrt(rv + eps), rtol=1e-9, atol=1e-12)
    # A fresh nn.BatchNorm1d keeps running_mean 0 and running_var 1 (PyTorch docs), so in eval mode it
    # passes its input through as x / sqrt(1 + eps): hand-worked 2 / sqrt(1.00001) = 1.99999.
    fresh = oracle({"X": np.array([[2.0]]), "running_mean": [0.0], "running_var": [1.0], "eps": 1e-5})
    assert fresh["y"][0, 0] == pytest.approx(1.99999, abs=1e-6)


def _numpy_batchnorm_backward(X, gamma, dY, eps):
    """The chain rule of Ioffe & Szegedy (2015), Sec. 3, written out node by node."""
    n = X.shape[0]
    mu = X.mean(axis=0)
    var = ((X - mu) ** 2).mean(axis=0)
    x_hat = (X - mu) / np.sqrt(var + eps)
    dx_hat = dY * gamma
    dvar = np.sum(dx_hat * (X - mu), axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(dx_hat * -1 / np.sqrt(var + eps), axis=0) + dvar * np.mean(-2 * (X - mu), axis=0)
    dX = dx_hat / np.sqrt(var + eps) + dvar * 2 * (X - mu) / n + dmu / n
    return dX, np.sum(dY * x_hat, axis=0), np.sum(dY, axis=0)


def test_batchnorm_backward_matches_the_papers_chain_rule():
    oracle = get("batchnorm_backward")
    for _ in range(100):
        n, c = int(rng.integers(2, 7)), int(rng.integers(1, 4))
        X, dY = np.round(rng.uniform(-5, 5, (n, c)), 1), np.round(rng.uniform(-2, 2, (n, c)), 1)
        gamma = np.round(rng.uniform(0.2, 2, c), 1)
        if np.any(X.var(axis=0) == 0):
            continue
        out = oracle({"X": X, "gamma": gamma, "dY": dY, "eps": 1e-5})
        dX, dgamma, dbeta = _numpy_batchnorm_backward(X, gamma, dY, 1e-5)
        np.testing.assert_allclose(out["dX"], dX, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(out["dgamma"], dgamma, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out["dbeta"], dbeta, rtol=1e-12, atol=1e-15)


def test_batchnorm_backward_golden_properties():
    oracle = get("batchnorm_backward")
    X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 4.0], [4.0, 4.0]])
    # A gradient that is the same for every sample of a feature only shifts the batch, which batch norm
    # removes: dL/dX = 0 (the mean path cancels it), dL/dbeta = N * 3 = 12 (cs231n assignment 2 notes).
    out = oracle({"X": X, "gamma": np.ones(2), "dY": np.full((4, 2), 3.0), "eps": 1e-5})
    np.testing.assert_allclose(out["dX"], 0, atol=1e-12)
    np.testing.assert_allclose(out["dbeta"], [12.0, 12.0])
    # And a gradient proportional to x_hat only rescales it, which the variance removes: dL/dX = 0 up to
    # eps, while dL/dgamma = sum(x_hat^2) = N (1 - eps/(var + eps)).
    x_hat = get("batchnorm_train_forward")({"X": X, "eps": 1e-5})["x_hat"]
    out = oracle({"X": X, "gamma": np.ones(2), "dY": x_hat, "eps": 1e-5})
    np.testing.assert_allclose(out["dX"], 0, atol=1e-5)
    np.testing.assert_allclose(out["dgamma"], 4 * (1 - 1e-5 / (np.array([1.25, 4.0]) + 1e-5)), rtol=1e-12)


# ---------------------------------------------------------------------------
# Layer, instance and group norm


def test_layer_instance_group_norm_match_numpy():
    for _ in range(100):
        rows, cols = int(rng.integers(1, 7)), int(rng.integers(2, 6))
        X = np.round(rng.uniform(-5, 5, (rows, cols)), 1)
        eps = float(rng.choice([1e-5, 1e-3]))
        gamma_cols, beta_cols = np.round(rng.uniform(0.2, 2, cols), 1), np.round(rng.uniform(-1, 1, cols), 1)
        gamma_rows, beta_rows = np.round(rng.uniform(0.2, 2, rows), 1), np.round(rng.uniform(-1, 1, rows), 1)
        # Ba, Kiros & Hinton (2016), Eq. 4: statistics over the features of each sample (row).
        mean, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
        ln = get("layernorm_forward")({"X": X, "gamma": gamma_cols, "beta": beta_cols, "eps": eps})
        np.testing.assert_allclose(ln["y"], gamma_cols * (X - mean) / np.sqrt(var + eps) + beta_cols, rtol=1e-9, atol=1e-12)
        # Ulyanov, Vedaldi & Lempitsky (2016), Eq. 2: instance norm, statistics per channel (row) of one example.
        inorm = get("instancenorm_forward")({"X": X, "gamma": gamma_rows, "beta": beta_rows, "eps": eps})
        want = gamma_rows[:, None] * (X - mean) / np.sqrt(var + eps) + beta_rows[:, None]
        np.testing.assert_allclose(inorm["y"], want, rtol=1e-9, atol=1e-12)
        # Wu & He (2018), Eq. 1-2 with S_i over the channels of one group: reshape into groups.
        groups = int(rng.choice([g for g in range(1, rows + 1) if rows % g == 0]))
        blocks = X.reshape(groups, -1)
        g_mean = np.repeat(blocks.mean(axis=1), rows // groups)[:, None]
        g_var = np.repeat(blocks.var(axis=1), rows // groups)[:, None]
        gn = get("groupnorm_forward")({"X": X, "G": groups, "gamma": gamma_rows, "beta": beta_rows, "eps": eps})
        want = gamma_rows[:, None] * (X - g_mean) / np.sqrt(g_var + eps) + beta_rows[:, None]
        np.testing.assert_allclose(gn["y"], want, rtol=1e-9, atol=1e-12)


def test_group_norm_golden_extremes_are_layer_and_instance_norm():
    # Wu & He (2018), Group Normalization, Sec. 3.1 (Fig. 2): G = 1 is layer norm over all channels and
    # positions of an example, G = C is instance norm.
    X = np.array([[1.0, 5.0, 3.0], [2.0, 2.0, 8.0], [0.0, 4.0, 1.0], [6.0, 3.0, 3.0]])
    one = get("groupnorm_forward")({"X": X, "G": 1, "eps": 1e-5})
    whole = get("layernorm_forward")({"X": X.reshape(1, -1), "eps": 1e-5})
    np.testing.assert_allclose(one["x_hat"].reshape(1, -1), whole["x_hat"], rtol=1e-12)
    each = get("groupnorm_forward")({"X": X, "G": 4, "eps": 1e-5})
    np.testing.assert_allclose(each["x_hat"], get("instancenorm_forward")({"X": X, "eps": 1e-5})["x_hat"], rtol=1e-12)
    # Hand-worked layer norm of the row [1, 2, 3]: mean 2, variance 2/3, x_hat = -+sqrt(3/2) = -+1.2247.
    row = get("layernorm_forward")({"X": np.array([[1.0, 2.0, 3.0]]), "eps": 0.0})
    np.testing.assert_allclose(row["x_hat"], [[-1.2247449, 0.0, 1.2247449]], rtol=1e-7)


# ---------------------------------------------------------------------------
# The formula language's axis statistics the normalization templates use


def test_axis_statistics_functions():
    from dlstudy.mathtext import expr, parsing
    from dlstudy.mathtext.functions import evaluate

    X = np.array([[1.0, 5.0, 3.0], [2.0, 2.0, 8.0], [0.0, 4.0, 1.0], [6.0, 3.0, 3.0]])

    def run(text):
        return evaluate(parsing.parse(text), {"X": X})

    np.testing.assert_allclose(run("colmean(X)"), X.mean(axis=0))
    np.testing.assert_allclose(run("colvar(X)"), X.var(axis=0))
    np.testing.assert_allclose(run("colsum(X)"), X.sum(axis=0))
    np.testing.assert_allclose(run("colmin(X)"), X.min(axis=0))
    np.testing.assert_allclose(run("colmax(X)"), X.max(axis=0))
    np.testing.assert_allclose(run("rowmean(X)"), X.mean(axis=1))
    np.testing.assert_allclose(run("rowvar(X)"), X.var(axis=1))
    # two groups of two rows: [1, 5, 3, 2, 2, 8] and [0, 4, 1, 6, 3, 3]
    np.testing.assert_allclose(run("groupmean(X, 2)"), [21 / 6, 17 / 6])
    np.testing.assert_allclose(run("groupvar(X, 2)"), [np.var([1, 5, 3, 2, 2, 8]), np.var([0, 4, 1, 6, 3, 3])])
    np.testing.assert_allclose(run("repeat([1, 2], 2)"), [1, 1, 2, 2])
    for bad in ("groupmean(X, 3)", "groupmean(X, 0)", "repeat([1, 2], 1.5)", "colmean([1, 2])"):
        with pytest.raises(expr.ExprError):
            run(bad)
