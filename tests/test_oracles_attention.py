"""Attention oracles against independent NumPy / torch computations and published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get
from dlstudy.engine.oracles.attention import matmul_multiplies

rng = np.random.default_rng(1)


def _numpy_attention(Q, K, V, causal=False):
    """Each query's weights over the keys it may see, computed one query at a time."""
    d_k = Q.shape[1]
    S = np.array([[q @ k for k in K] for q in Q])
    T = S / math.sqrt(d_k)
    A = np.zeros_like(T)
    for t in range(len(Q)):
        visible = t + 1 if causal else len(K)
        e = np.exp(T[t, :visible] - T[t, :visible].max())
        A[t, :visible] = e / e.sum()
    return S, T, A, A @ V


def test_scaled_dot_product_attention_matches_numpy():
    oracle = get("scaled_dot_product_attention")
    for _ in range(200):
        nq, nk, d, dv = (int(v) for v in rng.integers(1, 5, 4))
        Q, K, V = rng.integers(-3, 4, (nq, d)).astype(float), rng.normal(size=(nk, d)), rng.normal(size=(nk, dv))
        out = oracle({"Q": Q, "K": K, "V": V})
        for name, ref in zip("STAO", _numpy_attention(Q, K, V)):
            np.testing.assert_allclose(out[name], ref, rtol=1e-12, atol=1e-12)


def test_causal_attention_matches_numpy_and_masked_mha():
    oracle = get("causal_attention")
    for _ in range(200):
        n, d = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        Q, K, V = rng.normal(size=(n, d)), rng.normal(size=(n, d)), rng.normal(size=(n, d))
        out = oracle({"Q": Q, "K": K, "V": V})
        for name, ref in zip("STAO", _numpy_attention(Q, K, V, causal=True)):
            np.testing.assert_allclose(out[name], ref, rtol=1e-12, atol=1e-12)
        # torch's generic boolean mask (True = not allowed), the way nn.Transformer decoders mask the future
        mask = torch.ones(n, n, dtype=torch.bool).triu(1)
        q, k, v = (torch.tensor(a) for a in (Q, K, V))
        masked = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=~mask)
        np.testing.assert_allclose(out["O"], masked.numpy(), rtol=1e-12, atol=1e-12)


def test_attention_golden_published_weights():
    # UnfoldDataScience, "YouTube-Videos-files" self-attention notebook (github.com/UnfoldDataScience):
    # Q = K = [[1, 0.5, 0.75], [0, 1.3, 0.65], [1, 1.2, 1.1]] (d_k = 3) prints the scores
    # [[1.8125, 1.1375, 2.425], ...] and the weights [[0.32242711, 0.21836449, 0.4592084],
    # [0.21348029, 0.37482567, 0.41169404], [0.25345618, 0.23242983, 0.51411399]].
    Q = np.array([[1.0, 0.5, 0.75], [0.0, 1.3, 0.65], [1.0, 1.2, 1.1]])
    V = np.array([[1.0, 1.25, 0.25], [1.3, 0.65, 0.33], [1.7, 1.6, 0.52]])
    out = get("scaled_dot_product_attention")({"Q": Q, "K": Q, "V": V})
    np.testing.assert_allclose(out["S"][0], [1.8125, 1.1375, 2.425], rtol=1e-12)
    np.testing.assert_allclose(
        out["A"],
        [[0.32242711, 0.21836449, 0.4592084], [0.21348029, 0.37482567, 0.41169404], [0.25345618, 0.23242983, 0.51411399]],
        atol=1e-8,
    )


def test_attention_golden_limits():
    # Vaswani et al. (2017), eq. 1: softmax(QK^T / sqrt(d_k)) V. Identical keys get equal weights, so the
    # output is the mean of the values; under a causal mask the first token can only see itself.
    V = np.array([[1.0, 2.0], [3.0, -4.0], [5.0, 0.0]])
    K = np.ones((3, 2))
    out = get("scaled_dot_product_attention")({"Q": np.array([[2.0, -1.0]]), "K": K, "V": V})
    np.testing.assert_allclose(out["A"], [[1 / 3, 1 / 3, 1 / 3]], rtol=1e-12)
    np.testing.assert_allclose(out["O"], [[3.0, -2 / 3]], rtol=1e-12)
    causal = get("causal_attention")({"Q": np.eye(3, 2), "K": K, "V": V})
    np.testing.assert_allclose(causal["O"], [[1.0, 2.0], [2.0, -1.0], [3.0, -2 / 3]], rtol=1e-12)


def test_mha_param_count_matches_docs_shapes_and_golden():
    oracle = get("mha_param_count")
    for E, heads in [(16, 2), (64, 8), (768, 12), (1024, 16), (96, 3)]:
        mha = torch.nn.MultiheadAttention(E, heads, device="meta")
        # PyTorch docs: in_proj_weight (3E, E), in_proj_bias (3E), out_proj = Linear(E, E)
        assert tuple(mha.in_proj_weight.shape) == (3 * E, E) and tuple(mha.out_proj.weight.shape) == (E, E)
        assert oracle({"E": E, "heads": heads})["total"] == sum(p.numel() for p in mha.parameters())
    # Transformer base (Vaswani et al. 2017): d_model = 512, h = 8, projections W_Q, W_K, W_V, W_O of
    # 512x512 (8 heads x 64) with biases: 4*512*512 + 4*512 = 1,050,624 per attention layer.
    assert oracle({"E": 512, "heads": 8})["total"] == 1_050_624


def test_positional_encoding_matches_numpy_and_paper():
    oracle = get("positional_encoding")
    for _ in range(300):
        d = int(rng.choice([4, 8, 16, 64, 512]))
        pos, k = int(rng.integers(0, 60)), int(rng.integers(0, min(d, 16)))
        # Vaswani et al. (2017), section 3.5, written out directly.
        angle = pos / 10000 ** (2 * (k // 2) / d)
        expected = math.sin(angle) if k % 2 == 0 else math.cos(angle)
        out = oracle({"pos": pos, "k": k, "d": d})
        assert out["pe"] == pytest.approx(expected, abs=1e-12)
        assert out["angle"] == pytest.approx(angle, rel=1e-12, abs=1e-15)
    # Golden: PE(pos=1, 2i=0) = sin(1) = 0.8414709848078965, PE(1, 1) = cos(1) = 0.5403023058681398,
    # PE(0, odd) = cos(0) = 1; with d = 8, dimension 4 (2i = 4) has wavelength 2*pi*100: PE(50, 4) = sin(0.5).
    assert oracle({"pos": 1, "k": 0, "d": 512})["pe"] == pytest.approx(0.8414709848078965, abs=1e-15)
    assert oracle({"pos": 1, "k": 1, "d": 512})["pe"] == pytest.approx(0.5403023058681398, abs=1e-15)
    assert oracle({"pos": 0, "k": 7, "d": 8})["pe"] == 1.0
    assert oracle({"pos": 50, "k": 4, "d": 8})["pe"] == pytest.approx(math.sin(0.5), abs=1e-12)


def test_attention_flops_matches_flop_counter_mode():
    from torch.utils.flop_counter import FlopCounterMode

    oracle = get("attention_flops")
    cases = [(16, 64, 1), (32, 64, 4), (128, 768, 12), (7, 30, 3)]
    for _ in range(150):
        heads = int(rng.integers(1, 17))
        cases.append((int(rng.integers(1, 2049)), heads * int(rng.integers(1, 129)), heads))
    for n, d, heads in cases:
        dh = d // heads
        out = oracle({"n": n, "d": d, "heads": heads})
        # torch's counter on real (meta) attention, the whole of it ...
        q, k, v = (torch.empty(1, heads, n, dh, device="meta") for _ in range(3))
        with FlopCounterMode(display=False) as counter:
            torch.nn.functional.scaled_dot_product_attention(q, k, v)
        assert out["total"] == counter.get_total_flops()
        # ... and each of the two matmuls, as the oracle used to count them (meta bmm, softmax, bmm)
        q, k, v = (torch.empty(heads, n, dh, device="meta") for _ in range(3))
        with FlopCounterMode(display=False) as counter:
            scores = torch.bmm(q, k.transpose(1, 2))
        assert out["qk"] == counter.get_total_flops()
        with FlopCounterMode(display=False) as counter:
            torch.bmm(torch.softmax(scores, dim=-1), v)
        assert out["av"] == counter.get_total_flops()
        assert out["dh"] == dh


def test_matmul_multiplies_counts_a_real_matmul():
    # Multiply small arrays element by element: the product tensor's size is the number of multiplications,
    # and its sum over the shared axis is the matmul.
    for _ in range(100):
        b, m, k, n = (int(v) for v in rng.integers(1, 6, 4))
        a, c = rng.normal(size=(b, m, k)), rng.normal(size=(b, k, n))
        products = a[..., :, :, None] * c[..., None, :, :]
        shape, count = matmul_multiplies(a, c)
        np.testing.assert_allclose(products.sum(axis=-2), a @ c, rtol=1e-12, atol=1e-12)
        assert count == products.size and shape == (a @ c).shape


def test_attention_flops_golden():
    # A (m x k)(k x n) matmul costs m*n*k multiply-adds = 2mnk FLOPs (the convention of Kaplan et al. 2020,
    # "Scaling laws", and of torch.utils.flop_counter). QK^T and AV for n = 1024, d = 64, one head:
    # 2 * 2 * 1024^2 * 64 = 268,435,456. Doubling n multiplies the cost by 4 (Vaswani et al. 2017, Table 1: O(n^2 d)).
    oracle = get("attention_flops")
    assert oracle({"n": 1024, "d": 64, "heads": 1})["total"] == 268_435_456
    assert oracle({"n": 2048, "d": 64, "heads": 1})["total"] == 4 * 268_435_456
    assert oracle({"n": 1024, "d": 64, "heads": 8})["total"] == 268_435_456  # heads split d, same total


def test_positional_encoding_matches_the_full_table_and_does_not_allocate_at_huge_d():
    # The PyTorch tutorial's full table (Vaswani et al. 2017, sec. 3.5) at small sizes, entry by entry.
    oracle = get("positional_encoding")
    for d in (4, 6, 16):
        positions = np.arange(12, dtype=float)[:, None]
        div_term = np.exp(np.arange(0, d, 2) * (-np.log(10000.0) / d))
        table = np.zeros((12, d))
        table[:, 0::2], table[:, 1::2] = np.sin(positions * div_term), np.cos(positions * div_term)
        for pos in range(12):
            for k in range(d):
                assert oracle({"pos": pos, "k": k, "d": d})["pe"] == pytest.approx(table[pos, k], abs=1e-15)
    # d_model = 10^8 (the example): one entry, no table
    assert oracle({"pos": 5, "k": 0, "d": 10**8})["pe"] == pytest.approx(np.sin(5.0), abs=1e-15)


def test_mha_param_count_without_bias_and_huge():
    oracle = get("mha_param_count")
    assert oracle({"E": 512, "heads": 8, "bias": False})["total"] == 4 * 512 * 512
    assert oracle({"E": 10**9, "heads": 8, "bias": True})["total"] == 4 * 10**18 + 4 * 10**9


# ---------------------------------------------------------------------------
# Additive attention, Transformer layer parameters, KV cache


def test_additive_attention_matches_numpy_and_the_uniform_case():
    rng = np.random.default_rng(1)
    oracle = get("additive_attention")
    for _ in range(40):
        T, m, n, a = (int(v) for v in rng.integers(1, 5, 4))
        p = {"s": rng.normal(size=m), "H": rng.normal(size=(T, n)), "Ws": rng.normal(size=(a, m)),
             "Wh": rng.normal(size=(a, n)), "v": rng.normal(size=a)}
        e = np.array([p["v"] @ np.tanh(p["Ws"] @ p["s"] + p["Wh"] @ h) for h in p["H"]])
        alpha = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        out = oracle(p)
        np.testing.assert_allclose(out["e"], e, atol=1e-12)
        np.testing.assert_allclose(out["c"], alpha @ p["H"], atol=1e-12)
    # Bahdanau et al. (2015), eq. 5-6: with v = 0 every alignment score is 0, so α_j = 1/T and the
    # context is the mean of the annotations h_j.
    H = np.array([[1.0, 2.0], [3.0, -2.0], [5.0, 0.0]])
    out = oracle({"s": np.ones(2), "H": H, "Ws": np.ones((2, 2)), "Wh": np.ones((2, 2)), "v": np.zeros(2)})
    np.testing.assert_allclose(out["alpha"], [1 / 3] * 3)
    np.testing.assert_allclose(out["c"], [3.0, 0.0])


def test_transformer_layer_params_golden():
    oracle = get("transformer_layer_params")
    # BERT-base (Devlin et al. 2019: L = 12, H = 768, A = 12, d_ff = 4H): 7,087,872 parameters per layer
    # (Hugging Face bert-base-uncased: 85,054,464 in its 12 encoder layers).
    assert oracle({"d": 768, "heads": 12, "dff": 3072})["total"] == 7_087_872
    assert 12 * oracle({"d": 768, "heads": 12, "dff": 3072})["total"] == 85_054_464
    # Vaswani et al. (2017) base: d_model = 512, h = 8, d_ff = 2048.
    assert oracle({"d": 512, "heads": 8, "dff": 2048})["total"] == 3_152_384


def test_kv_cache_golden():
    oracle = get("kv_cache_bytes")
    # Llama 2 7B (Touvron et al. 2023: 32 layers, 32 heads of 128) in float16: 2 · 32 · 4096 · 2 bytes
    # = 512 KiB per token, so a 4096-token sequence needs 2 GiB.
    assert oracle({"L": 32, "heads": 32, "dh": 128, "b": 1, "n": 1, "dtype": "float16"})["total"] == 512 * 1024
    assert oracle({"L": 32, "heads": 32, "dh": 128, "b": 1, "n": 4096, "dtype": "float16"})["total"] == 2 * 1024**3
    assert oracle({"L": 2, "heads": 4, "dh": 8, "b": 3, "n": 5, "dtype": "float32"})["total"] == 2 * 2 * 4 * 8 * 3 * 5 * 4


# ---------------------------------------------------------------------------
# A whole encoder-decoder Transformer


def test_transformer_model_params_match_cpu_modules():
    import warnings

    oracle = get("transformer_model_params")
    rng = np.random.default_rng(11)
    for _ in range(12):
        heads = int(rng.integers(1, 4))
        d, dff, enc, dec, V = heads * int(rng.integers(1, 5)), int(rng.integers(1, 20)), int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(2, 30))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            body = sum(p.numel() for p in torch.nn.Transformer(d, heads, enc, dec, dff).parameters())
        for shared in (True, False):
            for output in (True, False):
                # counted by hand from the CPU modules: tied matrices once, a separate output layer with its bias
                embeddings = V * d if shared else 2 * V * d + (V * d + V if output else 0)
                got = oracle({"d": d, "heads": heads, "dff": dff, "enc_layers": enc, "dec_layers": dec, "V": V,
                              "embeddings": "shared" if shared else "separate", "output": output})
                assert got["body"] == body and got["total"] == body + embeddings


def test_transformer_model_params_golden_vaswani_table_3():
    # Vaswani et al. (2017), Table 3: the base model (d = 512, h = 8, d_ff = 2048, N = 6) has 65 x 10^6
    # parameters, the big one (d = 1024, h = 16, d_ff = 4096) 213 x 10^6; sec. 5.1: a shared source-target
    # vocabulary of about 37,000 BPE tokens for English-German; sec. 3.4: embeddings and pre-softmax weights shared.
    oracle = get("transformer_model_params")
    base = {"d": 512, "heads": 8, "dff": 2048, "enc_layers": 6, "dec_layers": 6, "V": 37000}
    assert abs(oracle(base)["total"] / 1e6 - 65) < 2.5  # 63.1 M: the table rounds, and its vocabulary is "about" 37k
    assert abs(oracle({**base, "d": 1024, "heads": 16, "dff": 4096})["total"] / 1e6 - 213) < 2  # 214.2 M


def test_transformer_model_params_huge_sizes_do_not_allocate():
    got = get("transformer_model_params")({"d": 100000, "heads": 8, "dff": 1000000, "enc_layers": 2, "dec_layers": 2,
                                           "V": 10**7, "embeddings": "separate", "output": True})
    assert got["emb"] == 3 * 10**7 * 100000 + 10**7
