"""Oracle for the memory of a VGG-style network (CS231n's VGG table): activations, parameters and
optimizer state, from real nn modules on the meta device and feature-map shapes traced by
``layer_shapes``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.layer_shapes import run_shapes
from dlstudy.engine.oracles.tensors import meta_module


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
        layers.append(meta_module(nn.Conv2d, c_in, c, 3, padding=1, bias=bias))
        if pool:
            layers.append(nn.MaxPool2d(2, 2))
        c_in = c
    layers.append(nn.Flatten())
    shapes = run_shapes(layers, n, c0)
    width = shapes[-1][0]
    for units_out in units:
        layers.append(meta_module(nn.Linear, width, units_out, bias=bias))
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
