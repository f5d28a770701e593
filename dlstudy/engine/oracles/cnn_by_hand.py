"""Oracles for convolution, pooling and transposed convolution worked by hand on small matrices, and
their backward passes: the values from torch.nn.functional and torch autograd, the intermediate matrices
(padded input, flipped kernel, zero-inserted map) built with torch ops.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


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
