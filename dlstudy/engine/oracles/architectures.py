"""Oracles for whole networks and their blocks: LeNet, AlexNet, VGG, GoogLeNet's inception module,
ResNet blocks and whole ResNets, each built as real nn modules on the meta device (no torchvision).

Parameter counts are read from the modules; the feature-map shapes that size the first linear layer are
traced through the layers by ``layer_shapes`` (sliding each layer's real windows).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.cnn_costs import conv_multiplies
from dlstudy.engine.oracles.layer_shapes import run_shapes
from dlstudy.engine.oracles.tensors import meta_module


# ---------------------------------------------------------------------------
# LeNet, AlexNet, VGG


def lenet(c0: int, c1: int, k1: int, c2: int, k2: int, h: int, n: int, classes: int = 10) -> tuple[Any, list[tuple[int, ...]]]:
    """The network as a real nn.Sequential on the meta device, and the shape after each layer.

    The feature maps are traced through the layers on an n x n input first, so the
    first linear layer is built on the flattened length they really produce.  The
    ReLUs are left out: they have no parameters and keep the shape.
    """
    from torch import nn

    features = [
        meta_module(nn.Conv2d, c0, c1, k1), nn.MaxPool2d(2, 2),
        meta_module(nn.Conv2d, c1, c2, k2), nn.MaxPool2d(2, 2), nn.Flatten(),
    ]
    shapes = run_shapes(features, n, c0)
    head = [meta_module(nn.Linear, shapes[-1][0], h), meta_module(nn.Linear, h, classes)]
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
        convs.append(meta_module(nn.Conv2d, c_in, c, k, stride=stride1 if i == 0 else 1, padding=pad, groups=g, bias=bias))
        c_in = c
    features = [convs[0], nn.MaxPool2d(3, 2), convs[1], nn.MaxPool2d(3, 2), convs[2], convs[3], convs[4],
                nn.MaxPool2d(3, 2), nn.Flatten()]
    shapes = run_shapes(features[:-1], size, 3)
    flat = shapes[-1][0] * 6 * 6 if adaptive else run_shapes(features, size, 3)[-1][0]
    linears = [meta_module(nn.Linear, flat, hidden, bias=bias), meta_module(nn.Linear, hidden, hidden, bias=bias),
               meta_module(nn.Linear, hidden, classes, bias=bias)]
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
            layers.append(meta_module(nn.Conv2d, c_in, item, 3, padding=1, bias=bias))  # (ReLUs: no parameters, same shape)
            c_in = item
    return layers + [nn.Flatten()]


def _biases(modules: Any) -> int:
    return sum(m.bias.numel() for m in modules if m.bias is not None)


@lru_cache(maxsize=16)
def _vgg_conv_counts(name: str, bias: bool = True) -> tuple[int, int, int]:
    """(conv weights, conv biases, fc_in): the convolutions do not depend on the class count, so they are
    built once per network, not once per class count."""
    from torch import nn

    features = vgg_features(VGG_CONFIGS[name], bias)
    fc_in = run_shapes(features, 224, 3)[-1][0]
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    return sum(m.weight.numel() for m in convs), _biases(convs), fc_in


@lru_cache(maxsize=64)
def _vgg_counts(name: str, classes: int = 1000, bias: bool = True) -> dict[str, int]:
    from torch import nn

    conv_w, conv_b, fc_in = _vgg_conv_counts(name, bias)
    head = [meta_module(nn.Linear, fc_in, 4096, bias=bias), meta_module(nn.Linear, 4096, 4096, bias=bias),
            meta_module(nn.Linear, 4096, classes, bias=bias)]
    fc_w = sum(m.weight.numel() for m in head)
    fc_params = sum(t.numel() for m in head for t in m.parameters())
    return {"conv_w": conv_w, "conv_b": conv_b, "fc_in": fc_in, "fc_w": fc_w, "fc_b": _biases(head),
            "fc_params": fc_params, "total": conv_w + conv_b + fc_params}


@register("vgg_param_count")
def vgg_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_vgg_counts(str(p["net"]), int(p.get("m", 1000)), bool(p.get("bias", True))))


# ---------------------------------------------------------------------------
# GoogLeNet's inception module, ResNet blocks and whole ResNets (torchvision's layout)


def inception_branches(c_in: int, c1: int, r3: int, c3: int, r5: int, c5: int, cp: int, bias: bool = True) -> list[tuple[Any, ...]]:
    """GoogLeNet's four branches (Szegedy et al. 2014, Fig. 2b), ReLUs left out (no parameters, same shape)."""
    return [_inception_branch("1x1", c_in, 0, c1, bias), _inception_branch("3x3", c_in, r3, c3, bias),
            _inception_branch("5x5", c_in, r5, c5, bias), _inception_branch("pool", c_in, 0, cp, bias)]


@lru_cache(maxsize=1024)
def _inception_branch(kind: str, c_in: int, reduce: int, c_out: int, bias: bool) -> tuple[Any, ...]:
    """One branch's modules (only read, never changed): cached, as seeds draw the module's seven widths from
    short lists, so a branch recurs far more often than the whole module."""
    from torch import nn

    conv = lambda c_from, c_to, k: meta_module(nn.Conv2d, c_from, c_to, k, padding=k // 2, bias=bias)  # noqa: E731
    if kind == "1x1":
        return (conv(c_in, c_out, 1),)
    if kind == "pool":
        return (nn.MaxPool2d(3, 1, padding=1), conv(c_in, c_out, 1))
    k = {"3x3": 3, "5x5": 5}[kind]
    return (conv(c_in, reduce, 1), conv(reduce, c_out, k))


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


class ResNetBlock:
    """One torchvision-style ResNet block as plain lists of modules: (main path, shortcut or [] for the identity)."""

    def __init__(self, kind: str, c_in: int, c: int, stride: int, bn: bool = True) -> None:
        from torch import nn

        conv = lambda a, b, k, s=1: meta_module(nn.Conv2d, a, b, k, stride=s, padding=k // 2, bias=False)  # noqa: E731
        norm = lambda ch: [meta_module(nn.BatchNorm2d, ch)] if bn else []  # noqa: E731
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
    return dict(_resnet_block_values(str(p["block"]), *(int(p[name]) for name in ("n", "c_in", "c", "s")), bool(p["bn"])))


@lru_cache(maxsize=512)  # seeds repeat a small grid of blocks (about half the draws are repeats)
def _resnet_block_values(kind: str, n: int, c_in: int, c: int, stride: int, bn: bool) -> dict[str, int]:
    from torch import nn

    block = ResNetBlock(kind, c_in, c, stride, bn)
    out = _conv_and_norm_shapes(block.main, n, c_in)
    if block.shortcut:
        assert _conv_and_norm_shapes(block.shortcut, n, c_in) == out, "the projection matches the main path"
    count = lambda modules, cls: sum(t.numel() for m in modules if isinstance(m, cls) for t in m.parameters())  # noqa: E731
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
        "stem": [meta_module(nn.Conv2d, 3, 64, 7, stride=2, padding=3, bias=False), meta_module(nn.BatchNorm2d, 64)],
    }
    c_in = 64
    for i, (width, count) in enumerate(zip((64, 128, 256, 512), blocks), 1):
        stage = []
        for j in range(count):
            block = ResNetBlock(kind, c_in, width, 2 if (i > 1 and j == 0) else 1)
            stage += block.modules()
            c_in = block.c_out
        parts[f"stage{i}"] = stage
    parts["fc"] = [meta_module(nn.Linear, c_in, classes)]
    return parts


@lru_cache(maxsize=16)
def _backbone_counts(name: str) -> tuple[dict[str, int], int]:
    """Each part's parameters without the classifier's last layer (the only one the class count changes), and
    that layer's input width: a whole network is built once per name, not once per class count."""
    if name == "alexnet":  # torchvision's variant: 64/192/384/256/256 filters, conv1 padding 2, AdaptiveAvgPool2d(6)
        convs, linears = alexnet((64, 192, 384, 256, 256), (11, 5, 3, 3, 3), 4, (2, 2, 1, 1, 1), 224,
                                 classes=1, adaptive=True)
        parts = {"stem": [convs[0]], "stage1": [convs[1]], "stage2": [convs[2]], "stage3": [convs[3]],
                 "stage4": [convs[4]], "fc": linears}
    else:
        parts = resnet(name, 1)
    head = parts["fc"].pop()
    counts = {part: sum(t.numel() for m in modules for t in m.parameters()) for part, modules in parts.items()}
    return counts, head.in_features


def _model_counts(name: str, classes: int) -> dict[str, int]:
    from torch import nn

    counts, width = _backbone_counts(name)
    head = meta_module(nn.Linear, width, classes)
    counts = {**counts, "fc": counts["fc"] + sum(t.numel() for t in head.parameters())}
    counts["total"] = sum(counts.values())
    return counts


@register("model_params")
def model_params(p: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_model_counts(str(p["net"]), int(p["m"])))
