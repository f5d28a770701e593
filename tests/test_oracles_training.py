"""Training-step oracles (gradient descent, clipping, L1, regularized regression, feature scaling)
against independent NumPy computations and published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get

rng = np.random.default_rng(11)


def _vec(n, lo=-3.0, hi=3.0):
    return np.round(rng.uniform(lo, hi, n), 2)


def test_gradient_descent_matches_numpy():
    for _ in range(200):
        n = int(rng.integers(1, 6))
        theta, h, c, lr = _vec(n), np.abs(_vec(n, 0, 4)), _vec(n), float(rng.choice([0.01, 0.1, 0.5]))
        out = get("gradient_descent_step")({"theta": theta, "h": h, "c": c, "lr": lr})
        grad = h * (theta - c)
        new = theta - lr * grad
        np.testing.assert_allclose(out["grad"], grad, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["theta_new"], new, rtol=1e-12, atol=1e-12)
        assert out["L"] == pytest.approx(0.5 * np.sum(h * (theta - c) ** 2), rel=1e-12)
        assert out["L_new"] == pytest.approx(0.5 * np.sum(h * (new - c) ** 2), rel=1e-12, abs=1e-15)


def test_gradient_descent_golden_quadratic_step_sizes():
    # Goodfellow, Bengio & Courville (2016), Sec. 4.3.1: on a quadratic with curvature h gradient descent
    # with step 1/h lands on the minimum at once (the Newton step); step 2/h overshoots to the mirror point
    # (no progress), and above 2/h it diverges.
    step = get("gradient_descent_step")
    out = step({"theta": [3.0], "h": [4.0], "c": [1.0], "lr": 0.25})
    assert out["theta_new"][0] == 1.0 and out["L_new"] == 0.0 and out["L"] == 8.0
    out = step({"theta": [3.0], "h": [4.0], "c": [1.0], "lr": 0.5})
    assert out["theta_new"][0] == -1.0 and out["L_new"] == out["L"]
    assert step({"theta": [3.0], "h": [4.0], "c": [1.0], "lr": 0.6})["L_new"] > 8.0


def test_clip_grad_norm_matches_numpy():
    for _ in range(200):
        g1, g2 = _vec(int(rng.integers(1, 5)), -5, 5), _vec(int(rng.integers(1, 5)), -5, 5)
        max_norm = float(rng.choice([0.5, 1, 2, 5, 100]))
        out = get("gradient_clip_norm")({"g1": g1, "g2": g2, "max_norm": max_norm})
        total = math.sqrt(np.sum(g1**2) + np.sum(g2**2))
        coef = min(1.0, max_norm / (total + 1e-6))  # PyTorch docs: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1
        assert out["total"] == pytest.approx(total, rel=1e-12)
        assert out["coef"] == pytest.approx(coef, rel=1e-12)
        np.testing.assert_allclose(out["g1_new"], coef * g1, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["g2_new"], coef * g2, rtol=1e-12, atol=1e-15)


def test_clip_golden_pascanu():
    # Pascanu, Mikolov & Bengio (2013), Algorithm 1: if ||g|| >= threshold, g <- threshold/||g|| * g.
    # g = [3, 4] (norm 5) with threshold 1 becomes [0.6, 0.8] (up to PyTorch's 1e-6 in the denominator).
    out = get("gradient_clip_norm")({"g1": [3.0], "g2": [4.0], "max_norm": 1.0})
    assert out["total"] == 5.0
    np.testing.assert_allclose([out["g1_new"][0], out["g2_new"][0]], [0.6, 0.8], rtol=1e-6)
    # Below the threshold nothing changes.
    out = get("gradient_clip_norm")({"g1": [3.0], "g2": [4.0], "max_norm": 10.0})
    assert out["coef"] == 1.0 and out["g1_new"][0] == 3.0
    # Clipping by value (PyTorch docs: clamp to [-clip_value, clip_value]) turns the vector:
    # [3, 4] clipped at 1 is [1, 1], at 45 degrees instead of 53.13: cosine (3 + 4)/(5 sqrt 2) = 0.98995.
    out = get("gradient_clip_value")({"g": [3.0, 4.0], "clip": 1.0})
    np.testing.assert_allclose(out["g_clipped"], [1.0, 1.0])
    assert out["cos"] == pytest.approx(7 / (5 * math.sqrt(2)))


def test_clip_grad_value_matches_numpy():
    for _ in range(200):
        g, clip = _vec(int(rng.integers(1, 6)), -5, 5), float(rng.choice([0.5, 1, 2, 3]))
        if not np.any(g):
            continue
        out = get("gradient_clip_value")({"g": g, "clip": clip})
        clipped = np.clip(g, -clip, clip)
        np.testing.assert_allclose(out["g_clipped"], clipped)
        assert out["cos"] == pytest.approx(g @ clipped / (np.linalg.norm(g) * np.linalg.norm(clipped)), rel=1e-12)


def test_l1_step_matches_numpy():
    l1 = get("l1_regularized_step")
    for _ in range(200):
        n = int(rng.integers(1, 6))
        w, dw = np.round(rng.uniform(-2, 2, n), 1), _vec(n, -1, 1)
        lam, lr = float(rng.choice([0.1, 0.5, 1, 2])), float(rng.choice([0.1, 0.2, 0.5]))
        p = {"w": w, "dw": dw, "lam": lam, "lr": lr}
        z = w - lr * dw
        sub = l1(p)
        np.testing.assert_allclose(sub["w_new"], z - lr * lam * np.sign(w), rtol=1e-12, atol=1e-12)
        assert sub["penalty"] == pytest.approx(lam * np.abs(w).sum())
        # Beck & Teboulle (2009), ISTA: the proximal map of t*lam*|w| is soft-thresholding by t*lam.
        prox = l1({**p, "update": "proximal"})
        np.testing.assert_allclose(prox["w_new"], np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0), rtol=1e-12, atol=1e-12)


def test_l1_golden_soft_threshold_and_zero_subgradient():
    l1 = get("l1_regularized_step")
    # PyTorch's Softshrink docs (lambda = 0.5): x - lambda for x > lambda, x + lambda for x < -lambda,
    # else 0; so z = [1, 0.2, -0.7] becomes [0.5, 0, -0.2]. Here z = w (zero cost gradient), lr*lam = 0.5.
    out = l1({"w": [1.0, 0.2, -0.7], "dw": [0.0, 0.0, 0.0], "lam": 0.5, "lr": 1.0, "update": "proximal"})
    np.testing.assert_allclose(out["w_new"], [0.5, 0.0, -0.2], atol=1e-12)
    # The subgradient step with sign(0) = 0 (autograd's derivative of |w| at 0) leaves a zero weight alone,
    # and carries a small one across 0 (0.2 -> -0.3): the sparsity comes from the proximal step.
    out = l1({"w": [0.0, 0.2], "dw": [0.0, 0.0], "lam": 0.5, "lr": 1.0})
    np.testing.assert_allclose(out["w_new"], [0.0, -0.3], atol=1e-12)


def test_regularized_regression_matches_numpy():
    for _ in range(200):
        m, n = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        X, y, w, b = _vec((m, n)), _vec(m), _vec(n), float(_vec(1)[0])
        lam = float(rng.choice([0.0, 0.1, 1.0]))
        r = X @ w + b - y
        want = {
            "notes": (np.sum(r**2) + lam * np.sum(w**2), 2 * X.T @ r + 2 * lam * w, 2 * np.sum(r)),
            "ng": (np.sum(r**2) / (2 * m) + lam / (2 * m) * np.sum(w**2), (X.T @ r + lam * w) / m, np.sum(r) / m),
        }
        for form, (loss, grad_w, grad_b) in want.items():
            out = get("regularized_regression")({"X": X, "y": y, "w": w, "b": b, "lam": lam, "form": form})
            assert out["loss"] == pytest.approx(loss, rel=1e-12)
            np.testing.assert_allclose(out["grad_w"], grad_w, rtol=1e-9, atol=1e-12)
            assert out["grad_b"] == pytest.approx(grad_b, rel=1e-9, abs=1e-12)


def test_regularized_regression_golden():
    # Hand-worked for the notes' form L = sum (y - (b + w x))^2 + lambda sum w^2 (Hung-yi Lee, lecture 1):
    # a perfect fit y = 2x leaves only the penalty: L = lambda w^2 = 0.5 * 4 = 2 with gradient 2 lambda w = 2.
    out = get("regularized_regression")({"X": [[1.0], [2.0], [3.0]], "y": [2.0, 4.0, 6.0], "w": [2.0], "b": 0.0, "lam": 0.5})
    assert out["loss"] == 2.0 and out["grad_w"][0] == 2.0 and out["grad_b"] == 0.0
    # Ng's form divides both terms by 2m = 6: 0.5/6 * 4 = 1/3, gradient 0.5/3 * 2 = 1/3.
    out = get("regularized_regression")({"X": [[1.0], [2.0], [3.0]], "y": [2.0, 4.0, 6.0], "w": [2.0], "b": 0.0, "lam": 0.5, "form": "ng"})
    assert out["loss"] == pytest.approx(1 / 3) and out["grad_w"][0] == pytest.approx(1 / 3)


def test_feature_scaling_matches_numpy():
    for _ in range(200):
        m, n = int(rng.integers(2, 7)), int(rng.integers(1, 4))
        X = _vec((m, n), -5, 5)
        if np.any(X.max(axis=0) == X.min(axis=0)):
            continue
        for std, ddof in (("biased", 0), ("unbiased", 1)):
            out = get("feature_scaling")({"X": X, "std": std})
            sigma = X.std(axis=0, ddof=ddof)
            np.testing.assert_allclose(out["Z"], (X - X.mean(axis=0)) / sigma, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(out["S"], (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)), rtol=1e-12, atol=1e-15)


def test_feature_scaling_golden_scikit_learn_docs():
    # scikit-learn's StandardScaler docs example: data [[0, 0], [0, 0], [1, 1], [1, 1]] has mean_ [0.5, 0.5]
    # and scale_ [0.5, 0.5] (the biased std), so it standardizes to -+1.
    out = get("feature_scaling")({"X": np.array([[0.0, 0], [0, 0], [1, 1], [1, 1]])})
    np.testing.assert_allclose(out["mu"], [0.5, 0.5])
    np.testing.assert_allclose(out["sigma"], [0.5, 0.5])
    np.testing.assert_allclose(out["Z"], [[-1, -1], [-1, -1], [1, 1], [1, 1]])
    # scikit-learn's MinMaxScaler docs example: [[-1, 2], [-0.5, 6], [0, 10], [1, 18]] ->
    # [[0, 0], [0.25, 0.25], [0.5, 0.5], [1, 1]].
    out = get("feature_scaling")({"X": np.array([[-1.0, 2], [-0.5, 6], [0, 10], [1, 18]])})
    np.testing.assert_allclose(out["S"], [[0, 0], [0.25, 0.25], [0.5, 0.5], [1, 1]])
    # torch.std divides by N - 1 by default (PyTorch docs: correction=1), pandas too.
    assert float(torch.tensor([0.0, 0, 1, 1]).std()) == pytest.approx(math.sqrt(1 / 3))
    out = get("feature_scaling")({"X": np.array([[0.0], [0], [1], [1]]), "std": "unbiased"})
    assert out["sigma"][0] == pytest.approx(math.sqrt(1 / 3))
