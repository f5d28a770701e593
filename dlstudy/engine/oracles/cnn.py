"""Oracles for convolutional layers: shapes, parameter counts, costs.

Shapes come from really sliding a window over a padded NumPy array and reading
the result's shape; parameter counts from a real ``torch.nn`` module.
"""

from __future__ import annotations

import math
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
# Shared helpers


def _padded(channels: int, n: int, pad: int) -> np.ndarray:
    """A zero-copy view standing in for a zero-padded (channels, n + 2p, n + 2p) input."""
    return np.broadcast_to(np.float32(0.0), (channels, n + 2 * pad, n + 2 * pad))


def conv_multiplies(n: int, c_in: int, c_out: int, k: int, s: int = 1, pad: int = 0, groups: int = 1) -> tuple[int, int]:
    """(output size, number of multiplications) of one 2-D convolution layer, bias ignored.

    Direct convolution multiplies every input window (c_in/groups x k x k, one per
    output position and group) with every filter of its group, element by element,
    then sums.  The count is the size of that element-wise product tensor, read
    off the broadcast of the real window view with the weight tensor's shape.
    """
    windows = sliding_window_view(_padded(c_in, n, pad), (k, k), axis=(1, 2))[:, ::s, ::s]  # (c_in, o, o, k, k)
    o = windows.shape[1]
    grouped = windows.reshape(1, groups, c_in // groups, o, o, k, k)
    weight_shape = (c_out // groups, groups, c_in // groups, 1, 1, k, k)  # filters of each group
    product = np.broadcast_shapes(grouped.shape, weight_shape)
    return o, math.prod(int(size) for size in product)  # Python ints: no overflow at any size


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


# ---------------------------------------------------------------------------
# Pooling and transposed convolution sizes


def max_pool_2d(image: np.ndarray, k: int, s: int, pad: int) -> np.ndarray:
    """Max-pooling of one channel (floor mode): padding is -inf, as in PyTorch's MaxPool2d."""
    padded = np.pad(image, pad, constant_values=-np.inf)
    return sliding_window_view(padded, (k, k))[::s, ::s].max(axis=(-2, -1))


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


def conv_transpose_2d(x: np.ndarray, w: np.ndarray, stride: int, padding: int, output_padding: int) -> np.ndarray:
    """Transposed convolution as PyTorch's ConvTranspose2d computes it (one channel).

    Every input value stamps a scaled copy of the kernel into the output, the
    stamps ``stride`` apart; the output gets ``output_padding`` extra rows and
    columns at the end, then ``padding`` is cut from both sides.
    """
    n, k = x.shape[0], w.shape[0]
    size = (n - 1) * stride + k + output_padding
    out = np.zeros((size, size))
    last = (n - 1) * stride + 1
    for a in range(k):
        for b in range(k):
            out[a : a + last : stride, b : b + last : stride] += w[a, b] * x
    return out[padding : size - padding, padding : size - padding]


# Longest output axis the transposed-convolution size oracle really stamps (8 MB of float64).
STAMP_LIMIT = 10**6


def conv_transpose_1d_length(n: int, k: int, s: int, pad: int, op: int, d: int) -> tuple[int, int]:
    """(full length, output length) of a transposed convolution along one axis, by stamping.

    Every input position stamps the dilated kernel's k taps into the output, the stamps s apart (the
    real scatter-add of ConvTranspose2d on an all-ones input); the full output is as long as the stamps
    reach; then output padding adds op at the end and padding cuts pad from both sides.  Beyond
    STAMP_LIMIT (output or taps) the length is PyTorch's documented formula, which tests/test_oracles_cnn.py proves
    equal to the stamping and to torch at small sizes.
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
# Parameter counts of single layers (real modules on the meta device)


@lru_cache(maxsize=512)
def _conv_counts(c_in: int, c_out: int, k: int, bias: bool, groups: int = 1) -> tuple[int, int, int]:
    """(weights per filter, weights, biases) of a real nn.Conv2d."""
    import torch

    conv = torch.nn.Conv2d(c_in, c_out, k, groups=groups, bias=bias, device="meta")
    biases = conv.bias.numel() if conv.bias is not None else 0
    return conv.weight[0].numel(), conv.weight.numel(), biases


@register("conv2d_param_count")
def conv2d_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    # (the old word form "with"/"without" still arrives from callers that predate the flag)
    bias = p["bias"] if isinstance(p["bias"], bool) else p["bias"] == "with"
    per_filter, weights, biases = _conv_counts(int(p["c_in"]), int(p["c_out"]), int(p["k"]), bias)
    return {"w_filter": per_filter, "weights": weights, "biases": biases, "total": weights + biases}


@lru_cache(maxsize=512)
def _flatten_linear(c: int, h: int, w: int, m: int, bias: bool = True) -> tuple[int, int, int, int]:
    """(flattened length, weights, biases, total params) of Flatten -> Linear(m) after a c x h x w map.

    The map is a zero-stride NumPy view (no memory at any size); flattening keeps every one of its
    entries; the layer is a real nn.Linear on the meta device.
    """
    import torch

    flat = np.broadcast_to(np.float32(0.0), (c, h, w)).size
    linear = torch.nn.Linear(flat, m, bias=bias, device="meta")
    biases = linear.bias.numel() if linear.bias is not None else 0
    return flat, linear.weight.numel(), biases, sum(t.numel() for t in linear.parameters())


@register("flatten_dense_param_count")
def flatten_dense_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    flat, weights, biases, total = _flatten_linear(int(p["c"]), int(p["h"]), int(p["w"]), int(p["m"]), bool(p.get("bias", True)))
    return {"flat": flat, "weights": weights, "b": biases, "total": total}


# ---------------------------------------------------------------------------
# Compute costs


@register("conv2d_macs")
def conv2d_macs(p: Mapping[str, Any]) -> dict[str, Any]:
    n, c_in, c_out, k, s, pad = (int(p[name]) for name in ("n", "c_in", "c_out", "k", "s", "p"))
    o, macs = conv_multiplies(n, c_in, c_out, k, s, pad)
    per_output = macs // (o * o * c_out)
    # one MAC = one multiply + one add, so FLOPs = 2 x MACs (the convention of torch's FlopCounterMode)
    count = macs if p["unit"] == "MACs" else 2 * macs
    return {"o": o, "per_output": per_output, "outputs": o * o * c_out, "macs": macs, "count": count}


def same_conv_multiplies(n: int, c_in: int, c_out: int, k: int, groups: int = 1) -> tuple[int, int]:
    """(output size, multiplications) of a stride-1 convolution with 'same' padding, as PyTorch's
    padding='same' pads: k - 1 pixels in all, the odd one on the right and bottom for an even kernel
    (symmetric padding (k - 1) // 2 would lose a row and a column there)."""
    o, macs = conv_multiplies(n + k - 1, c_in, c_out, k, 1, 0, groups)  # the map with its k - 1 padding pixels
    assert o == n
    return o, macs


@register("inception_bottleneck_macs")
def inception_bottleneck_macs(p: Mapping[str, Any]) -> dict[str, Any]:
    n, c_in, c_out, k, r = (int(p[name]) for name in ("n", "c_in", "c_out", "k", "r"))
    o, direct = same_conv_multiplies(n, c_in, c_out, k)
    o1, reduce = conv_multiplies(n, c_in, r, 1)
    o2, expand = same_conv_multiplies(o1, r, c_out, k)
    assert o == o1 == o2 == n
    return {"direct": direct, "reduce": reduce, "expand": expand, "bottleneck": reduce + expand, "ratio": direct / (reduce + expand)}


@register("depthwise_separable_cost")
def depthwise_separable_cost(p: Mapping[str, Any]) -> dict[str, Any]:
    n, c_in, c_out, k = (int(p[name]) for name in ("n", "c_in", "c_out", "k"))
    std = _conv_counts(c_in, c_out, k, False)[1]
    dw = _conv_counts(c_in, c_in, k, False, c_in)[1]  # groups = c_in: one k x k filter per input channel
    pw = _conv_counts(c_in, c_out, 1, False)[1]
    _, std_macs = same_conv_multiplies(n, c_in, c_out, k)
    o, dw_macs = same_conv_multiplies(n, c_in, c_in, k, groups=c_in)
    _, pw_macs = conv_multiplies(o, c_in, c_out, 1)
    sep_macs = dw_macs + pw_macs
    return {
        "std_params": std, "dw_params": dw, "pw_params": pw, "sep_params": dw + pw,
        "std_macs": std_macs, "sep_macs": sep_macs, "ratio": std_macs / sep_macs,
    }


# ---------------------------------------------------------------------------
# Receptive fields and padding


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


# ---------------------------------------------------------------------------
# Global average pooling


@lru_cache(maxsize=512)
def _gap_counts(c: int, h: int, m: int, bias: bool = True) -> tuple[int, int, int, int]:
    """(GAP output length, biases, params of Flatten -> Linear, params of GAP -> Linear).

    The feature map is a zero-stride NumPy view (no memory at any size, where a real tensor of
    h = 1000, c = 2048 took 8 GB).  GAP is one h x h window per channel, slid with stride h: the view of
    those windows has one position per channel.  The linear layers are real nn.Linear modules on the
    meta device.
    """
    import torch

    fmap = np.broadcast_to(np.float32(0.0), (c, h, h))
    pooled = sliding_window_view(fmap, (h, h), axis=(1, 2))[:, ::h, ::h]  # (c, 1, 1, h, h): one window per channel
    gap_len = math.prod(pooled.shape[:3])
    count = lambda module: sum(t.numel() for t in module.parameters())  # noqa: E731
    flat_linear = torch.nn.Linear(fmap.size, m, bias=bias, device="meta")
    gap_linear = torch.nn.Linear(gap_len, m, bias=bias, device="meta")
    biases = gap_linear.bias.numel() if gap_linear.bias is not None else 0
    return gap_len, biases, count(flat_linear), count(gap_linear)


@register("gap_vs_flatten")
def gap_vs_flatten(p: Mapping[str, Any]) -> dict[str, Any]:
    gap_len, biases, flat_params, gap_params = _gap_counts(int(p["c"]), int(p["h"]), int(p["m"]), bool(p.get("bias", True)))
    return {"gap_len": gap_len, "b": biases, "flat_params": flat_params, "gap_params": gap_params, "saved": flat_params - gap_params}


# ---------------------------------------------------------------------------
# Whole networks, built as real nn.Modules on the meta device (no torchvision)
#
# Parameter counts are read from the modules (constructing them on the meta device
# allocates nothing and imports nothing more).  Feature-map shapes are NOT found by a
# meta forward pass: shape inference on the meta device goes through
# torch._meta_registrations, which imports torch.fx.experimental.symbolic_shapes and
# sympy (about 0.3 s).  Instead each layer's real windows, with the module's own
# kernel size, stride, padding and dilation, are slid over a NumPy array;
# tests/test_oracles_cnn.py checks them against the meta forward pass.


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def window_positions(shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> tuple[int, int]:
    """(rows, columns) of window positions on a (channels, h, w) map, by sliding the real windows.

    One channel of the map is zero-padded on every side (a zero-copy view), a window spanning the
    dilated kernel is slid over it with the stride, and the taps are taken every
    ``dilation`` pixels; the view's shape says how many windows fit.
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (_pair(v) for v in (kernel, stride, padding, dilation))
    _, h, w = shape  # every channel has the same window positions: one channel is enough
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


def lenet(c0: int, c1: int, k1: int, c2: int, k2: int, h: int, n: int, classes: int = 10) -> tuple[Any, list[tuple[int, ...]]]:
    """The network as a real nn.Sequential on the meta device, and the shape after each layer.

    The feature maps are traced through the layers on an n x n input first, so the
    first linear layer is built on the flattened length they really produce.  The
    ReLUs are left out: they have no parameters and keep the shape.
    """
    from torch import nn

    features = [
        nn.Conv2d(c0, c1, k1, device="meta"), nn.MaxPool2d(2, 2),
        nn.Conv2d(c1, c2, k2, device="meta"), nn.MaxPool2d(2, 2), nn.Flatten(),
    ]
    shapes = run_shapes(features, n, c0)
    head = [nn.Linear(shapes[-1][0], h, device="meta"), nn.Linear(h, classes, device="meta")]
    net = nn.Sequential(*features, *head)
    return net, shapes + [(h,), (classes,)]


@lru_cache(maxsize=512)
def _lenet_values(n: int, c0: int, c1: int, k1: int, c2: int, k2: int, h: int, classes: int = 10) -> dict[str, int]:
    from torch import nn

    net, shapes = lenet(c0, c1, k1, c2, k2, h, n, classes)
    counts = [sum(t.numel() for t in m.parameters()) for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    values = dict(o1=shapes[0][1], q1=shapes[1][1], o2=shapes[2][1], q2=shapes[3][1], flat=shapes[4][0])
    values.update(zip(("p_conv1", "p_conv2", "p_fc1", "p_fc2"), counts))
    values["total"] = sum(t.numel() for t in net.parameters())
    return values


@register("lenet_params")
def lenet_params(p: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_lenet_values(*(int(p[name]) for name in ("n", "c0", "c1", "k1", "c2", "k2", "h")), int(p.get("m", 10))))


ALEXNET_PAPER = {  # Krizhevsky et al. 2012, one tower (no grouping), 227x227 input as in the Caffe reference
    "channels": (96, 256, 384, 384, 256), "kernels": (11, 5, 3, 3, 3), "stride1": 4, "padding": (0, 2, 1, 1, 1),
    "size": 227, "groups": (1, 1, 1, 1, 1),
}


def alexnet(channels, kernels, stride1, padding, size, groups=(1, 1, 1, 1, 1), hidden=4096, classes=1000, bias=True,
            adaptive=False) -> tuple[list[Any], list[Any]]:
    """AlexNet's layers (ReLUs and dropout left out: no parameters, no shape change).

    Five convolutions with a 3x3/2 max-pool after conv1, conv2 and conv5; the
    feature maps are traced through the layers on a size x size x 3 input so fc6
    is built on the flattened length they really produce (torchvision's ``adaptive`` variant pools the
    last map to 6 x 6 whatever the input size).  Returns (conv layers, linear layers).
    """
    from torch import nn

    convs, c_in = [], 3
    for i, (c, k, pad, g) in enumerate(zip(channels, kernels, padding, groups)):
        convs.append(nn.Conv2d(c_in, c, k, stride=stride1 if i == 0 else 1, padding=pad, groups=g, bias=bias, device="meta"))
        c_in = c
    features = [convs[0], nn.MaxPool2d(3, 2), convs[1], nn.MaxPool2d(3, 2), convs[2], convs[3], convs[4],
                nn.MaxPool2d(3, 2), nn.Flatten()]
    shapes = run_shapes(features[:-1], size, 3)
    flat = shapes[-1][0] * 6 * 6 if adaptive else run_shapes(features, size, 3)[-1][0]
    linears = [nn.Linear(flat, hidden, bias=bias, device="meta"), nn.Linear(hidden, hidden, bias=bias, device="meta"),
               nn.Linear(hidden, classes, bias=bias, device="meta")]
    return convs, linears


@lru_cache(maxsize=64)
def _alexnet_layers(classes: int = 1000, bias: bool = True) -> dict[str, tuple[int, int, int, int]]:
    """layer name -> (inputs per unit, weights, biases, filters or units) of the paper's AlexNet."""
    convs, linears = alexnet(**ALEXNET_PAPER, classes=classes, bias=bias)
    names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    return {
        name: (m.weight[0].numel(), m.weight.numel(), m.bias.numel() if m.bias is not None else 0, m.weight.shape[0])
        for name, m in zip(names, convs + linears)
    }


@register("alexnet_layer_params")
def alexnet_layer_params(p: Mapping[str, Any]) -> dict[str, Any]:
    fan_in, weights, biases, units = _alexnet_layers(int(p.get("m", 1000)), bool(p.get("bias", True)))[str(p["layer"])]
    return {"fan_in": fan_in, "weights": weights, "units": units, "b": biases, "total": weights + biases}


VGG_CONFIGS = {  # Simonyan & Zisserman 2014, Table 1: configurations A, B, D, E ("M" = 2x2 max-pool)
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}


def vgg_features(config: tuple[Any, ...], bias: bool = True) -> list[Any]:
    from torch import nn

    layers, c_in = [], 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers.append(nn.Conv2d(c_in, item, 3, padding=1, bias=bias, device="meta"))  # (ReLUs: no parameters, same shape)
            c_in = item
    return layers + [nn.Flatten()]


def _biases(modules: Any) -> int:
    return sum(m.bias.numel() for m in modules if m.bias is not None)


@lru_cache(maxsize=64)
def _vgg_counts(name: str, classes: int = 1000, bias: bool = True) -> dict[str, int]:
    from torch import nn

    features = vgg_features(VGG_CONFIGS[name], bias)
    fc_in = run_shapes(features, 224, 3)[-1][0]
    head = [nn.Linear(fc_in, 4096, bias=bias, device="meta"), nn.Linear(4096, 4096, bias=bias, device="meta"),
            nn.Linear(4096, classes, bias=bias, device="meta")]
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    conv_w = sum(m.weight.numel() for m in convs)
    fc_w = sum(m.weight.numel() for m in head)
    fc_params = sum(t.numel() for m in head for t in m.parameters())
    return {"conv_w": conv_w, "conv_b": _biases(convs), "fc_in": fc_in, "fc_w": fc_w, "fc_b": _biases(head),
            "fc_params": fc_params, "total": conv_w + _biases(convs) + fc_params}


@register("vgg_param_count")
def vgg_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_vgg_counts(str(p["net"]), int(p.get("m", 1000)), bool(p.get("bias", True))))


# ---------------------------------------------------------------------------
# Convolution, pooling and transposed convolution by hand: values from torch.nn.functional


def _image(value: Any):
    """A NumPy matrix as a (1, 1, h, w) float64 tensor: one image, one channel."""
    from dlstudy.engine.oracles.tensors import tensor

    return tensor(value)[None, None]


def _plain(t) -> np.ndarray:
    """A (1, 1, h, w) tensor back as a NumPy matrix."""
    from dlstudy.engine.oracles.tensors import to_numpy

    return to_numpy(t)[0, 0]


@register("conv2d_by_hand")
def conv2d_by_hand(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    from dlstudy.engine.oracles.tensors import single_thread

    pad, stride, bias = int(p["p"]), int(p["s"]), float(p["b"])
    with single_thread():
        x, kernel = _image(p["X"]), _image(p["K"])
        if p["op"] == "convolution":  # a true convolution slides the kernel rotated by 180 degrees
            kernel = torch.flip(kernel, dims=(-2, -1))
        out = F.conv2d(x, kernel, bias=torch.tensor([bias], dtype=torch.float64), stride=stride, padding=pad)
        padded = F.pad(x, (pad, pad, pad, pad))
    y = _plain(out)
    return {"Xp": _plain(padded), "Kf": _plain(kernel), "o_h": y.shape[0], "o_w": y.shape[1], "y11": float(y[0, 0]), "Y": y}


@register("pooling_by_hand")
def pooling_by_hand(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch.nn.functional as F

    from dlstudy.engine.oracles.tensors import single_thread

    k, stride, mode = int(p["k"]), int(p["s"]), str(p["mode"])
    with single_thread():
        x = _image(p["X"])
        if mode == "max":
            out = F.max_pool2d(x, k, stride)
        elif mode == "avg":
            out = F.avg_pool2d(x, k, stride)
        else:  # the square root of each window's sum of squares
            out = F.lp_pool2d(x, 2.0, k, stride)
    y = _plain(out)
    return {"o_h": y.shape[0], "o_w": y.shape[1], "y11": float(y[0, 0]), "Y": y}


@register("conv_transpose_by_hand")
def conv_transpose_by_hand(p: Mapping[str, Any]) -> dict[str, Any]:
    """The output from torch's conv_transpose2d; the zero-insertion intermediates built with torch ops."""
    import torch
    import torch.nn.functional as F

    from dlstudy.engine.oracles.tensors import single_thread

    stride, pad, extra = int(p["s"]), int(p["p"]), int(p["op"])
    with single_thread():
        x, kernel = _image(p["X"]), _image(p["K"])
        kh, kw = kernel.shape[-2:]
        out = F.conv_transpose2d(x, kernel, stride=stride, padding=pad, output_padding=extra)
        spread = torch.zeros(1, 1, (x.shape[-2] - 1) * stride + 1, (x.shape[-1] - 1) * stride + 1, dtype=x.dtype)
        spread[..., ::stride, ::stride] = x  # s - 1 zeros between neighbours
        padded = F.pad(spread, (kw - pad - 1, kw - pad - 1 + extra, kh - pad - 1, kh - pad - 1 + extra))
        rotated = torch.flip(kernel, dims=(-2, -1))
    y = _plain(out)
    return {"Z": _plain(spread), "Zp": _plain(padded), "Kf": _plain(rotated), "o_h": y.shape[0], "o_w": y.shape[1], "Y": y}


@register("conv_backward")
def conv_backward(p: Mapping[str, Any]) -> dict[str, Any]:
    """Gradients by torch autograd through F.conv2d; the padded input is a leaf of its own so its gradient is read too."""
    import torch
    import torch.nn.functional as F

    from dlstudy.engine.oracles.tensors import single_thread

    stride, pad = int(p["s"]), int(p["p"])
    with single_thread():
        x, kernel, upstream = _image(p["X"]), _image(p["K"]), _image(p["G"])
        padded = F.pad(x, (pad, pad, pad, pad)).detach().requires_grad_(True)
        kernel.requires_grad_(True)
        bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        out = F.conv2d(padded, kernel, bias, stride=stride)
        assert out.shape == upstream.shape, "the upstream gradient has the output's shape"
        d_padded, d_kernel, d_bias = torch.autograd.grad((out * upstream).sum(), (padded, kernel, bias))
        spread = torch.zeros(1, 1, (upstream.shape[-2] - 1) * stride + 1, (upstream.shape[-1] - 1) * stride + 1,
                             dtype=upstream.dtype)
        spread[..., ::stride, ::stride] = upstream
    h, w = np.shape(p["X"])
    d_padded = _plain(d_padded)
    return {"Gd": _plain(spread), "dK": _plain(d_kernel), "db": float(d_bias[0]), "dXp": d_padded,
            "dX": d_padded[pad : pad + h, pad : pad + w]}


@register("maxpool_backward")
def maxpool_backward(p: Mapping[str, Any]) -> dict[str, Any]:
    """The pooled map from F.max_pool2d and the input gradient by torch autograd through it."""
    import torch
    import torch.nn.functional as F

    from dlstudy.engine.oracles.tensors import single_thread

    k, stride = int(p["k"]), int(p["s"])
    with single_thread():
        x, upstream = _image(p["X"]), _image(p["G"])
        x.requires_grad_(True)
        out = F.max_pool2d(x, k, stride)
        assert out.shape == upstream.shape, "the upstream gradient has the pooled map's shape"
        (grad,) = torch.autograd.grad((out * upstream).sum(), x)
    return {"Y": _plain(out), "dX": _plain(grad)}


# ---------------------------------------------------------------------------
# Memory of a VGG-style network (CS231n's VGG table, plus optimizer state)


# Buffers of a parameter's shape each optimizer keeps (PyTorch: SGD's momentum_buffer; Adam's exp_avg and
# exp_avg_sq).  Not found by running an optimizer here: importing torch.optim imports torch._dynamo and sympy
# (seconds); tests/test_oracles_cnn.py checks the table against a real optimizer step.
OPTIMIZER_BUFFERS = {"sgd": 0, "momentum": 1, "adam": 2}


def optimizer_buffers(name: str) -> int:
    return OPTIMIZER_BUFFERS[name]


def vgg_style(n: int, c0: int, filters: tuple[int, ...], pools: tuple[int, ...], units: tuple[int, ...], bias: bool):
    """(layers, shapes): 3x3 'same' convolutions, a 2x2 max-pool after those flagged, flatten, linear layers
    (real modules on the meta device; the shapes traced by sliding the windows, without memory)."""
    from torch import nn

    layers, c_in = [], c0
    for c, pool in zip(filters, pools):
        layers.append(nn.Conv2d(c_in, c, 3, padding=1, bias=bias, device="meta"))
        if pool:
            layers.append(nn.MaxPool2d(2, 2))
        c_in = c
    layers.append(nn.Flatten())
    shapes = run_shapes(layers, n, c0)
    width = shapes[-1][0]
    for units_out in units:
        layers.append(nn.Linear(width, units_out, bias=bias, device="meta"))
        shapes.append((units_out,))
        width = units_out
    return layers, shapes


@register("cnn_memory")
def cnn_memory(p: Mapping[str, Any]) -> dict[str, Any]:
    from torch import nn

    as_ints = lambda name: tuple(int(v) for v in np.asarray(p[name], dtype=float))  # noqa: E731
    n, c0, size = int(p["n"]), int(p["c0"]), int(p["B"])
    layers, shapes = vgg_style(n, c0, as_ints("c"), as_ints("q"), as_ints("f"), bool(p["bias"]))
    entries = [math.prod(shape) for shape in shapes]
    kinds = [type(layer) for layer in layers]
    conv_out = [e for e, kind in zip(entries, kinds) if kind is nn.Conv2d]
    pool_out = iter(e for e, kind in zip(entries, kinds) if kind is nn.MaxPool2d)
    after_conv = [kinds[i + 1] if i + 1 < len(kinds) else None for i, kind in enumerate(kinds) if kind is nn.Conv2d]
    a_pool = [next(pool_out) if following is nn.MaxPool2d else 0 for following in after_conv]
    fc_out = [e for e, kind in zip(entries, kinds) if kind is nn.Linear]
    flat = entries[kinds.index(nn.Flatten)]
    acts = n * n * c0 + sum(conv_out) + sum(a_pool) + sum(fc_out)  # the input, then every layer's output but Flatten's
    weights = lambda kind: sum(m.weight.numel() for m in layers if isinstance(m, kind))  # noqa: E731
    biases = sum(m.bias.numel() for m in layers if getattr(m, "bias", None) is not None)
    params = sum(t.numel() for m in layers for t in m.parameters())
    conv_sizes = [shape[1] for shape, kind in zip(shapes, kinds) if kind is nn.Conv2d]
    return {
        "sp": np.array(conv_sizes, dtype=float), "a_conv": np.array(conv_out, dtype=float),
        "a_pool": np.array(a_pool, dtype=float), "flat": flat, "acts": acts,
        "w_conv": weights(nn.Conv2d), "w_fc": weights(nn.Linear), "b_all": biases, "params": params,
        "act_bytes": acts * size, "param_bytes": params * size,
        "opt_bytes": optimizer_buffers(str(p["opt"])) * params * size,
    }


# ---------------------------------------------------------------------------
# Inception module and ResNet blocks (torchvision's layout, built from torch.nn on the meta device)


def inception_branches(c_in: int, c1: int, r3: int, c3: int, r5: int, c5: int, cp: int, bias: bool = True) -> list[list[Any]]:
    """GoogLeNet's four branches (Szegedy et al. 2014, Fig. 2b), ReLUs left out (no parameters, same shape)."""
    from torch import nn

    conv = lambda c_from, c_to, k: nn.Conv2d(c_from, c_to, k, padding=k // 2, bias=bias, device="meta")  # noqa: E731
    return [
        [conv(c_in, c1, 1)],
        [conv(c_in, r3, 1), conv(r3, c3, 3)],
        [conv(c_in, r5, 1), conv(r5, c5, 5)],
        [nn.MaxPool2d(3, 1, padding=1), conv(c_in, cp, 1)],
    ]


@register("inception_module")
def inception_module(p: Mapping[str, Any]) -> dict[str, Any]:
    from torch import nn

    n, c_in = int(p["n"]), int(p["c_in"])
    branches = inception_branches(c_in, *(int(p[name]) for name in ("c1", "r3", "c3", "r5", "c5", "cp")), bool(p["bias"]))
    outputs = [run_shapes(branch, n, c_in)[-1] for branch in branches]
    assert all(shape[1:] == (n, n) for shape in outputs), "'same' padding keeps the map size"
    # the concatenation along the channels, on zero-stride stand-ins for the branch outputs
    joined = np.concatenate([np.broadcast_to(np.float32(0.0), (shape[0], 1, 1)) for shape in outputs])
    weights = [sum(m.weight.numel() for m in branch if isinstance(m, nn.Conv2d)) for branch in branches]
    params = sum(t.numel() for branch in branches for m in branch for t in m.parameters())
    macs = sum(conv_multiplies(n + m.kernel_size[0] - 1, m.in_channels, m.out_channels, m.kernel_size[0])[1]
               for branch in branches for m in branch if isinstance(m, nn.Conv2d))  # 'same': k - 1 padding pixels
    return {"c_out": joined.shape[0], "w_1": weights[0], "w_3": weights[1], "w_5": weights[2], "w_p": weights[3],
            "weights": sum(weights), "b_all": params - sum(weights), "total": params, "macs": macs}


class _Block:
    """One torchvision-style ResNet block as plain lists of modules: (main path, shortcut or [] for the identity)."""

    def __init__(self, kind: str, c_in: int, c: int, stride: int, bn: bool = True) -> None:
        from torch import nn

        conv = lambda a, b, k, s=1: nn.Conv2d(a, b, k, stride=s, padding=k // 2, bias=False, device="meta")  # noqa: E731
        norm = lambda ch: [nn.BatchNorm2d(ch, device="meta")] if bn else []  # noqa: E731
        if kind == "basic":  # He et al. 2016, Fig. 5 left; torchvision's BasicBlock
            self.c_out = c
            self.main = [conv(c_in, c, 3, stride), *norm(c), conv(c, c, 3), *norm(c)]
        else:  # Fig. 5 right with torchvision's stride on the 3x3 convolution (ResNet v1.5)
            self.c_out = 4 * c
            self.main = [conv(c_in, c, 1), *norm(c), conv(c, c, 3, stride), *norm(c), conv(c, 4 * c, 1), *norm(4 * c)]
        self.shortcut = [conv(c_in, self.c_out, 1, stride), *norm(self.c_out)] if stride != 1 or c_in != self.c_out else []

    def modules(self) -> list[Any]:
        return self.main + self.shortcut

    def params(self) -> int:
        return sum(t.numel() for m in self.modules() for t in m.parameters())


def _conv_and_norm_shapes(layers: list[Any], n: int, c_in: int) -> tuple[int, ...]:
    """The output shape of convolutions and batch norms (which keep the shape) on an n x n x c_in map."""
    from torch import nn

    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    return run_shapes(convs, n, c_in)[-1]


@register("resnet_block")
def resnet_block(p: Mapping[str, Any]) -> dict[str, Any]:
    from torch import nn

    n, c_in, c, stride = (int(p[name]) for name in ("n", "c_in", "c", "s"))
    block = _Block(str(p["block"]), c_in, c, stride, bool(p["bn"]))
    out = _conv_and_norm_shapes(block.main, n, c_in)
    if block.shortcut:
        assert _conv_and_norm_shapes(block.shortcut, n, c_in) == out, "the projection matches the main path"
    count = lambda modules, kind: sum(t.numel() for m in modules if isinstance(m, kind) for t in m.parameters())  # noqa: E731
    return {"c_out": out[0], "o": out[1], "proj": int(bool(block.shortcut)), "w_main": count(block.main, nn.Conv2d),
            "bn_main": count(block.main, nn.BatchNorm2d), "shortcut": sum(t.numel() for m in block.shortcut for t in m.parameters()),
            "total": block.params()}


RESNETS = {  # He et al. 2016, Table 1: block kind and blocks per stage (torchvision's resnet18 ... resnet152)
    "resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)), "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)), "resnet152": ("bottleneck", (3, 8, 36, 3)),
}


def resnet(name: str, classes: int = 1000) -> dict[str, list[Any]]:
    """torchvision's ResNet as parts (stem, layer1..layer4, fc) of real nn modules on the meta device."""
    from torch import nn

    kind, blocks = RESNETS[name]
    parts: dict[str, list[Any]] = {
        "stem": [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False, device="meta"), nn.BatchNorm2d(64, device="meta")],
    }
    c_in = 64
    for i, (width, count) in enumerate(zip((64, 128, 256, 512), blocks), 1):
        stage = []
        for j in range(count):
            block = _Block(kind, c_in, width, 2 if (i > 1 and j == 0) else 1)
            stage += block.modules()
            c_in = block.c_out
        parts[f"stage{i}"] = stage
    parts["fc"] = [nn.Linear(c_in, classes, device="meta")]
    return parts


@lru_cache(maxsize=64)
def _model_counts(name: str, classes: int) -> dict[str, int]:
    if name == "alexnet":  # torchvision's variant: 64/192/384/256/256 filters, conv1 padding 2, AdaptiveAvgPool2d(6)
        convs, linears = alexnet((64, 192, 384, 256, 256), (11, 5, 3, 3, 3), 4, (2, 2, 1, 1, 1), 224,
                                 classes=classes, adaptive=True)
        parts = {"stem": [convs[0]], "stage1": [convs[1]], "stage2": [convs[2]], "stage3": [convs[3]],
                 "stage4": [convs[4]], "fc": linears}
    else:
        parts = resnet(name, classes)
    counts = {part: sum(t.numel() for m in modules for t in m.parameters()) for part, modules in parts.items()}
    counts["total"] = sum(counts.values())
    return counts


@register("model_params")
def model_params(p: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_model_counts(str(p["net"]), int(p["m"])))


@register("grouped_conv")
def grouped_conv(p: Mapping[str, Any]) -> dict[str, Any]:
    k, c_in, c_out, groups = (int(p[name]) for name in ("k", "c_in", "c_out", "g"))
    per_filter, weights, biases = _conv_counts(c_in, c_out, k, bool(p["bias"]), groups)
    standard = _conv_counts(c_in, c_out, k, False)[1]
    return {"per_filter": per_filter, "weights": weights, "b_all": biases, "total": weights + biases,
            "ratio": standard / weights}


@register("asymmetric_conv")
def asymmetric_conv(p: Mapping[str, Any]) -> dict[str, Any]:
    from torch import nn

    k, c_in, c_mid, c_out = (int(p[name]) for name in ("k", "c_in", "c_mid", "c_out"))
    full = nn.Conv2d(c_in, c_out, k, bias=False, device="meta")
    pair = [nn.Conv2d(c_in, c_mid, (1, k), bias=False, device="meta"), nn.Conv2d(c_mid, c_out, (k, 1), bias=False, device="meta")]
    # the pair sees a k x k window: a 1 x k then a k x 1 window, traced back along each axis
    rows = receptive_field((("conv", 1, 1, 1), ("conv", k, 1, 1)))[-1][0]
    cols = receptive_field((("conv", k, 1, 1), ("conv", 1, 1, 1)))[-1][0]
    assert (rows, cols) == (k, k)
    full_weights, pair_weights = full.weight.numel(), sum(m.weight.numel() for m in pair)
    return {"full": full_weights, "pair": pair_weights, "saving": 1 - pair_weights / full_weights}
