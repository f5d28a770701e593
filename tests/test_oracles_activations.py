"""Activation oracles against independent NumPy definitions, finite differences and published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlstudy.engine.oracles import get

rng = np.random.default_rng(7)

# SELU's constants as printed in the torch.nn.SELU documentation (Klambauer et al., 2017).
LAMBDA = 1.0507009873554804934193349852946
ALPHA = 1.6732632423543772848170429916717


def _phi_cdf(x):
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(x, dtype=float) / math.sqrt(2.0)))


# Definitions written from the papers / the PyTorch docs, independently of the oracles.
REFERENCE = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1),
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1.0),
    "selu": lambda x: LAMBDA * np.where(x > 0, x, ALPHA * (np.exp(x) - 1.0)),
    "gelu": lambda x: x * _phi_cdf(x),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
}


def _central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_value_and_slope_match_definitions_and_finite_differences():
    oracle = get("activation_value_grad")
    for _ in range(300):
        name = str(rng.choice(list(REFERENCE)))
        x = float(rng.uniform(-4, 4))
        if abs(x) < 1e-3:  # kinks of relu / leaky relu / elu / selu
            continue
        out = oracle({"act": name, "x": x})
        ref = REFERENCE[name]
        assert out["f"] == pytest.approx(float(ref(np.float64(x))), rel=1e-9, abs=1e-12), (name, x)
        assert out["d"] == pytest.approx(float(_central_difference(ref, np.float64(x))), rel=1e-6, abs=1e-8), (name, x)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "gelu"])
def test_derivative_function_matches_finite_differences(name):
    derivative = get("activation_derivative_fn")({"act": name})["d"]
    xs = rng.uniform(-5, 5, 64)
    assert np.allclose(derivative(xs), _central_difference(REFERENCE[name], xs), rtol=1e-6, atol=1e-8)


def test_golden_values():
    value = get("activation_value_grad")
    # sigma'(0) = sigma(0)(1 - sigma(0)) = 1/4, the sigmoid's steepest slope (Goodfellow et al., Deep Learning, 2016, sec. 3.10).
    assert value({"act": "sigmoid", "x": 0.0})["d"] == pytest.approx(0.25, abs=1e-12)
    # tanh'(0) = 1 - tanh(0)^2 = 1, and softplus(0) = ln(1 + e^0) = ln 2.
    assert value({"act": "tanh", "x": 0.0})["d"] == pytest.approx(1.0, abs=1e-12)
    assert value({"act": "softplus", "x": 0.0})["f"] == pytest.approx(math.log(2), abs=1e-12)
    # GELU(1) = 1 * Phi(1) = 0.8413 (Hendrycks & Gimpel 2016; Phi(1) = 0.841345 from a standard normal table).
    assert value({"act": "gelu", "x": 1.0})["f"] == pytest.approx(0.841345, abs=1e-6)
    # SELU: slope lambda = 1.0507 for x > 0 and saturation at -lambda*alpha = -1.7581 (Klambauer et al. 2017, torch.nn.SELU docs).
    assert value({"act": "selu", "x": 2.0})["d"] == pytest.approx(1.0507009873554805, rel=1e-12)
    assert value({"act": "selu", "x": -30.0})["f"] == pytest.approx(-1.7580993408473766, rel=1e-9)
    # Leaky ReLU's default negative_slope is 0.01 (torch.nn.LeakyReLU docs); ELU's default alpha is 1.
    assert value({"act": "leaky_relu", "x": -2.0})["d"] == pytest.approx(0.01)
    assert value({"act": "elu", "x": -1.0})["f"] == pytest.approx(math.exp(-1) - 1)
    # The expression oracle at 0: sigma'(0) = 1/4, tanh'(0) = 1, softplus'(0) = sigma(0) = 1/2, GELU'(0) = Phi(0) = 1/2.
    for name, slope in (("sigmoid", 0.25), ("tanh", 1.0), ("softplus", 0.5), ("gelu", 0.5), ("silu", 0.5)):
        derivative = get("activation_derivative_fn")({"act": name})["d"]
        assert derivative(np.array([0.0]))[0] == pytest.approx(slope, abs=1e-12), name


# ---------------------------------------------------------------------------
# The zoo's options (row 17) and maxout (row 18)

OPTIONED = {
    "leaky_relu": lambda x, a, alpha, beta: np.where(x > 0, x, a * x),
    "prelu": lambda x, a, alpha, beta: np.where(x > 0, x, a * x),
    "relu6": lambda x, a, alpha, beta: np.minimum(np.maximum(x, 0.0), 6.0),
    "elu": lambda x, a, alpha, beta: np.where(x > 0, x, alpha * (np.exp(x) - 1.0)),
    "celu": lambda x, a, alpha, beta: np.where(x > 0, x, alpha * (np.exp(x / alpha) - 1.0)),
    "softplus": lambda x, a, alpha, beta: np.log1p(np.exp(beta * x)) / beta,
    "logsigmoid": lambda x, a, alpha, beta: -np.log1p(np.exp(-x)),
}


def test_activation_options_match_definitions_and_finite_differences():
    oracle = get("activation_value_grad")
    for _ in range(300):
        name = str(rng.choice(list(OPTIONED)))
        x = float(rng.uniform(-8, 8))
        if min(abs(x), abs(x - 6)) < 1e-3:
            continue
        options = {"a": float(rng.choice([0.01, 0.2, 0.25])), "alpha": float(rng.choice([0.5, 1.0, 2.0])),
                   "beta": float(rng.choice([0.5, 1.0, 2.0]))}
        out = oracle({"act": name, "x": x, **options})
        ref = lambda t: OPTIONED[name](t, **options)  # noqa: E731
        assert out["f"] == pytest.approx(float(ref(np.float64(x))), rel=1e-9, abs=1e-12), (name, x, options)
        assert out["d"] == pytest.approx(float(_central_difference(ref, np.float64(x))), rel=1e-6, abs=1e-8), (name, x, options)


def test_activation_options_golden():
    import torch

    value = get("activation_value_grad")
    # He et al. (2015), PReLU: "we use a_i = 0.25 as the initialization"; nn.PReLU's default weight is 0.25.
    assert float(torch.nn.PReLU().weight.detach()) == 0.25
    assert value({"act": "prelu", "x": -2.0, "a": 0.25}) == {"f": -0.5, "d": 0.25}
    # Barron (2017), CELU: with alpha = 1 it is the ELU; its slope at x <= 0 is e^(x/alpha).
    assert value({"act": "celu", "x": -1.0, "alpha": 1.0})["f"] == pytest.approx(value({"act": "elu", "x": -1.0})["f"])
    assert value({"act": "celu", "x": -1.0, "alpha": 2.0})["d"] == pytest.approx(math.exp(-0.5))
    # ReLU6 (Krizhevsky 2010; MobileNet) clips at 6: f(7) = 6 with slope 0.
    assert value({"act": "relu6", "x": 7.0}) == {"f": 6.0, "d": 0.0}
    # Softplus with beta (PyTorch docs: 1/beta * log(1 + exp(beta x))): at 0 it is ln(2)/beta, slope 1/2.
    assert value({"act": "softplus", "x": 0.0, "beta": 2.0})["f"] == pytest.approx(math.log(2) / 2)
    assert value({"act": "softplus", "x": 0.0, "beta": 2.0})["d"] == pytest.approx(0.5)
    # LogSigmoid at 0: ln(1/2) = -ln 2 with slope 1 - sigma(0) = 1/2.
    assert value({"act": "logsigmoid", "x": 0.0})["f"] == pytest.approx(-math.log(2))
    assert value({"act": "logsigmoid", "x": 0.0})["d"] == pytest.approx(0.5)
    # The leaky ReLU's slope option: torch's default 0.01 when left out.
    assert value({"act": "leaky_relu", "x": -3.0})["d"] == pytest.approx(0.01)
    assert value({"act": "leaky_relu", "x": -3.0, "a": 0.2})["f"] == pytest.approx(-0.6)


def test_maxout_matches_numpy():
    oracle = get("maxout_unit")
    for _ in range(200):
        k, n = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        W, b, x = np.round(rng.uniform(-2, 2, (k, n)), 0), np.round(rng.uniform(-1, 1, k), 0), np.round(rng.uniform(-2, 2, n), 0)
        out = oracle({"W": W, "b": b, "x": x})
        z = W @ x + b
        np.testing.assert_allclose(out["z"], z, rtol=1e-12)
        assert out["h"] == z.max() and out["j"] == int(np.argmax(z)) + 1  # the first maximal piece, from 1


def test_maxout_golden_goodfellow():
    # Goodfellow et al. (2013), Maxout Networks, Fig. 1: a maxout unit can implement the rectifier
    # (pieces x and 0) and the absolute value (pieces x and -x).
    oracle = get("maxout_unit")
    for x in (-2.0, -0.5, 1.5, 3.0):
        relu = oracle({"W": [[1.0], [0.0]], "b": [0.0, 0.0], "x": [x]})
        absolute = oracle({"W": [[1.0], [-1.0]], "b": [0.0, 0.0], "x": [x]})
        assert relu["h"] == max(x, 0.0) and absolute["h"] == abs(x)
        assert absolute["j"] == (1 if x > 0 else 2)
