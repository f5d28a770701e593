"""CNN oracles against torch and against published numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlstudy.oracles import get

rng = np.random.default_rng(0)


def _torch_conv_size(n, k, p, s, d):
    conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, device="meta")
    return conv(torch.empty(1, 1, n, n, device="meta")).shape[-1]


@pytest.mark.parametrize("case", range(300))
def test_conv_output_size_matches_torch(case):
    n, k, p, s, d = (int(v) for v in (rng.integers(1, 40), rng.integers(1, 8), rng.integers(0, 4), rng.integers(1, 4), rng.integers(1, 3)))
    if n + 2 * p < d * (k - 1) + 1:
        return
    assert get("conv2d_output_size")({"n": n, "k": k, "p": p, "s": s, "d": d})["o"] == _torch_conv_size(n, k, p, s, d)


def test_alexnet_first_conv_golden():
    # AlexNet (Krizhevsky et al., 2012; 227x227 input as in the Caffe reference): 96 11x11 filters, stride 4 -> 55x55x96.
    assert get("conv2d_output_size")({"n": 227, "k": 11, "p": 0, "s": 4, "d": 1})["o"] == 55
