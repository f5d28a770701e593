"""Compression oracles (low-rank factorisation) against torch and a published count."""

from __future__ import annotations

import math

import numpy as np
import torch

from dlstudy.engine.oracles import compression, get

rng = np.random.default_rng(0)


def test_low_rank_golden_lora():
    # Hu et al. 2021 (LoRA), Sec. 4.2 and Table 4: adapting W_q and W_v (d_model = 12288) in all 96 layers of GPT-3
    # with rank r trains 2 x 96 x r(d + d) parameters: 4.7M for r = 1 and 37.7M for r = 8.
    for rank, published in ((1, 4.7), (8, 37.7)):
        _, factored = compression.low_rank_counts(12288, 12288, rank, False)
        assert round(2 * 96 * factored / 1e6, 1) == published


def test_low_rank_matches_cpu_modules_and_brute_force():
    for _ in range(30):
        m, n, k = (int(v) for v in rng.integers(1, 60, 3))
        bias = bool(rng.integers(2))
        got = get("low_rank_factorization")({"M": m, "N": n, "K": k, "bias": bias})
        full = torch.nn.Linear(n, m, bias=bias)
        factored = torch.nn.Sequential(torch.nn.Linear(n, k, bias=False), torch.nn.Linear(k, m, bias=bias))
        assert got["full"] == sum(t.numel() for t in full.parameters())
        assert got["factored"] == sum(t.numel() for t in factored.parameters())
        assert got["k_max"] == max(r for r in range(0, m * n + 1) if r * (m + n) < m * n)
        assert got["k_max"] == math.ceil(m * n / (m + n)) - 1


def test_low_rank_product_has_the_rank():
    # The factorised layer really is rank K: the product of its two weight matrices.
    m, n, k = 12, 9, 3
    factored = torch.nn.Sequential(torch.nn.Linear(n, k, bias=False), torch.nn.Linear(k, m, bias=False))
    product = factored[1].weight @ factored[0].weight
    assert product.shape == (m, n) and torch.linalg.matrix_rank(product) == k
