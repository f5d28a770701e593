"""Oracles for convolutional layers: shapes, parameter counts, costs.

Shapes come from really sliding a window over a padded NumPy array and reading
the result's shape; parameter counts from a real ``torch.nn`` module.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlstudy.oracles import register


def slide_1d(size: int, kernel: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Length of the output of sliding a dilated window over a padded axis, by doing it."""
    padded = np.pad(np.arange(size, dtype=float), padding)
    span = dilation * (kernel - 1) + 1
    windows = sliding_window_view(padded, span)[::stride, ::dilation]
    return int(windows.shape[0])


@register("conv2d_output_size")
def conv2d_output_size(p: Mapping[str, Any]) -> dict[str, Any]:
    n, k, pad, s, d = (int(p[name]) for name in ("n", "k", "p", "s", "d"))
    image = np.pad(np.zeros((n, n)), pad)
    span = d * (k - 1) + 1
    windows = sliding_window_view(image, (span, span))[::s, ::s, ::d, ::d]
    assert windows.shape[2:] == (k, k)
    return {"k_eff": span, "o": int(windows.shape[0])}
