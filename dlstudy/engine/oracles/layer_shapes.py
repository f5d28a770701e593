"""The feature-map shape after each layer of a network of real nn modules (Conv2d, MaxPool2d, Flatten),
found by sliding each layer's real windows, with the module's own kernel size, stride, padding and
dilation, over a NumPy array (a zero-stride view: no memory at any size).

Not by a forward pass on the meta device: its shape inference goes through torch._meta_registrations,
which imports torch.fx.experimental.symbolic_shapes and sympy (about 0.3 s).  tests/test_oracles_cnn.py
checks the shapes against the meta forward pass.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def window_positions(shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> tuple[int, int]:
    """(rows, columns) of window positions on a (channels, h, w) map, by sliding the real windows.

    One channel of the map is zero-padded on every side (a zero-copy view), a window spanning the
    dilated kernel is slid over it with the stride, and the taps are taken every
    ``dilation`` pixels; the view's shape says how many windows fit.
    """
    _, h, w = shape  # every channel has the same window positions: one channel is enough
    return _positions(int(h), int(w), *(_pair(v) for v in (kernel, stride, padding, dilation)))


@lru_cache(maxsize=4096)
def _positions(h: int, w: int, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
               dilation: tuple[int, int]) -> tuple[int, int]:
    """window_positions on one h x w channel; cached, as networks and seeds repeat the same few layer geometries."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    padded = np.broadcast_to(np.float32(0.0), (h + 2 * ph, w + 2 * pw))
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(padded, span)[::sh, ::sw, ::dh, ::dw]  # (rows, cols, kh, kw)
    assert windows.shape[2:] == (kh, kw)
    return int(windows.shape[0]), int(windows.shape[1])


def layer_output_shape(layer: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The output shape (without batch) of one nn.Conv2d / nn.MaxPool2d / nn.Flatten on an input of ``shape``.

    A convolution gives one map per filter (the rows of its weight tensor) over its
    window positions; a pooling keeps the channels; Flatten lays the map out in one
    row (a real NumPy reshape of a map of that shape).
    """
    from torch import nn

    if isinstance(layer, nn.Conv2d):
        assert shape[0] == layer.weight.shape[1] * layer.groups, "input channels do not match the layer"
        assert layer.padding_mode == "zeros" and not isinstance(layer.padding, str)
        rows, cols = window_positions(shape, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        return (int(layer.weight.shape[0]), rows, cols)
    if isinstance(layer, nn.MaxPool2d):
        assert not layer.ceil_mode
        return (shape[0], *window_positions(shape, layer.kernel_size, layer.stride, layer.padding, layer.dilation))
    if isinstance(layer, nn.Flatten):
        assert (layer.start_dim, layer.end_dim) == (1, -1)
        return (np.broadcast_to(False, shape).size,)  # every entry of the map, in one row (no memory at any size)
    raise TypeError(f"no shape rule for {type(layer).__name__}")


def run_shapes(layers: Any, size: int, channels: int) -> list[tuple[int, ...]]:
    """The output shape (without batch) after each of ``layers`` on a channels x size x size input."""
    shape: tuple[int, ...] = (channels, size, size)
    shapes = []
    for layer in layers:
        shape = layer_output_shape(layer, shape)
        shapes.append(shape)
    return shapes
