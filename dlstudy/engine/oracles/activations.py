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

NAMES = (
    "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "relu6", "elu", "celu", "selu", "gelu", "softplus", "silu",
    "logsigmoid",
)

# The options of the parametrised activations, as the templates name them, and torch's defaults.
DEFAULTS = {"a": 0.01, "alpha": 1.0, "beta": 1.0}


@lru_cache(maxsize=None)
def torch_activation(name: str) -> Callable[..., Any]:
    """The torch function for an activation word used in the templates: f(x, a, alpha, beta), each
    activation using the options it has (negative slope a, ELU/CELU alpha, softplus beta)."""
    import torch
    import torch.nn.functional as F

    table: dict[str, Callable[..., Any]] = {
        "sigmoid": lambda x, **_: torch.sigmoid(x),
        "tanh": lambda x, **_: torch.tanh(x),
        "relu": lambda x, **_: F.relu(x),
        "leaky_relu": lambda x, a, **_: F.leaky_relu(x, a),  # torch's default negative_slope 0.01
        "prelu": lambda x, a, **_: F.prelu(x, torch.tensor([a], dtype=x.dtype)),  # one learned slope a
        "relu6": lambda x, **_: F.relu6(x),
        "elu": lambda x, alpha, **_: F.elu(x, alpha),  # default alpha=1.0
        "celu": lambda x, alpha, **_: F.celu(x, alpha),
        "selu": lambda x, **_: F.selu(x),
        "gelu": lambda x, **_: F.gelu(x),  # approximate="none": x * Phi(x)
        "softplus": lambda x, beta, **_: F.softplus(x, beta),  # default beta=1
        "silu": lambda x, **_: F.silu(x),  # x * sigmoid(x), a.k.a. swish
        "logsigmoid": lambda x, **_: F.logsigmoid(x),
    }
    return table[name]


def value_and_slope(name: str, x: Any, **options: float) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) element-wise, f by torch and f' by autograd (float64)."""
    import torch

    t = torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64, requires_grad=True)
    y = torch_activation(name)(t, **{**DEFAULTS, **options})
    (slope,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), slope.numpy()


@register("activation_value_grad")
def activation_value_grad(p: Mapping[str, Any]) -> dict[str, Any]:
    options = {key: float(p[key]) for key in DEFAULTS if p.get(key) is not None}
    value, slope = value_and_slope(str(p["act"]), float(p["x"]), **options)
    return {"f": float(value), "d": float(slope)}


@register("activation_derivative_fn")
def activation_derivative_fn(p: Mapping[str, Any]) -> dict[str, Any]:
    name = str(p["act"])

    def derivative(x: np.ndarray) -> np.ndarray:
        return value_and_slope(name, x)[1]

    return {"d": derivative}


@register("maxout_unit")
def maxout_unit(p: Mapping[str, Any]) -> dict[str, Any]:
    """A maxout unit (Goodfellow et al., 2013) with k affine pieces z = W x + b (``F.linear``); its output
    is the largest piece and the active piece is the first one that reaches it (``torch.argmax``, whose
    docs promise the first maximal index), numbered from 1."""
    import torch
    import torch.nn.functional as F

    z = F.linear(*(torch.tensor(np.asarray(p[k], dtype=float), dtype=torch.float64) for k in ("x", "W", "b")))
    active = int(torch.argmax(z))
    return {"z": z.numpy(), "h": float(z[active]), "j": active + 1}
