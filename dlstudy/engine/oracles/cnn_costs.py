"""Oracles for what one convolution layer costs: parameter counts (plain, grouped, depthwise separable,
asymmetric, a dense layer after flattening or global average pooling) and multiply-accumulates.

Parameter counts come from real ``torch.nn`` modules on the meta device; multiplications from the
broadcast of the real window view (a zero-stride NumPy array) with the weight tensor's shape.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.cnn_sizes import receptive_field
from dlstudy.engine.oracles.tensors import meta_module


# ---------------------------------------------------------------------------
# Multiplications


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


# ---------------------------------------------------------------------------
# Parameter counts of single layers (real modules on the meta device)


@lru_cache(maxsize=512)
def _conv_counts(c_in: int, c_out: int, k: int, bias: bool, groups: int = 1) -> tuple[int, int, int]:
    """(weights per filter, weights, biases) of a real nn.Conv2d."""
    import torch

    conv = meta_module(torch.nn.Conv2d, c_in, c_out, k, groups=groups, bias=bias)
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
    linear = meta_module(torch.nn.Linear, flat, m, bias=bias)
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
    flat_linear = meta_module(torch.nn.Linear, fmap.size, m, bias=bias)
    gap_linear = meta_module(torch.nn.Linear, gap_len, m, bias=bias)
    biases = gap_linear.bias.numel() if gap_linear.bias is not None else 0
    return gap_len, biases, count(flat_linear), count(gap_linear)


@register("gap_vs_flatten")
def gap_vs_flatten(p: Mapping[str, Any]) -> dict[str, Any]:
    gap_len, biases, flat_params, gap_params = _gap_counts(int(p["c"]), int(p["h"]), int(p["m"]), bool(p.get("bias", True)))
    return {"gap_len": gap_len, "b": biases, "flat_params": flat_params, "gap_params": gap_params, "saved": flat_params - gap_params}


# ---------------------------------------------------------------------------
# Grouped and factorised convolutions


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
    full = meta_module(nn.Conv2d, c_in, c_out, k, bias=False)
    pair = [meta_module(nn.Conv2d, c_in, c_mid, (1, k), bias=False), meta_module(nn.Conv2d, c_mid, c_out, (k, 1), bias=False)]
    # the pair sees a k x k window: a 1 x k then a k x 1 window, traced back along each axis
    rows = receptive_field((("conv", 1, 1, 1), ("conv", k, 1, 1)))[-1][0]
    cols = receptive_field((("conv", k, 1, 1), ("conv", 1, 1, 1)))[-1][0]
    assert (rows, cols) == (k, k)
    full_weights, pair_weights = full.weight.numel(), sum(m.weight.numel() for m in pair)
    return {"full": full_weights, "pair": pair_weights, "saving": 1 - pair_weights / full_weights}
