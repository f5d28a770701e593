"""Oracle for weight initialisation: the fans of a weight tensor and the normal std that ``torch.nn.init``
(Xavier, He, LeCun) draws it with, in NumPy.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


def _fan_in_and_fan_out(weight: np.ndarray) -> tuple[int, int]:
    """Fans of a weight tensor as torch.nn.init counts them: dim 1 (inputs) and dim 0
    (outputs), each times the receptive field (the product of the remaining dims)."""
    receptive_field_size = 1
    for s in weight.shape[2:]:
        receptive_field_size *= s
    return weight.shape[1] * receptive_field_size, weight.shape[0] * receptive_field_size


@register("init_std")
def init_std(p: Mapping[str, Any]) -> dict[str, Any]:
    """Fans of a Conv2d weight and the normal std that nn.init uses for it.

    The weight has Conv2d's layout (out_channels, in_channels, k, k) (a zero-stride
    view: only its shape matters; k = 1 is a dense layer); the std is computed as
    ``xavier_normal_`` (gain 1), ``kaiming_normal_`` (fan_in mode, ReLU gain sqrt(2)) and
    ``kaiming_normal_(nonlinearity="linear")`` (gain 1: LeCun normal, Ng's "Xavier") compute it.
    """
    scheme, c_in, c_out, k = str(p["scheme"]), int(p["c_in"]), int(p["c_out"]), int(p.get("k", 1))
    weight = np.broadcast_to(np.float64(0.0), (c_out, c_in, k, k))
    fan_in, fan_out = _fan_in_and_fan_out(weight)
    if scheme == "xavier":
        gain = 1.0
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    elif scheme == "he":
        gain = math.sqrt(2.0)  # calculate_gain("relu")
        std = gain / math.sqrt(fan_in)
    else:
        gain = 1.0  # calculate_gain("linear")
        std = gain / math.sqrt(fan_in)
    return {"fan_in": int(fan_in), "fan_out": int(fan_out), "var": std * std, "std": std}
