"""Oracles for activation functions: values and derivatives.

Values come from ``torch.nn.functional`` (the reference implementations, with
torch's default constants: leaky ReLU slope 0.01, ELU alpha 1, SELU's
Klambauer et al. constants, exact GELU); derivatives from ``torch.autograd``
on those same functions, never from a hand-written derivative.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Mapping

import numpy as np

from dlstudy.engine.oracles import register

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "silu")


@lru_cache(maxsize=None)
def torch_activation(name: str) -> Callable[[Any], Any]:
    """The torch function for an activation word used in the templates."""
    import torch
    import torch.nn.functional as F

    table: dict[str, Callable[[Any], Any]] = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": F.leaky_relu,  # negative_slope=0.01
        "elu": F.elu,  # alpha=1.0
        "selu": F.selu,
        "gelu": F.gelu,  # approximate="none": x * Phi(x)
        "softplus": F.softplus,  # beta=1
        "silu": F.silu,  # x * sigmoid(x), a.k.a. swish
    }
    return table[name]


def value_and_slope(name: str, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) element-wise, f by torch and f' by autograd (float64)."""
    import torch

    t = torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64, requires_grad=True)
    y = torch_activation(name)(t)
    (slope,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), slope.numpy()


@register("activation_value_grad")
def activation_value_grad(p: Mapping[str, Any]) -> dict[str, Any]:
    value, slope = value_and_slope(str(p["act"]), float(p["x"]))
    return {"f": float(value), "d": float(slope)}


@register("activation_derivative_fn")
def activation_derivative_fn(p: Mapping[str, Any]) -> dict[str, Any]:
    name = str(p["act"])

    def derivative(x: np.ndarray) -> np.ndarray:
        return value_and_slope(name, x)[1]

    return {"d": derivative}
