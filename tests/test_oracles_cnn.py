"""CNN oracles against torch and against published numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch.utils.flop_counter import FlopCounterMode

from dlstudy.engine.oracles import architectures, cnn_costs, cnn_memory, cnn_sizes, get, layer_shapes
from dlstudy.engine.oracles.tensors import meta_module

rng = np.random.default_rng(0)


def _ints(*ranges):
    return tuple(int(rng.integers(lo, hi + 1)) for lo, hi in ranges)


def stamped_transpose(x: np.ndarray, w: np.ndarray, stride: int, padding: int, output_padding: int) -> np.ndarray:
    """Transposed convolution by its definition, as PyTorch's ConvTranspose2d computes it (one channel).

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


# ---------------------------------------------------------------------------
# Shapes: PyTorch's documented formulas, the real modules and the oracles agree


def _torch_conv_size(n, k, p, s, d):
    conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, device="meta")
    return conv(torch.empty(1, 1, n, n, device="meta")).shape[-1]


def test_conv_output_size_matches_torch():
    checked = 0
    for _ in range(300):
        n, k, p, s, d = _ints((1, 40), (1, 7), (0, 3), (1, 3), (1, 2))
        if n + 2 * p < d * (k - 1) + 1:
            continue
        # Conv2d docs: H_out = floor((H_in + 2*padding - dilation*(kernel_size - 1) - 1)/stride + 1)
        documented = (n + 2 * p - d * (k - 1) - 1) // s + 1
        assert get("conv2d_output_size")({"n": n, "k": k, "p": p, "s": s, "d": d})["o"] == _torch_conv_size(n, k, p, s, d) == documented
        checked += 1
    assert checked > 200


def test_alexnet_first_conv_golden():
    # AlexNet (Krizhevsky et al., 2012; 227x227 input as in the Caffe reference): 96 11x11 filters, stride 4 -> 55x55x96.
    assert get("conv2d_output_size")({"n": 227, "k": 11, "p": 0, "s": 4, "d": 1})["o"] == 55


def test_maxpool_output_size_matches_torch_and_docs():
    checked = 0
    for _ in range(200):
        n, k, s, p = _ints((1, 30), (1, 5), (1, 3), (0, 2))
        if 2 * p > k or n + 2 * p < k:
            continue  # torch refuses padding > k/2
        image = rng.standard_normal((n, n))
        theirs = torch.nn.MaxPool2d(k, s, p)(torch.tensor(image)[None, None])[0, 0].numpy()
        # MaxPool2d docs (dilation 1, ceil_mode False): H_out = floor((H_in + 2*padding - kernel_size)/stride + 1)
        documented = (n + 2 * p - k) // s + 1
        assert get("maxpool2d_output_size")({"n": n, "k": k, "s": s, "p": p})["o"] == theirs.shape[0] == documented
        checked += 1
    assert checked > 100


def test_conv_transpose_matches_torch_values_and_docs():
    checked = 0
    for _ in range(200):
        n, k, s, p, op, d = _ints((1, 12), (1, 5), (1, 3), (0, 3), (0, 2), (1, 2))
        if not (op < s or op < d) or (n - 1) * s + d * (k - 1) + 1 + op - 2 * p < 1:
            continue  # torch: output_padding must be smaller than the stride or the dilation; the output must be non-empty
        x, w = rng.standard_normal((n, n)), rng.standard_normal((k, k))
        if d == 1 and op < s:
            ours = stamped_transpose(x, w, s, p, op)
            theirs = F.conv_transpose2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], stride=s, padding=p, output_padding=op)
            np.testing.assert_allclose(ours, theirs[0, 0].numpy(), atol=1e-12)
        # ConvTranspose2d docs: H_out = (H_in - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1
        documented = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        module = torch.nn.ConvTranspose2d(3, 2, k, stride=s, padding=p, output_padding=op, dilation=d, device="meta")
        assert module(torch.empty(1, 3, n, n, device="meta")).shape[-1] == documented
        assert get("conv_transpose2d_output_size")({"n": n, "k": k, "s": s, "p": p, "op": op, "d": d})["o"] == documented
        checked += 1
    assert checked > 80


def test_conv_transpose_golden():
    # PyTorch ConvTranspose2d docs example: a 12x12 map downsampled by Conv2d(k=3, stride=2, padding=1) to 6x6
    # comes back to 12x12 with ConvTranspose2d(k=3, stride=2, padding=1) and output_size 12 (= output_padding 1).
    assert _torch_conv_size(12, 3, 1, 2, 1) == 6
    assert get("conv_transpose2d_output_size")({"n": 6, "k": 3, "s": 2, "p": 1, "op": 1, "d": 1})["o"] == 12
    # Course notes (Imperial 70010, transposed convolution): 2x2 input, k=3, s=1, p=0 -> 4x4.
    assert get("conv_transpose2d_output_size")({"n": 2, "k": 3, "s": 1, "p": 0, "op": 0, "d": 1})["o"] == 4


# ---------------------------------------------------------------------------
# Parameter counts


def test_conv_param_count_matches_cpu_module():
    for _ in range(40):
        c_in, c_out, k = _ints((1, 64), (1, 64), (1, 7))
        for bias in ("with", "without"):
            got = get("conv2d_param_count")({"c_in": c_in, "c_out": c_out, "k": k, "bias": bias, "n": 32})
            module = torch.nn.Conv2d(c_in, c_out, k, bias=bias == "with")  # a real CPU module
            arrays = [t.detach().numpy() for t in module.parameters()]
            assert got["total"] == sum(a.size for a in arrays)
            assert got["weights"] == arrays[0].size and got["w_filter"] == arrays[0][0].size


def test_conv_param_count_golden():
    # AlexNet conv1 (Krizhevsky et al. 2012): 96 filters of 11x11x3 plus 96 biases = 34,944 parameters.
    assert get("conv2d_param_count")({"c_in": 3, "c_out": 96, "k": 11, "bias": "with", "n": 227})["total"] == 34_944


def test_flatten_dense_matches_numpy():
    for _ in range(40):
        h, w, c, m = _ints((1, 9), (1, 9), (1, 64), (1, 200))
        got = get("flatten_dense_param_count")({"h": h, "w": w, "c": c, "m": m})
        flat = rng.standard_normal((c, h, w)).reshape(-1)  # NumPy flatten of one feature map
        linear = torch.nn.Linear(len(flat), m)
        assert got["flat"] == len(flat)
        assert got["total"] == sum(t.detach().numpy().size for t in linear.parameters())


def test_flatten_dense_golden():
    # VGG-16 fc6 (Simonyan & Zisserman 2014; torchvision classifier[0] = Linear(25088, 4096)):
    # a 7x7x512 map flattened into 4096 units: 25088*4096 + 4096 = 102,764,544 parameters.
    got = get("flatten_dense_param_count")({"h": 7, "w": 7, "c": 512, "m": 4096})
    assert got["flat"] == 25_088 and got["total"] == 102_764_544


# ---------------------------------------------------------------------------
# Compute costs


def _torch_conv_macs(n, c_in, c_out, k, s=1, p=0, groups=1):
    """MACs by torch's FlopCounterMode, which counts a convolution as 2 FLOPs per multiply-accumulate."""
    conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p, groups=groups, bias=False, device="meta")
    with FlopCounterMode(display=False) as counter:
        conv(torch.empty(1, c_in, n, n, device="meta"))
    return counter.get_total_flops() // 2


def test_conv_multiplies_match_flop_counter():
    for _ in range(100):
        n, k, s, p, g = _ints((3, 40), (1, 5), (1, 3), (0, 2), (1, 4))
        c_in, c_out = g * int(rng.integers(1, 9)), g * int(rng.integers(1, 9))
        if n + 2 * p < k:
            continue
        o, macs = cnn_costs.conv_multiplies(n, c_in, c_out, k, s, p, g)
        assert macs == _torch_conv_macs(n, c_in, c_out, k, s, p, g)
        assert o == _torch_conv_size(n, k, p, s, 1)


def test_conv_multiplies_count_a_real_convolution():
    # Do the convolution in NumPy by multiplying windows and weights element-wise: the product tensor's size
    # is the number of multiplications, and its sum over (c_in, k, k) must equal torch's conv2d.
    for _ in range(20):
        n, c_in, c_out, k, s, p = _ints((3, 9), (1, 3), (1, 3), (1, 3), (1, 2), (0, 1))
        x, w = rng.standard_normal((c_in, n, n)), rng.standard_normal((c_out, c_in, k, k))
        windows = sliding_window_view(np.pad(x, ((0, 0), (p, p), (p, p))), (k, k), axis=(1, 2))[:, ::s, ::s]
        products = windows[None] * w[:, :, None, None]  # (c_out, c_in, o, o, k, k)
        out = products.sum(axis=(1, 4, 5))
        expected = F.conv2d(torch.tensor(x)[None], torch.tensor(w), stride=s, padding=p)[0].numpy()
        np.testing.assert_allclose(out, expected, atol=1e-12)
        assert cnn_costs.conv_multiplies(n, c_in, c_out, k, s, p)[1] == products.size


def test_conv_macs_oracle_units():
    p = {"n": 28, "c_in": 16, "c_out": 32, "k": 3, "s": 1, "p": 1}
    macs = get("conv2d_macs")({**p, "unit": "MACs"})["count"]
    assert macs == _torch_conv_macs(28, 16, 32, 3, 1, 1)
    assert get("conv2d_macs")({**p, "unit": "FLOPs"})["count"] == 2 * macs


def _alexnet_conv_macs(groups):
    # (n, c_in, c_out, k, stride, padding) of the five convs of the 227x227 AlexNet
    layers = [(227, 3, 96, 11, 4, 0), (27, 96, 256, 5, 1, 2), (13, 256, 384, 3, 1, 1), (13, 384, 384, 3, 1, 1), (13, 384, 256, 3, 1, 1)]
    return [cnn_costs.conv_multiplies(n, ci, co, k, s, p, g)[1] for (n, ci, co, k, s, p), g in zip(layers, groups)]


def test_conv_macs_golden_alexnet():
    # Sze et al., "Efficient Processing of Deep Neural Networks", Proc. IEEE 2017, Table IV: AlexNet's five
    # conv layers (two-tower: conv2, conv4, conv5 split in 2 groups) cost 666M MACs.
    assert round(sum(_alexnet_conv_macs((1, 2, 1, 2, 2))) / 1e6) == 666
    assert get("conv2d_macs")({"n": 227, "c_in": 3, "c_out": 96, "k": 11, "s": 4, "p": 0, "unit": "MACs"})["o"] == 55


def test_inception_bottleneck_matches_flop_counter():
    for _ in range(30):
        n = int(rng.choice([7, 14, 28]))
        c_in, c_out, r = _ints((8, 64), (8, 64), (2, 16))
        k = int(rng.choice([3, 5]))
        got = get("inception_bottleneck_macs")({"n": n, "c_in": c_in, "c_out": c_out, "k": k, "r": r})
        assert got["direct"] == _torch_conv_macs(n, c_in, c_out, k, 1, k // 2)
        assert got["bottleneck"] == _torch_conv_macs(n, c_in, r, 1) + _torch_conv_macs(n, r, c_out, k, 1, k // 2)


def test_inception_bottleneck_golden():
    # deeplearning.ai CNN course (Ng), "Inception network motivation": 28x28x192 -> 5x5 'same' conv with 32
    # filters costs about 120M multiplications; reducing to 16 channels with 1x1 first costs 2.4M + 10.0M = 12.4M.
    got = get("inception_bottleneck_macs")({"n": 28, "c_in": 192, "c_out": 32, "k": 5, "r": 16})
    assert round(got["direct"] / 1e6) == 120
    assert (round(got["reduce"] / 1e5), round(got["expand"] / 1e5), round(got["bottleneck"] / 1e5)) == (24, 100, 124)


def test_depthwise_separable_matches_torch():
    for _ in range(30):
        n = int(rng.choice([7, 14, 28]))
        c_in, c_out = _ints((2, 64), (2, 64))
        k = int(rng.choice([3, 5]))
        got = get("depthwise_separable_cost")({"n": n, "c_in": c_in, "c_out": c_out, "k": k})
        dw = torch.nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False)
        pw = torch.nn.Conv2d(c_in, c_out, 1, bias=False)
        assert (got["dw_params"], got["pw_params"]) == (dw.weight.numel(), pw.weight.numel())
        assert got["sep_macs"] == _torch_conv_macs(n, c_in, c_in, k, 1, k // 2, c_in) + _torch_conv_macs(n, c_in, c_out, 1)
        assert got["std_macs"] == _torch_conv_macs(n, c_in, c_out, k, 1, k // 2)


def test_depthwise_separable_golden():
    # Howard et al. 2017 (MobileNets), Sec. 3.1: "MobileNet uses 3x3 depthwise separable convolutions which uses
    # between 8 to 9 times less computation than standard convolutions".
    for c_out in (64, 128, 256, 512, 1024):
        ratio = get("depthwise_separable_cost")({"n": 14, "c_in": 256, "c_out": c_out, "k": 3})["ratio"]
        assert 7.8 < ratio < 9
    # Table 1 of the same paper, MobileNet-224 built from conv_multiplies: 569M mult-adds in all.
    body = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
    body += [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    n, total = 112, cnn_costs.conv_multiplies(224, 3, 32, 3, 2, 1)[1]
    for c_in, c_out, s in body:
        o, dw = cnn_costs.conv_multiplies(n, c_in, c_in, 3, s, 1, groups=c_in)
        total += dw + cnn_costs.conv_multiplies(o, c_in, c_out, 1)[1]
        n = o
    total += 1024 * 1000  # the final fully connected layer
    assert round(total / 1e6) == 569


# ---------------------------------------------------------------------------
# Receptive fields and padding


def _torch_receptive_field(layers):
    """Receptive field of output pixel (0, 0) by autograd through a real 2-D stack (all-one kernels)."""
    size = 96
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = x
    for kind, k, s, d in layers:
        out = F.avg_pool2d(out, k, s) if kind == "pool" else F.conv2d(out, torch.ones(1, 1, k, k), stride=s, dilation=d)
    (grad,) = torch.autograd.grad(out[0, 0, 0, 0], x)
    rows, cols = torch.nonzero(grad[0, 0], as_tuple=True)
    return int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1


def test_receptive_field_matches_autograd():
    for _ in range(60):
        k1, s1, k2, s2, k3, s3 = _ints((1, 7), (1, 2), (2, 3), (1, 2), (1, 5), (1, 2))
        got = get("receptive_field_stack")({"k": np.array([k1, k2, k3]), "s": np.array([s1, s2, s3])})
        layers = [("conv", k1, s1, 1), ("pool", k2, s2, 1), ("conv", k3, s3, 1)]
        assert _torch_receptive_field(layers) == (got["R"], got["R"]) == (got["r"][2], got["r"][2])
        assert _torch_receptive_field(layers[:2]) == (got["r"][1], got["r"][1])
        assert got["j"][2] == s1 * s2  # neighbouring positions below the third layer are the product of strides apart
    for _ in range(20):  # any number of layers
        depth = int(rng.integers(1, 6))  # receptive field at most 63 pixels: fits the 96-pixel test image
        kernels, strides = rng.integers(1, 4, depth), rng.integers(1, 3, depth)
        got = get("receptive_field_stack")({"k": kernels.astype(float), "s": strides.astype(float)})
        layers = [("conv", int(k), int(s), 1) for k, s in zip(kernels, strides)]
        assert _torch_receptive_field(layers) == (got["R"], got["R"])
    for _ in range(30):
        k, d1, d2, d3 = _ints((2, 4), (1, 2), (1, 4), (1, 5))
        got = get("dilated_receptive_field")({"k": k, "d": np.array([d1, d2, d3])})
        layers = [("conv", k, 1, d) for d in (d1, d2, d3)]
        assert _torch_receptive_field(layers) == (got["r"], got["r"])
        assert _torch_receptive_field(layers[1:2]) == (got["e"][1], got["e"][1])


def test_receptive_field_golden():
    # Simonyan & Zisserman 2014, Sec. 2.3: two stacked 3x3 convs see 5x5, three see 7x7.
    assert [r for r, _ in cnn_sizes.receptive_field((("conv", 3, 1, 1),) * 3)] == [3, 5, 7]
    # Yu & Koltun 2016 (dilated convolutions), Sec. 3: 3x3 convs with dilation 1, 2, 4 give 3x3, 7x7, 15x15.
    assert [r for r, _ in cnn_sizes.receptive_field(tuple(("conv", 3, 1, d) for d in (1, 2, 4)))] == [3, 7, 15]
    # van den Oord et al. 2016 (WaveNet): kernel 2, dilations 1, 2, ..., 512 -> receptive field 1024.
    assert cnn_sizes.receptive_field(tuple(("conv", 2, 1, 2**i) for i in range(10)))[-1][0] == 1024


def test_same_padding_matches_torch_same():
    for _ in range(40):
        n = int(rng.integers(5, 30))
        k = int(rng.choice([1, 3, 5, 7]))
        d = int(rng.integers(1, 5))
        pad = get("same_padding")({"n": n, "k": k, "d": d})["p"]
        x, w = torch.randn(1, 2, n, n), torch.randn(3, 2, k, k)
        same = F.conv2d(x, w, padding="same", dilation=d)  # PyTorch's own 'same' mode
        explicit = F.conv2d(x, w, padding=pad, dilation=d)
        assert same.shape[-1] == n
        torch.testing.assert_close(explicit, same)


# ---------------------------------------------------------------------------
# Global average pooling


def test_gap_vs_flatten_matches_numpy():
    for _ in range(30):
        c, h, m = _ints((1, 64), (1, 9), (2, 100))
        got = get("gap_vs_flatten")({"c": c, "h": h, "m": m})
        fmap = rng.standard_normal((c, h, h))
        pooled = fmap.mean(axis=(1, 2))  # GAP: one average per channel
        assert got["gap_len"] == pooled.size
        assert got["saved"] == (fmap.size - pooled.size) * m  # biases are the same in both versions


def test_gap_golden():
    # He et al. 2016 (ResNet-50, Table 1): conv5_x outputs 7x7x2048, then "average pool, 1000-d fc";
    # torchvision's resnet50.fc is Linear(2048, 1000): 2,049,000 parameters.
    got = get("gap_vs_flatten")({"c": 2048, "h": 7, "m": 1000})
    assert got["gap_len"] == 2048 and got["gap_params"] == 2_049_000


# ---------------------------------------------------------------------------
# Whole networks


def _slide(n, k, s=1):
    return sliding_window_view(np.zeros(n), k)[::s].shape[0]


def test_lenet_matches_numpy_shapes_and_cpu_modules():
    for _ in range(20):
        n, c0, c1, k1, c2, k2, h = _ints((24, 36), (1, 3), (2, 10), (3, 5), (4, 20), (3, 5), (10, 120))
        got = get("lenet_params")({"n": n, "c0": c0, "c1": c1, "k1": k1, "c2": c2, "k2": k2, "h": h})
        o1 = _slide(n, k1)
        q1 = _slide(o1, 2, 2)
        o2 = _slide(q1, k2)
        q2 = _slide(o2, 2, 2)
        assert (got["o1"], got["q1"], got["o2"], got["q2"], got["flat"]) == (o1, q1, o2, q2, q2 * q2 * c2)
        layers = [torch.nn.Conv2d(c0, c1, k1), torch.nn.Conv2d(c1, c2, k2), torch.nn.Linear(q2 * q2 * c2, h), torch.nn.Linear(h, 10)]
        counts = [sum(t.detach().numpy().size for t in m.parameters()) for m in layers]
        assert [got["p_conv1"], got["p_conv2"], got["p_fc1"], got["p_fc2"]] == counts
        assert got["total"] == sum(counts)


def _meta_forward_shapes(layers, size, channels):
    """The shape after each layer of a real forward pass on the meta device (the oracles' previous method)."""
    x = torch.empty(1, channels, size, size, device="meta")
    shapes = []
    for layer in layers:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes


def _random_stack(c0):
    """A random stack of convolutions (stride, padding, dilation, groups, rectangular kernels) and max-pools."""
    layers, c = [], c0
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.6:
            groups = int(rng.choice([g for g in (1, 2, 3) if c % g == 0]))
            c_out = groups * int(rng.integers(1, 4))
            layers.append(torch.nn.Conv2d(c, c_out, _ints((1, 5), (1, 5)), stride=_ints((1, 3), (1, 3)),
                                          padding=_ints((0, 2), (0, 2)), dilation=_ints((1, 2), (1, 2)),
                                          groups=groups, bias=bool(rng.random() < 0.5), device="meta"))
            c = c_out
        else:
            k = int(rng.integers(1, 4))
            layers.append(torch.nn.MaxPool2d(k, int(rng.integers(1, 3)), padding=int(rng.integers(0, k // 2 + 1)),
                                             dilation=int(rng.integers(1, 3))))
    return layers + [torch.nn.Flatten()]


def test_run_shapes_matches_meta_forward_pass():
    checked = 0
    for _ in range(300):
        c0, n = int(rng.integers(1, 4)), int(rng.integers(6, 40))
        layers = _random_stack(c0)
        try:
            expected = _meta_forward_shapes(layers, n, c0)
        except RuntimeError:
            continue  # a window no longer fits the map
        if any(0 in shape for shape in expected):
            continue
        assert layer_shapes.run_shapes(layers, n, c0) == expected
        checked += 1
    assert checked > 150


def test_meta_modules_are_the_torch_modules_without_their_initialisation():
    nn = torch.nn
    builds = [(nn.Conv2d, (3, 8, 5), {"stride": 2}), (nn.Linear, (7, 4), {"bias": False}), (nn.BatchNorm2d, (6,), {}),
              (nn.LSTM, (5, 3), {"num_layers": 2, "bidirectional": True}), (nn.Embedding, (10, 4), {}),
              (nn.MultiheadAttention, (8, 2), {}), (nn.Transformer, (8, 2, 2, 1, 16), {"batch_first": True})]
    for cls, args, kwargs in builds:
        built, plain = meta_module(cls, *args, **kwargs), cls(*args, **kwargs, device="meta")
        assert type(built) is cls and all(t.is_meta for t in [*built.parameters(), *built.buffers()])
        for tensors in (lambda m: m.named_parameters(), lambda m: m.named_buffers()):
            assert [(name, t.shape, t.dtype) for name, t in tensors(built)] == [(name, t.shape, t.dtype) for name, t in tensors(plain)]


def test_lenet_shapes_match_meta_forward_pass():
    for _ in range(100):
        n, c0, c1, k1, c2, k2, h = _ints((16, 40), (1, 3), (2, 10), (3, 5), (4, 20), (3, 5), (10, 120))
        net, shapes = architectures.lenet(c0, c1, k1, c2, k2, h, n)
        assert shapes == _meta_forward_shapes(net, n, c0)  # the whole nn.Sequential, its head built on the traced length


def test_alexnet_and_vgg_shapes_match_meta_forward_pass():
    for net in architectures.VGG_CONFIGS:
        features = architectures.vgg_features(architectures.VGG_CONFIGS[net])
        assert layer_shapes.run_shapes(features, 224, 3) == _meta_forward_shapes(features, 224, 3)
    for _ in range(40):  # AlexNet-like nets: random filters, kernels, paddings, conv1 stride, input size, groups
        groups = (1, *(int(g) for g in rng.choice([1, 2], 4)))  # conv1 sees the 3 colour channels
        channels = tuple(2 * int(c) for c in rng.integers(2, 40, 5))  # even, so two towers split them
        kernels, padding = _ints((7, 11), (3, 5), (1, 3), (1, 3), (1, 3)), _ints((0, 2), (0, 2), (0, 1), (0, 1), (0, 1))
        stride1, size = int(rng.integers(2, 5)), int(rng.integers(160, 240))
        convs, linears = architectures.alexnet(channels, kernels, stride1, padding, size, groups)
        features = [convs[0], torch.nn.MaxPool2d(3, 2), convs[1], torch.nn.MaxPool2d(3, 2), *convs[2:],
                    torch.nn.MaxPool2d(3, 2), torch.nn.Flatten()]
        expected = _meta_forward_shapes(features, size, 3)
        assert layer_shapes.run_shapes(features, size, 3) == expected
        assert linears[0].in_features == expected[-1][0]


def test_lenet_golden():
    # LeCun et al. 1998, Sec. II-B (LeNet-5, 32x32 input): C1 is 6@28x28 with 156 trainable parameters,
    # S2 6@14x14, C3 16@10x10, S4 16@5x5, and C5 (120 units on the 5x5x16 map) has 48,120 connections.
    got = get("lenet_params")({"n": 32, "c0": 1, "c1": 6, "k1": 5, "c2": 16, "k2": 5, "h": 120})
    assert (got["o1"], got["q1"], got["o2"], got["q2"]) == (28, 14, 10, 5)
    assert got["p_conv1"] == 156 and got["p_fc1"] == 48_120


def test_alexnet_golden():
    layers = {name: get("alexnet_layer_params")({"layer": name}) for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")}
    # AlexNet conv1: 96 filters of 11x11x3 + 96 biases = 34,944 parameters, output 55x55x96 on a 227x227 input.
    assert layers["conv1"]["total"] == 34_944
    convs, _ = architectures.alexnet(**architectures.ALEXNET_PAPER)
    assert tuple(convs[0](torch.empty(1, 3, 227, 227, device="meta")).shape[1:]) == (96, 55, 55)
    assert layers["fc6"]["fan_in"] == 6 * 6 * 256
    # torchvision docs, AlexNet_Weights.IMAGENET1K_V1: 61,100,840 parameters for torchvision's variant
    # (64, 192, 384, 256, 256 filters, 224x224 input, conv1 padding 2), built with the same builder.
    convs, linears = architectures.alexnet((64, 192, 384, 256, 256), (11, 5, 3, 3, 3), 4, (2, 2, 1, 1, 1), 224)
    assert sum(t.numel() for m in convs + linears for t in m.parameters()) == 61_100_840
    # Sze et al. 2017, Table IV: the two-tower AlexNet has 2.3M conv weights and 58.6M FC weights.
    convs, linears = architectures.alexnet(**{**architectures.ALEXNET_PAPER, "groups": (1, 2, 1, 2, 2)})
    assert round(sum(m.weight.numel() for m in convs) / 1e5) == 23
    assert round(sum(m.weight.numel() for m in linears) / 1e5) == 586


def test_vgg_golden():
    # torchvision docs (VGG11/13/16/19_Weights.IMAGENET1K_V1, num_params), matching Simonyan & Zisserman 2014.
    published = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240}
    for net, count in published.items():
        got = get("vgg_param_count")({"net": net})
        assert got["total"] == count
        assert got["fc_in"] == 7 * 7 * 512


# ---------------------------------------------------------------------------
# Conventions and cost of the size templates


def test_conv_output_size_strides_that_do_not_fit_round_down_as_torch():
    for n, k, p, s in [(10, 3, 0, 2), (6, 3, 1, 2), (7, 2, 0, 3)]:
        got = get("conv2d_output_size")({"n": n, "k": k, "p": p, "s": s, "d": 1})
        assert got["q"] == (n + 2 * p - k) / s and not float(got["q"]).is_integer()
        assert got["o"] == _torch_conv_size(n, k, p, s, 1) == (n + 2 * p - k) // s + 1


def test_size_oracles_allocate_nothing_at_huge_sizes():
    import tracemalloc

    tracemalloc.start()
    assert get("conv2d_output_size")({"n": 10**12, "k": 3, "p": 0, "s": 1, "d": 1})["o"] == 10**12 - 2
    assert get("maxpool2d_output_size")({"n": 10**12, "k": 3, "s": 2, "p": 0, "rounding": "ceil"})["o"] == 5 * 10**11
    assert get("conv_transpose2d_output_size")({"n": 10**9, "k": 3, "s": 2, "p": 0, "op": 0, "d": 1})["o"] == 2 * 10**9 + 1
    assert get("same_padding")({"n": 10**9, "k": 100_001, "d": 10_001})["p"] == 500_050_000
    saved = get("gap_vs_flatten")({"c": 2048, "h": 1000, "m": 10, "bias": True})["saved"]
    assert saved == (1000 * 1000 - 1) * 2048 * 10  # the case that took 8 GB with a real tensor
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_maxpool_ceil_mode_matches_torch():
    checked = 0
    for _ in range(300):
        n, k, s, p = _ints((1, 30), (1, 5), (1, 3), (0, 2))
        if 2 * p > k or n + 2 * p < k:
            continue
        pooled = torch.nn.MaxPool2d(k, s, p, ceil_mode=True)(torch.zeros(1, 1, n, n))
        assert get("maxpool2d_output_size")({"n": n, "k": k, "s": s, "p": p, "rounding": "ceil"})["o"] == pooled.shape[-1]
        checked += 1
    assert checked > 150


def test_conv_transpose_stamping_agrees_with_the_formula_beyond_its_limit(monkeypatch):
    cases = [_ints((1, 40), (1, 5), (1, 3), (0, 2), (0, 1), (1, 3)) for _ in range(100)]
    cases = [c for c in cases if c[4] < c[2] and (c[0] - 1) * c[2] + c[5] * (c[1] - 1) + 1 + c[4] - 2 * c[3] >= 1]
    stamped = [cnn_sizes.conv_transpose_1d_length(*c) for c in cases]
    monkeypatch.setattr(cnn_sizes, "STAMP_LIMIT", 0)  # every case now takes the documented formula
    assert [cnn_sizes.conv_transpose_1d_length(*c) for c in cases] == stamped


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_even_kernels_in_depthwise_and_inception_match_torch_same():
    # PyTorch's padding='same' pads k - 1 in all (the odd pixel right and bottom); the MAC counts use it.
    for k in (2, 4):
        n, c_in, c_out = 7, 4, 6
        got = get("depthwise_separable_cost")({"n": n, "c_in": c_in, "c_out": c_out, "k": k})
        same = torch.nn.Conv2d(c_in, c_out, k, padding="same", bias=False)
        assert same(torch.zeros(1, c_in, n, n)).shape[-1] == n
        with FlopCounterMode(display=False) as counter:
            same(torch.zeros(1, c_in, n, n))
        assert got["std_macs"] == counter.get_total_flops() // 2 == n * n * k * k * c_in * c_out


def test_flatten_dense_bias_convention_golden():
    # CS231n VGG table and the course notes (002 L113, c m_w m_h n) count weights only: 7*7*512*4096 = 102,760,448;
    # torchvision's classifier[0] = Linear(25088, 4096) adds 4096 biases: 102,764,544.
    base = {"h": 7, "w": 7, "c": 512, "m": 4096}
    assert get("flatten_dense_param_count")({**base, "bias": False})["total"] == 102_760_448
    assert get("flatten_dense_param_count")({**base, "bias": True})["total"] == 102_764_544


# ---------------------------------------------------------------------------
# Convolution, pooling and transposed convolution by hand


def _by_hand(oracle, **params):
    return get(oracle)({name: np.asarray(v, dtype=float) if isinstance(v, list) else v for name, v in params.items()})


def test_conv2d_by_hand_golden():
    # Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016), Fig. 1.1: this 5x5 input
    # and 3x3 kernel give the 3x3 output 12 12 17 / 10 17 19 / 9 6 14.
    x = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    k = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
    got = _by_hand("conv2d_by_hand", X=x, K=k, s=1, p=0, b=0, op="correlation")
    np.testing.assert_array_equal(got["Y"], [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    # Zhang et al., Dive into Deep Learning, Sec. 7.2.1: corr2d([[0,1,2],[3,4,5],[6,7,8]], [[0,1],[2,3]]) = [[19,25],[37,43]].
    got = _by_hand("conv2d_by_hand", X=[[0, 1, 2], [3, 4, 5], [6, 7, 8]], K=[[0, 1], [2, 3]], s=1, p=0, b=0, op="correlation")
    np.testing.assert_array_equal(got["Y"], [[19, 25], [37, 43]])


def test_conv2d_true_convolution_is_the_textbook_sum():
    # Goodfellow et al., Deep Learning (2016), Eq. 9.4: S(i, j) = sum_m sum_n I(m, n) K(i - m, j - n) (full convolution);
    # its valid part, computed here by the definition, is what the 'convolution' convention gives.
    for _ in range(20):
        h, w, kh, kw = _ints((3, 6), (3, 6), (1, 3), (1, 3))
        x, k = rng.integers(-3, 4, (h, w)).astype(float), rng.integers(-2, 3, (kh, kw)).astype(float)
        full = np.zeros((h + kh - 1, w + kw - 1))
        for i, j in np.ndindex(full.shape):
            full[i, j] = sum(x[m, n] * k[i - m, j - n] for m in range(h) for n in range(w)
                             if 0 <= i - m < kh and 0 <= j - n < kw)
        valid = full[kh - 1 : h, kw - 1 : w]
        got = _by_hand("conv2d_by_hand", X=x.tolist(), K=k.tolist(), s=1, p=0, b=0, op="convolution")
        np.testing.assert_allclose(got["Y"], valid)


def test_pooling_by_hand_golden():
    # Dumoulin & Visin (2016), Figs. 1.5 and 1.6: 3x3 average and max pooling, stride 1, of the Fig. 1.1 input:
    # average 1.7 1.7 1.7 / 1.0 1.2 1.8 / 1.1 0.8 1.3 (one decimal) and max 3 3 3 / 3 3 3 / 3 2 3.
    x = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    average = _by_hand("pooling_by_hand", X=x, k=3, s=1, mode="avg")["Y"]
    np.testing.assert_array_equal(np.round(average, 1), [[1.7, 1.7, 1.7], [1.0, 1.2, 1.8], [1.1, 0.8, 1.3]])
    np.testing.assert_array_equal(_by_hand("pooling_by_hand", X=x, k=3, s=1, mode="max")["Y"], [[3, 3, 3], [3, 3, 3], [3, 2, 3]])
    # PyTorch LPPool2d docs: f(X) = (sum of x^p over the window)^(1/p); for p = 2 the window's L2 norm.
    l2 = _by_hand("pooling_by_hand", X=x, k=3, s=2, mode="l2")["Y"]
    windows = sliding_window_view(np.array(x, dtype=float), (3, 3))[::2, ::2]
    np.testing.assert_allclose(l2, np.sqrt((windows**2).sum(axis=(-2, -1))))


def test_conv_transpose_by_hand_golden():
    # Zhang et al., Dive into Deep Learning, Sec. 14.10: X = K = [[0, 1], [2, 3]] give [[0, 0, 1], [0, 4, 6], [4, 12, 9]];
    # with padding 1 the single value 4; with stride 2 [[0,0,0,1],[0,0,2,3],[0,2,0,3],[4,6,6,9]].
    x = k = [[0, 1], [2, 3]]
    np.testing.assert_array_equal(_by_hand("conv_transpose_by_hand", X=x, K=k, s=1, p=0, op=0)["Y"], [[0, 0, 1], [0, 4, 6], [4, 12, 9]])
    np.testing.assert_array_equal(_by_hand("conv_transpose_by_hand", X=x, K=k, s=1, p=1, op=0)["Y"], [[4]])
    np.testing.assert_array_equal(_by_hand("conv_transpose_by_hand", X=x, K=k, s=2, p=0, op=0)["Y"],
                                  [[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]])


def test_conv_transpose_zero_insertion_equals_stamping():
    # The template's closed form (insert zeros, pad k - p - 1, rotate the kernel) against the stamping definition.
    for _ in range(30):
        n, k, s, p = _ints((1, 4), (2, 4), (1, 3), (0, 1))
        op = int(rng.integers(0, s))
        x, w = rng.integers(-2, 3, (n, n)).astype(float), rng.integers(-2, 3, (k, k)).astype(float)
        got = _by_hand("conv_transpose_by_hand", X=x.tolist(), K=w.tolist(), s=s, p=p, op=op)
        np.testing.assert_allclose(got["Y"], stamped_transpose(x, w, s, p, op), atol=1e-12)


def test_conv_backward_golden():
    # prof.lexailabs.com, "Conv2D backward (dx, dW)", Example 1: x = arange(16) as 4x4, W = [[1, 2], [3, 4]], an upstream
    # gradient of 1 at output (0, 0) only: dW = [[0, 1], [4, 5]] and dx = [[1, 2], [3, 4]] in the top-left corner, 0 elsewhere.
    upstream = np.zeros((3, 3))
    upstream[0, 0] = 1
    got = _by_hand("conv_backward", X=np.arange(16.0).reshape(4, 4).tolist(), K=[[1, 2], [3, 4]], G=upstream.tolist(), s=1, p=0)
    np.testing.assert_array_equal(got["dK"], [[0, 1], [4, 5]])
    expected = np.zeros((4, 4))
    expected[:2, :2] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(got["dX"], expected)
    assert got["db"] == 1


def test_conv_backward_matches_the_loop_definition():
    # dW[u, v] = sum_ij G_ij Xp[i s + u, j s + v]; dXp[i s + u, j s + v] += G_ij K[u, v] (each output's window gets K times G_ij).
    for _ in range(20):
        h, kh, s, p = _ints((3, 6), (1, 3), (1, 2), (0, 1))
        if (h + 2 * p - kh) % s:
            continue
        o = (h + 2 * p - kh) // s + 1
        x, k, g = (rng.integers(-2, 3, shape).astype(float) for shape in ((h, h), (kh, kh), (o, o)))
        xp = np.pad(x, p)
        d_k, d_xp = np.zeros_like(k), np.zeros_like(xp)
        for i, j in np.ndindex(o, o):
            d_k += g[i, j] * xp[i * s : i * s + kh, j * s : j * s + kh]
            d_xp[i * s : i * s + kh, j * s : j * s + kh] += g[i, j] * k
        got = _by_hand("conv_backward", X=x.tolist(), K=k.tolist(), G=g.tolist(), s=s, p=p)
        np.testing.assert_allclose(got["dK"], d_k)
        np.testing.assert_allclose(got["dX"], d_xp[p : p + h, p : p + h])
        assert got["db"] == g.sum()


def test_maxpool_backward_golden():
    # stats.stackexchange.com/q/414301 (accepted answer): 2x2 max-pooling of [[1, 4], [3, 2]] with upstream gradient 1
    # gives [[0, 1], [0, 0]]; of [[2, 6], [7, 2]] with gradient 2 gives [[0, 0], [2, 0]].
    np.testing.assert_array_equal(_by_hand("maxpool_backward", X=[[1, 4], [3, 2]], G=[[1]], k=2, s=2)["dX"], [[0, 1], [0, 0]])
    np.testing.assert_array_equal(_by_hand("maxpool_backward", X=[[2, 6], [7, 2]], G=[[2]], k=2, s=2)["dX"], [[0, 0], [2, 0]])
    # Intel DAAL docs, 2D max pooling backward layer: where overlapping windows share the same maximum, that position
    # receives the sum of their gradients. Windows of 2 with stride 1 over [[0, 9, 0]]-like rows share the 9.
    got = _by_hand("maxpool_backward", X=[[0, 9, 1], [2, 3, 4]], G=[[5, 7]], k=2, s=1)["dX"]
    np.testing.assert_array_equal(got, [[0, 12, 0], [0, 0, 0]])


def test_window_functions_match_torch():
    from dlstudy.mathtext import parsing
    from dlstudy.mathtext.functions import evaluate

    for _ in range(20):
        h, w, k, s = _ints((3, 7), (3, 7), (1, 3), (1, 2))
        x, kern, g = rng.standard_normal((h, w)), rng.standard_normal((k, k)), None
        tx = torch.tensor(x)[None, None]
        env = {"X": x, "K": kern}
        run = lambda text: evaluate(parsing.parse(text), env)  # noqa: E731
        np.testing.assert_allclose(run(f"xcorr2d(X, K, {s})"), F.conv2d(tx, torch.tensor(kern)[None, None], stride=s)[0, 0])
        np.testing.assert_allclose(run(f"maxpool2d(X, {k}, {s})"), F.max_pool2d(tx, k, s)[0, 0])
        np.testing.assert_allclose(run(f"avgpool2d(X, {k}, {s})"), F.avg_pool2d(tx, k, s)[0, 0])
        np.testing.assert_allclose(run(f"l2pool2d(X, {k}, {s})"), F.lp_pool2d(tx, 2.0, k, s)[0, 0])
        np.testing.assert_allclose(run("rot180(K)"), torch.flip(torch.tensor(kern), (0, 1)))
        np.testing.assert_allclose(run("pad(X, 1, 2, 0, 3)"), F.pad(tx, (0, 3, 1, 2))[0, 0])
        g = rng.standard_normal(F.max_pool2d(tx, k, s).shape[-2:])
        leaf = tx.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad((F.max_pool2d(leaf, k, s)[0, 0] * torch.tensor(g)).sum(), leaf)
        np.testing.assert_allclose(evaluate(parsing.parse(f"maxpool_route(X, G, {k}, {s})"), {"X": x, "G": g}), grad[0, 0])
    assert evaluate(parsing.parse("lag(v, 7)"), {"v": np.array([1.0, 2, 3])}).tolist() == [7, 1, 2]
    assert evaluate(parsing.parse("dilate(X, 2)"), {"X": np.ones((2, 2))}).tolist() == [[1, 0, 1], [0, 0, 0], [1, 0, 1]]


# ---------------------------------------------------------------------------
# Architectures: Inception, ResNet, memory, grouped and asymmetric convolutions


GOOGLENET_TABLE_1 = {  # Szegedy et al. 2014, Table 1: (size, input channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
    "3a": (28, 192, 64, 96, 128, 16, 32, 32), "3b": (28, 256, 128, 128, 192, 32, 96, 64),
    "4a": (14, 480, 192, 96, 208, 16, 48, 64), "4b": (14, 512, 160, 112, 224, 24, 64, 64),
    "4c": (14, 512, 128, 128, 256, 24, 64, 64), "4d": (14, 512, 112, 144, 288, 32, 64, 64),
    "4e": (14, 528, 256, 160, 320, 32, 128, 128), "5a": (7, 832, 256, 160, 320, 32, 128, 128),
    "5b": (7, 832, 384, 192, 384, 48, 128, 128),
}


def test_inception_module_golden():
    # Table 1 of the GoogLeNet paper: output depths, and the "ops" column (multiply-accumulates) in millions.
    # (Two ops entries are not reproducible from the table's own filter counts: 4a lists 73M for 73.6M and 5a 54M
    # for 51.1M; every other row rounds exactly.)
    depth = {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528, "4e": 832, "5a": 832, "5b": 1024}
    ops = {"3a": 128, "3b": 304, "4b": 88, "4c": 100, "4d": 119, "4e": 170, "5b": 71}
    for name, (n, c_in, c1, r3, c3, r5, c5, cp) in GOOGLENET_TABLE_1.items():
        got = get("inception_module")({"n": n, "c_in": c_in, "c1": c1, "r3": r3, "c3": c3, "r5": r5, "c5": c5, "cp": cp, "bias": False})
        assert got["c_out"] == depth[name]
        if name in ops:
            assert round(got["macs"] / 1e6) == ops[name], name


def test_resnet_and_alexnet_golden():
    # torchvision docs (the weights' num_params): ResNet-18/34/50/101/152 and AlexNet, built here from torch.nn.
    published = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
                 "resnet152": 60_192_808, "alexnet": 61_100_840}
    for net, count in published.items():
        assert get("model_params")({"net": net, "m": 1000})["total"] == count


def test_resnet_block_matches_cpu_modules_and_forward():
    for _ in range(12):
        kind = str(rng.choice(["basic", "bottleneck"]))
        n, c_in, c, s = _ints((4, 12), (2, 12), (2, 8), (1, 2))
        got = get("resnet_block")({"block": kind, "n": n, "c_in": c_in, "c": c, "s": s, "bn": True})
        block = architectures.ResNetBlock(kind, c_in, c, s)
        # rebuild the same layers on the CPU and run them, the shortcut added as in torchvision's forward
        cpu = lambda modules: torch.nn.Sequential(*[_cpu_module(m) for m in modules])  # noqa: E731
        main, shortcut = cpu(block.main), cpu(block.shortcut) if block.shortcut else torch.nn.Identity()
        x = torch.randn(1, c_in, n, n)
        y = main(x) + shortcut(x)
        assert tuple(y.shape[1:]) == (got["c_out"], got["o"], got["o"])
        assert got["total"] == sum(t.numel() for t in [*main.parameters(), *shortcut.parameters()])


def _cpu_module(module):
    """The same layer as torch builds it on the CPU, initialised (the oracle's meta layers skip initialisation)."""
    if isinstance(module, torch.nn.Conv2d):
        return torch.nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                               padding=module.padding, bias=module.bias is not None)
    assert isinstance(module, torch.nn.BatchNorm2d), module
    return torch.nn.BatchNorm2d(module.num_features)


def test_cnn_memory_golden():
    # CS231n notes, "VGGNet in detail": CONV3-64 [224x224x64] memory 224*224*64 = 3.2M, weights (3*3*3)*64 = 1,728;
    # POOL2 [112x112x64] 800K; POOL2 [7x7x512] 25K; FC [1x1x4096] weights 7*7*512*4096 = 102,760,448; "TOTAL params: 138M"
    # (weights only; the INPUT [224x224x3] = 150K counts as memory too).
    filters = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
    pools = (0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1)
    got = get("cnn_memory")({"n": 224, "c0": 3, "c": np.array(filters, float), "q": np.array(pools, float),
                             "f": np.array([4096.0, 4096, 1000]), "B": 4, "bias": False, "opt": "sgd"})
    assert got["a_conv"][0] == 224 * 224 * 64 == 3_211_264
    assert got["a_pool"][1] == 112 * 112 * 64 and got["a_pool"][-1] == 7 * 7 * 512 == 25_088
    assert got["flat"] == 25_088 and round(got["params"] / 1e6) == 138 and got["params"] == 138_344_128
    layers, _ = cnn_memory.vgg_style(224, 3, filters, pools, (4096, 4096, 1000), False)
    assert layers[0].weight.numel() == 1_728
    assert next(m for m in layers if isinstance(m, torch.nn.Linear)).weight.numel() == 102_760_448
    # PyTorch docs: SGD with momentum keeps a momentum_buffer per parameter; Adam keeps exp_avg and exp_avg_sq.
    # The oracle's table against one real step of each optimizer: the state tensors of the parameter's shape.
    weight = torch.zeros(3, requires_grad=True)
    makers = {"sgd": lambda: torch.optim.SGD([weight], lr=0.1), "momentum": lambda: torch.optim.SGD([weight], lr=0.1, momentum=0.9),
              "adam": lambda: torch.optim.Adam([weight])}
    for name, make in makers.items():
        optimizer = make()
        weight.grad = torch.ones(3)
        optimizer.step()
        buffers = sum(1 for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v) and v.shape == weight.shape)
        assert cnn_memory.optimizer_buffers(name) == buffers == {"sgd": 0, "momentum": 1, "adam": 2}[name]


def test_grouped_conv_golden():
    # Xie et al. 2017 (ResNeXt), Sec. 3.3 / Fig. 3: a block with cardinality 32 and bottleneck width 4 has
    # 32 (256*4 + 3*3*4*4 + 4*256) = 70,144 ~ 70k parameters; its grouped 3x3 layer is the 128 -> 128 conv with 32 groups.
    grouped = get("grouped_conv")({"k": 3, "c_in": 128, "c_out": 128, "g": 32, "bias": False})
    assert grouped["total"] == 4_608 and grouped["ratio"] == 32
    assert 256 * 128 + grouped["total"] + 128 * 256 == 70_144
    for _ in range(20):
        g = int(rng.integers(1, 5))
        c_in, c_out, k = g * int(rng.integers(1, 6)), g * int(rng.integers(1, 6)), int(rng.integers(1, 4))
        got = get("grouped_conv")({"k": k, "c_in": c_in, "c_out": c_out, "g": g, "bias": True})
        assert got["total"] == sum(t.numel() for t in torch.nn.Conv2d(c_in, c_out, k, groups=g).parameters())


def test_asymmetric_conv_golden():
    # Szegedy et al. 2016 (Inception-v3), Sec. 3.2: a 3x1 followed by a 1x3 convolution "is 33% cheaper for the same
    # number of output filters, if the number of input and output filters is equal".
    got = get("asymmetric_conv")({"k": 3, "c_in": 64, "c_mid": 64, "c_out": 64})
    assert round(got["saving"] * 100) == 33
