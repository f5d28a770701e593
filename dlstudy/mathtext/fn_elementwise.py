"""Whitelisted functions, entry by entry: rounding, powers and logarithms, trigonometry, the normal
distribution, and the activation functions (softmax and logsumexp too, over the last axis).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

# SELU's constants (Klambauer et al., 2017), as torch.nn.SELU uses them.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

_erf = np.vectorize(math.erf, otypes=[float])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    z = np.asarray(x, dtype=float)
    z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return z / np.sum(z, axis=-1, keepdims=True)


ELEMENTWISE_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # name: (function, min args, max args)
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "abs": (np.abs, 1, 1),
    "sign": (np.sign, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "ln": (np.log, 1, 1),
    "log2": (np.log2, 1, 1),
    "log10": (np.log10, 1, 1),
    "sin": (np.sin, 1, 1),
    "cos": (np.cos, 1, 1),
    "tan": (np.tan, 1, 1),
    "tanh": (np.tanh, 1, 1),
    "erf": (_erf, 1, 1),
    "sigmoid": (_sigmoid, 1, 1),
    "sigma": (_sigmoid, 1, 1),
    "σ": (_sigmoid, 1, 1),
    "relu": (lambda x: np.maximum(x, 0.0), 1, 1),
    "step": (lambda x: np.asarray(np.asarray(x) > 0, dtype=float), 1, 1),  # 1.0 where positive, else 0.0
    "leaky_relu": (lambda x, a=0.01: np.where(np.asarray(x) > 0, x, a * np.asarray(x)), 1, 2),
    "elu": (lambda x, a=1.0: np.where(np.asarray(x) > 0, x, a * np.expm1(np.minimum(x, 0))), 1, 2),
    "selu": (
        lambda x: SELU_LAMBDA * np.where(np.asarray(x) > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
        1,
        1,
    ),
    "gelu": (lambda x: 0.5 * np.asarray(x) * (1.0 + _erf(np.asarray(x) / math.sqrt(2.0))), 1, 1),
    "Phi": (lambda x: 0.5 * (1.0 + _erf(np.asarray(x) / math.sqrt(2.0))), 1, 1),
    "phi": (lambda x: np.exp(-0.5 * np.square(x)) / math.sqrt(2.0 * math.pi), 1, 1),
    "softplus": (lambda x: np.logaddexp(0.0, x), 1, 1),
    "softmax": (_softmax, 1, 1),
    "logsumexp": (lambda x: float(np.logaddexp.reduce(np.asarray(x, dtype=float))), 1, 1),
    "round": (lambda x: np.rint(x), 1, 1),  # to nearest, halves to even (as torch.round / quantize_per_tensor)
    "gamma": (np.vectorize(math.gamma, otypes=[float]), 1, 1),  # Euler's Gamma function, Γ(n + 1) = n!
}
