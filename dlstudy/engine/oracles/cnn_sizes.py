"""Oracles for the sizes a convolution or pooling gives: output sizes (convolution, max-pooling,
transposed convolution), receptive fields and 'same' padding.

Every size comes from really sliding the window over a padded row (a zero-stride NumPy view, so no memory
at any size) and reading the result's shape, or, for receptive fields, from tracing output pixels back
through the windows to the input.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlstudy.engine.oracles import register


def _row(size: int) -> np.ndarray:
    """A zero-copy stand-in for one row of ``size`` pixels (a zero-stride view: no memory at any size)."""
    return np.broadcast_to(np.float32(0.0), (size,))


def slide_1d(size: int, kernel: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Length of the output of sliding a dilated window over a padded axis, by doing it (on a zero-stride view)."""
    span = dilation * (kernel - 1) + 1
    windows = sliding_window_view(_row(size + 2 * padding), span)[::stride, ::dilation]
    assert windows.shape[1] == kernel
    return int(windows.shape[0])


@register("conv2d_output_size")
def conv2d_output_size(p: Mapping[str, Any]) -> dict[str, Any]:
    # A square kernel on a square input acts on rows and columns alike: one padded row of the input is enough.
    n, k, pad, s, d = (int(p[name]) for name in ("n", "k", "p", "s", "d"))
    span = d * (k - 1) + 1
    starts = sliding_window_view(_row(n + 2 * pad), span).shape[0]  # every position the window can start at
    return {"k_eff": span, "q": (starts - 1) / s, "o": slide_1d(n, k, pad, s, d)}


# ---------------------------------------------------------------------------
# Pooling and transposed convolution sizes


def pool_windows_1d(n: int, k: int, s: int, pad: int, ceil_mode: bool) -> int:
    """How many pooling windows fit along an axis, as PyTorch's MaxPool2d places them (dilation 1).

    The windows slide over the padded axis (a zero-stride view: no memory at any size).  With ceil_mode
    the axis is extended by s - 1 pixels on the right so a last window that sticks out is kept, unless it
    starts in the right padding (it would see no input pixel).  Only the last window can start there,
    because the padding is at most half a window.
    """
    extra = s - 1 if ceil_mode else 0
    windows = sliding_window_view(_row(n + 2 * pad + extra), k)[::s]
    last_start = (windows.shape[0] - 1) * s
    return windows.shape[0] - int(ceil_mode and last_start >= n + pad)


@register("maxpool2d_output_size")
def maxpool2d_output_size(p: Mapping[str, Any]) -> dict[str, Any]:
    n, k, s, pad = (int(p[name]) for name in ("n", "k", "s", "p"))
    ceil_mode = p.get("rounding", "floor") == "ceil"
    starts = sliding_window_view(_row(n + 2 * pad), k).shape[0]  # every position the window can start at
    return {"q": (starts - 1) / s, "o": pool_windows_1d(n, k, s, pad, ceil_mode)}


# Longest output axis the transposed-convolution size oracle really stamps (8 MB of float64).
STAMP_LIMIT = 10**6


def conv_transpose_1d_length(n: int, k: int, s: int, pad: int, op: int, d: int) -> tuple[int, int]:
    """(full length, output length) of a transposed convolution along one axis, by stamping.

    Every input position stamps the dilated kernel's k taps into the output, the stamps s apart (the
    real scatter-add of ConvTranspose2d on an all-ones input); the full output is as long as the stamps
    reach; then output padding adds op at the end and padding cuts pad from both sides.  Beyond
    STAMP_LIMIT (output or taps) the length is PyTorch's documented formula, which tests/test_oracles_cnn.py
    proves equal to the stamping and to torch at small sizes.
    """
    reach = (n - 1) * s + d * (k - 1) + 1
    if reach <= STAMP_LIMIT and n * k <= STAMP_LIMIT:
        taps = (np.arange(n)[:, None] * s + np.arange(k)[None, :] * d).reshape(-1)
        out = np.zeros(int(taps.max()) + 1)
        np.add.at(out, taps, 1.0)
        full = len(out)
        out = np.concatenate([out, np.zeros(op)])[pad : full + op - pad]
        return full, len(out)
    return reach, reach + op - 2 * pad


@register("conv_transpose2d_output_size")
def conv_transpose2d_output_size(p: Mapping[str, Any]) -> dict[str, Any]:
    n, k, s, pad, op, d = (int(p[name]) for name in ("n", "k", "s", "p", "op", "d"))
    full, out = conv_transpose_1d_length(n, k, s, pad, op, d)
    return {"full": full, "o": out}


# ---------------------------------------------------------------------------
# Receptive fields and padding


def input_pixels(layers: tuple[tuple[str, int, int, int], ...], pixel: int) -> np.ndarray:
    """Which input pixels reach ``pixel`` of the last layer's output (a boolean row), by tracing the windows back.

    ``layers`` holds (kind, kernel, stride, dilation); a pooling window and a convolution window are treated
    alike (a max-pool output depends on its whole window too).  Square kernels act on rows and columns
    alike, so one row of pixels is enough.  Going down one layer, every marked position marks the k taps
    of its window (d apart) in the layer below, the windows s apart.  The row grows only as far as the
    marked pixels reach, so the work is the receptive field's size times the kernel taps.
    """
    marked = np.zeros(pixel + 1, dtype=bool)
    marked[pixel] = True
    for _, k, s, d in reversed(layers):
        below = np.zeros((len(marked) - 1) * s + d * (k - 1) + 1, dtype=bool)
        for tap in range(k):
            below[tap * d : tap * d + (len(marked) - 1) * s + 1 : s] |= marked
        marked = below
    return marked


def receptive_field(layers: tuple[tuple[str, int, int, int], ...]) -> list[tuple[int, int]]:
    """(receptive field, jump) after each layer, found by tracing output pixels 0 and 1 back to the input.

    The receptive field is the span of the input pixels reaching output pixel 0 of that layer; the jump is
    how far that span moves for output pixel 1.
    """
    found = []
    for depth in range(1, len(layers) + 1):
        first = np.flatnonzero(input_pixels(layers[:depth], 0))
        second = np.flatnonzero(input_pixels(layers[:depth], 1))
        found.append((int(first[-1] - first[0]) + 1, int(second[0] - first[0])))
    return found


@register("receptive_field_stack")
def receptive_field_stack(p: Mapping[str, Any]) -> dict[str, Any]:
    kernels, strides = (np.asarray(p[name], dtype=float).astype(int) for name in ("k", "s"))
    layers = tuple(("layer", int(k), int(s), 1) for k, s in zip(kernels, strides))
    found = _rf_cached(layers)
    jumps_after = [j for _, j in found]
    return {
        "j": np.array([1, *jumps_after[:-1]], dtype=float),  # the jump below each layer is the one after the previous
        "r": np.array([r for r, _ in found], dtype=float),
        "R": found[-1][0],
    }


@lru_cache(maxsize=1024)
def _rf_cached(layers: tuple[tuple[str, int, int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple(receptive_field(layers))


@register("dilated_receptive_field")
def dilated_receptive_field(p: Mapping[str, Any]) -> dict[str, Any]:
    k = int(p["k"])
    layers = tuple(("conv", k, 1, int(d)) for d in np.asarray(p["d"], dtype=float))
    spans = [_rf_cached((layer,))[0][0] for layer in layers]  # each layer alone: its effective kernel
    return {"e": np.array(spans, dtype=float), "r": _rf_cached(layers)[-1][0]}


@register("same_padding")
def same_padding(p: Mapping[str, Any]) -> dict[str, Any]:
    n, k, d = (int(p[name]) for name in ("n", "k", "d"))
    taps = range(0, d * (k - 1) + 1, d)  # the positions of one dilated window's k taps (no memory at any size)
    assert len(taps) == k
    span = taps[-1] - taps[0] + 1  # the input pixels the window covers
    # Bisect on the padding: the output grows with it. Slide the dilated window over each padded row
    # tried (a zero-stride view) until one gives back n positions; too little padding for the window to
    # fit at all counts as too little.
    low, high = 0, span
    while low < high:
        middle = (low + high) // 2
        if n + 2 * middle >= span and slide_1d(n, k, middle, 1, d) >= n:
            high = middle
        else:
            low = middle + 1
    assert slide_1d(n, k, low, 1, d) == n
    return {"k_eff": span, "p": low}
