"""Foundations oracles (torch) against published worked examples and independent NumPy computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlstudy.engine.oracles import get

rng = np.random.default_rng(23)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------
# Perceptron


def test_perceptron_cornell_or_golden():
    # Cornell CS 472 (2004), "perceptron-example.txt": learning OR with 0/1 labels, a threshold as the weight
    # of a constant input -1, output 1 when the dot product is >= 0, learning rate 0.5, weights start at 0.
    # Epoch 1, example 1 <0,0,-1>: dot 0, output 1, desired 0 -> weights <0,0,.5>;
    # example 2 <0,1,-1>: dot -.5, output 0, desired 1 -> <0,.5,0>; epoch 2, example 1: dot 0 -> <0,.5,.5>.
    step = get("perceptron_update")
    common = {"eta": 0.5, "labels": "binary", "fires_at_zero": True, "offset": "threshold"}
    first = step({**common, "x": np.array([0.0, 0.0]), "w": np.array([0.0, 0.0]), "b": 0.0, "y": 0})
    assert (first["s"], first["yhat"], first["err"]) == (0.0, 1.0, -1.0)
    assert first["w_new"].tolist() == [0.0, 0.0] and first["b_new"] == 0.5
    second = step({**common, "x": np.array([0.0, 1.0]), "w": first["w_new"], "b": first["b_new"], "y": 1})
    assert (second["s"], second["yhat"]) == (-0.5, 0.0)
    assert second["w_new"].tolist() == [0.0, 0.5] and second["b_new"] == 0.0
    again = step({**common, "x": np.array([0.0, 0.0]), "w": second["w_new"], "b": second["b_new"], "y": 0})
    assert again["w_new"].tolist() == [0.0, 0.5] and again["b_new"] == 0.5


def test_perceptron_rule_matches_numpy_for_every_convention():
    step = get("perceptron_update")
    for _ in range(300):
        n = int(rng.integers(1, 5))
        labels, offset = str(rng.choice(["pm1", "binary"])), str(rng.choice(["bias", "threshold"]))
        fires = bool(rng.integers(2))
        x, w = rng.integers(-2, 3, n).astype(float), rng.integers(-2, 3, n).astype(float)
        b, eta = float(rng.integers(-2, 3)), float(rng.choice([1.0, 0.5]))
        y = float(rng.choice([1, -1] if labels == "pm1" else [1, 0]))
        out = step({"x": x, "w": w, "b": b, "y": y, "eta": eta, "labels": labels, "fires_at_zero": fires, "offset": offset})
        s = w @ x + (b if offset == "bias" else -b)
        positive = s > 0 or (s == 0 and fires)
        yhat = 1.0 if positive else (-1.0 if labels == "pm1" else 0.0)
        assert out["yhat"] == yhat
        assert np.allclose(out["w_new"], w + eta * (y - yhat) * x)
        assert out["b_new"] == pytest.approx(b + eta * (y - yhat) * (1 if offset == "bias" else -1))


# ---------------------------------------------------------------------------
# Linear and logistic regression


def test_linear_regression_ng_golden():
    # Andrew Ng, Machine Learning Specialization, course 1 week 1, "Optional Lab: Gradient Descent for Linear
    # Regression": x = [1, 2], y = [300, 500], w = b = 0, alpha = 0.01, J = 1/(2m) sum (f - y)^2. The first
    # iteration prints dj_dw = -650, dj_db = -400, w = 6.5, b = 4 and the cost 7.93e+04 at the new (w, b).
    step = get("linreg_gd_step")
    p = {"X": np.array([[1.0], [2.0]]), "y": np.array([300.0, 500.0]), "w": np.array([0.0]), "b": 0.0,
         "lr": 0.01, "loss": "half_mse"}
    out = step(p)
    assert out["dw"].tolist() == [-650.0] and out["db"] == -400.0
    assert out["w_new"].tolist() == [6.5] and out["b_new"] == 4.0
    after = step({**p, "w": out["w_new"], "b": out["b_new"]})
    assert f"{after['L']:.2e}" == "7.93e+04"


@pytest.mark.parametrize("loss, factor, mean", [("sse", 1.0, False), ("half_sse", 0.5, False), ("mse", 1.0, True),
                                                 ("half_mse", 0.5, True)])
def test_linear_regression_matches_numpy(loss, factor, mean):
    step = get("linreg_gd_step")
    for _ in range(100):
        N, d = (int(v) for v in rng.integers(1, 6, 2))
        X, y, w, b = rng.normal(size=(N, d)), rng.normal(size=N), rng.normal(size=d), float(rng.normal())
        out = step({"X": X, "y": y, "w": w, "b": b, "lr": 0.1, "loss": loss})
        e = X @ w + b - y
        scale = factor / (N if mean else 1)
        assert out["L"] == pytest.approx(scale * np.sum(e**2), rel=1e-12)
        assert np.allclose(out["dw"], 2 * scale * X.T @ e) and out["db"] == pytest.approx(2 * scale * e.sum())
        assert np.allclose(out["w_new"], w - 0.1 * 2 * scale * X.T @ e)


def test_logistic_regression_ng_golden():
    # Andrew Ng, Deep Learning Specialization, course 1 week 2, "Logistic Regression with a Neural Network
    # mindset": propagate(w = [1, 2], b = 2, X = [[1, 2, -1], [3, 4, -3.2]], Y = [1, 0, 1]) gives
    # cost 5.801545319394553, dw = [0.99845601, 2.39507239], db = 0.00145557813678 (mean cross-entropy);
    # optimize(..., num_iterations=100, learning_rate=0.009) gives w = [0.19033591, 0.12259159],
    # b = 1.92535983008, dw = [0.67752042, 1.41625495], db = 0.219194504541.
    step = get("logreg_gd_step")
    p = {"X": np.array([[1.0, 3.0], [2.0, 4.0], [-1.0, -3.2]]), "y": np.array([1.0, 0.0, 1.0]),
         "w": np.array([1.0, 2.0]), "b": 2.0, "lr": 0.009, "reduction": "mean"}
    out = step(p)
    assert out["J"] == pytest.approx(5.801545319394553, rel=1e-12)
    assert out["dw"] == pytest.approx([0.99845601, 2.39507239], abs=5e-9)
    assert out["db"] == pytest.approx(0.00145557813678, abs=5e-15)
    for _ in range(100):
        out = step(p)
        p = {**p, "w": out["w_new"], "b": out["b_new"]}
    assert p["w"] == pytest.approx([0.19033591, 0.12259159], abs=5e-9)
    assert p["b"] == pytest.approx(1.92535983008, abs=5e-12)
    assert out["dw"] == pytest.approx([0.67752042, 1.41625495], abs=5e-9)
    assert out["db"] == pytest.approx(0.219194504541, abs=5e-13)


def test_logistic_regression_matches_numpy_for_soft_labels_and_sums():
    step = get("logreg_gd_step")
    for _ in range(100):
        N, d = (int(v) for v in rng.integers(1, 6, 2))
        X, y, w, b = rng.normal(size=(N, d)), rng.uniform(0, 1, N), rng.normal(size=d), float(rng.normal())
        reduction = str(rng.choice(["mean", "sum"]))
        out = step({"X": X, "y": y, "w": w, "b": b, "lr": 0.5, "reduction": reduction})
        yhat = _sigmoid(X @ w + b)
        scale = 1 / N if reduction == "mean" else 1.0
        assert out["J"] == pytest.approx(-scale * np.sum(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)), rel=1e-10)
        assert np.allclose(out["dw"], scale * X.T @ (yhat - y), rtol=1e-10)
        assert out["b_new"] == pytest.approx(b - 0.5 * scale * np.sum(yhat - y), rel=1e-10)


# ---------------------------------------------------------------------------
# Gaussian generative classifier


def _gaussian_density(x, mu, S):
    d = len(mu)
    diff = x - mu
    return math.exp(-0.5 * diff @ np.linalg.solve(S, diff)) / math.sqrt((2 * math.pi) ** d * np.linalg.det(S))


def test_gaussian_posterior_bishop_golden():
    # Bishop, PRML (2006), eqs. 4.65-4.67: w = Σ⁻¹(μ₁ − μ₂), w₀ = −½μ₁ᵀΣ⁻¹μ₁ + ½μ₂ᵀΣ⁻¹μ₂ + ln(p(C₁)/p(C₂)).
    # In one dimension with μ₁ = 1, μ₂ = −1, σ² = 1: w = 2, w₀ = ln(p(C₁)/p(C₂)), so at x = 0.5 with equal
    # priors P(C₁|x) = σ(1) = 0.7310585786.
    post = get("gaussian_posterior")
    out = post({"mu1": np.array([1.0]), "mu2": np.array([-1.0]), "S": np.array([[1.0]]), "p1": 0.5, "x": np.array([0.5])})
    assert out["w"].tolist() == pytest.approx([2.0]) and out["b"] == pytest.approx(0.0, abs=1e-12)
    assert out["p"] == pytest.approx(0.7310585786, abs=1e-10)
    skewed = post({"mu1": np.array([1.0]), "mu2": np.array([-1.0]), "S": np.array([[1.0]]), "p1": 0.8, "x": np.array([0.5])})
    assert skewed["b"] == pytest.approx(math.log(4.0), rel=1e-12)


def test_gaussian_log_density_equals_torch_distributions():
    import torch
    from torch.distributions import MultivariateNormal

    from dlstudy.engine.oracles.foundations import gaussian_log_density

    for _ in range(20):
        d = int(rng.integers(1, 5))
        A = rng.normal(size=(d, d))
        S = torch.tensor(A @ A.T + np.eye(d))
        mean, x = torch.tensor(rng.normal(size=d)), torch.tensor(rng.normal(size=d))
        expected = MultivariateNormal(mean, covariance_matrix=S).log_prob(x)
        assert float(gaussian_log_density(x, mean, S)) == pytest.approx(float(expected), rel=1e-10)


def test_gaussian_posterior_matches_bayes_rule_in_numpy():
    post = get("gaussian_posterior")
    for _ in range(100):
        d = int(rng.integers(1, 4))
        A = rng.normal(size=(d, d))
        S = A @ A.T + d * np.eye(d)
        mu1, mu2, x = rng.normal(size=d), rng.normal(size=d), rng.normal(size=d)
        p1 = float(rng.uniform(0.1, 0.9))
        out = post({"mu1": mu1, "mu2": mu2, "S": S, "p1": p1, "x": x})
        joint1, joint2 = _gaussian_density(x, mu1, S) * p1, _gaussian_density(x, mu2, S) * (1 - p1)
        assert out["p"] == pytest.approx(joint1 / (joint1 + joint2), rel=1e-9)
        assert np.allclose(out["w"], np.linalg.solve(S, mu1 - mu2), rtol=1e-9)
        assert np.allclose(out["Sinv"] @ S, np.eye(d), atol=1e-10)


# ---------------------------------------------------------------------------
# XOR, stacked linear layers, vanishing gradients


def test_xor_haykin_golden():
    # Haykin, Neural Networks and Learning Machines (3rd ed.), §4.5 "XOR problem" (after Touretzky and
    # Pomerleau, 1989): hidden neuron 1 has weights +1, +1 and bias −3/2 (AND), neuron 2 weights +1, +1 and
    # bias −1/2 (OR); the output neuron has weights −2 (from neuron 1), +1 (from neuron 2) and bias −1/2.
    out = get("xor_threshold_network")({"W1": np.array([[1.0, 1.0], [1.0, 1.0]]), "b1": np.array([-1.5, -0.5]),
                                        "w2": np.array([-2.0, 1.0]), "b2": -0.5})
    assert out["H"].tolist() == [[0, 0], [0, 1], [0, 1], [1, 1]]
    assert out["y"].tolist() == [0, 1, 1, 0]


def test_threshold_network_matches_numpy():
    net = get("xor_threshold_network")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    for _ in range(100):
        m = int(rng.integers(1, 5))
        W1, b1, w2 = rng.integers(-2, 3, (2, m)).astype(float), rng.integers(-2, 3, m).astype(float), rng.integers(-2, 3, m).astype(float)
        b2, fires = float(rng.integers(-2, 3)), bool(rng.integers(2))
        out = net({"W1": W1, "b1": b1, "w2": w2, "b2": b2, "fires_at_zero": fires})
        unit = (lambda v: (v > 0) | ((v == 0) & fires))
        H = unit(X @ W1 + b1).astype(float)
        assert out["H"].tolist() == H.tolist()
        assert out["y"].tolist() == unit(H @ w2 + b2).astype(float).tolist()


def test_linear_layers_collapse_matches_composition():
    collapse = get("linear_collapse")
    for _ in range(100):
        n, m, k = (int(v) for v in rng.integers(1, 5, 3))
        W1, b1, W2, b2, x = rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=(k, m)), rng.normal(size=k), rng.normal(size=n)
        out = collapse({"W1": W1, "b1": b1, "W2": W2, "b2": b2, "x": x})
        assert np.allclose(out["W"], W2 @ W1) and np.allclose(out["c"], W2 @ b1 + b2)
        assert np.allclose(out["y"], W2 @ (W1 @ x + b1) + b2)


def test_vanishing_gradient_nielsen_bound_and_numpy():
    # Nielsen, Neural Networks and Deep Learning, ch. 5: σ'(z) peaks at σ'(0) = 1/4, so each sigmoid layer
    # scales the gradient by |w_j σ'(z_j)| <= |w_j|/4. With every z = 0 and w = 1 the bound is met exactly.
    chain = get("vanishing_sigmoid_chain")
    for L in (1, 3, 10):
        out = chain({"w": np.ones(L), "z": np.zeros(L)})
        assert out["g"] == pytest.approx(0.25**L, rel=1e-12) and out["bound"] == pytest.approx(0.25**L, rel=1e-12)
    for _ in range(100):
        L = int(rng.integers(1, 8))
        w, z = rng.uniform(-3, 3, L), rng.uniform(-4, 4, L)
        out = chain({"w": w, "z": z})
        slopes = _sigmoid(z) * (1 - _sigmoid(z))
        assert np.allclose(out["gp"], slopes) and np.allclose(out["factors"], w * slopes)
        assert out["g"] == pytest.approx(np.prod(w * slopes), rel=1e-9)
        assert abs(out["g"]) <= out["bound"]


# ---------------------------------------------------------------------------
# Numerical gradient check


def test_gradient_check_ng_golden():
    # Andrew Ng, Deep Learning Specialization, course 2 week 1, "Gradient Checking": J(θ) = θx with x = 2,
    # θ = 4, epsilon = 1e-7 and difference = ‖grad − gradapprox‖ / (‖grad‖ + ‖gradapprox‖) prints
    # "difference = 2.919335883291695e-10".
    out = get("gradient_check")({"fn": "power", "c": 2, "k": 1, "x": 4.0, "h": 1e-7, "denom": "sum"})
    assert out["a"] == 2.0
    assert out["err"] == pytest.approx(2.919335883291695e-10, rel=1e-9)


FUNCTIONS = {"sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))), "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
             "exp": (np.exp, np.exp), "sin": (np.sin, np.cos)}


def test_gradient_check_matches_numpy_cs231n_relative_error():
    check = get("gradient_check")
    for _ in range(100):
        fn = str(rng.choice(list(FUNCTIONS)))
        f, df = FUNCTIONS[fn]
        # torch's and NumPy's functions differ in the last bit, which the difference amplifies by 1/h
        x, h = float(rng.uniform(-2, 2)), float(rng.choice([0.1, 0.01, 0.001]))
        out = check({"fn": fn, "x": x, "h": h, "denom": "max"})
        n = (f(x + h) - f(x - h)) / (2 * h)
        assert out["n"] == pytest.approx(n, rel=1e-10) and out["a"] == pytest.approx(df(x), rel=1e-12)
        assert out["err"] == pytest.approx(abs(df(x) - n) / max(abs(df(x)), abs(n)), rel=1e-4)
