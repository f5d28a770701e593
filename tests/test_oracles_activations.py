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
