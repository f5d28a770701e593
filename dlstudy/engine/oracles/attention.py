"""Oracles for attention and Transformers.

Attention outputs come from ``torch.nn.functional.scaled_dot_product_attention``
(with ``is_causal`` for masked attention) and the weights from ``torch.softmax``
on the (masked) scaled scores; parameter counts from ``p.numel()`` of a real
``torch.nn.MultiheadAttention`` on the meta device; FLOPs by counting the
multiply-adds of the real matmuls on NumPy arrays of the real shapes (checked
against torch's FlopCounterMode in the tests); positional encodings by building
the sinusoid table of Vaswani et al. (2017) as a NumPy array and reading one
entry.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import meta_module, single_thread, tensor


def _attention(p: Mapping[str, Any], causal: bool) -> dict[str, Any]:
    with single_thread():
        return _attention_steps(p, causal)


def _attention_steps(p: Mapping[str, Any], causal: bool) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    q, k, v = (tensor(p[name]) for name in ("Q", "K", "V"))
    d_k = q.shape[-1]
    scores = q @ k.T
    scaled = scores / d_k**0.5
    if causal:
        future = torch.ones(q.shape[0], k.shape[0], dtype=torch.bool).triu(1)
        weights = torch.softmax(scaled.masked_fill(future, float("-inf")), dim=-1)
    else:
        weights = torch.softmax(scaled, dim=-1)
    output = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=causal)[0]
    return {"S": scores.numpy(), "T": scaled.numpy(), "A": weights.numpy(), "O": output.numpy()}


@register("scaled_dot_product_attention")
def scaled_dot_product_attention(p: Mapping[str, Any]) -> dict[str, Any]:
    """softmax(Q Kᵀ / sqrt(d_k)) V for queries Q (nq, d), keys K (nk, d), values V (nk, dv)."""
    return _attention(p, causal=False)


@register("causal_attention")
def causal_attention(p: Mapping[str, Any]) -> dict[str, Any]:
    """Self-attention where query t sees keys 1..t only (torch's is_causal=True)."""
    return _attention(p, causal=True)


@lru_cache(maxsize=256)
def _mha_numels(embed_dim: int, heads: int, bias: bool = True) -> tuple[tuple[str, int], ...]:
    import torch

    # meta tensors hold no data; float8 keeps their byte size below 2^63 for embed_dim up to 10^9
    module = meta_module(torch.nn.MultiheadAttention, embed_dim, heads, bias=bias, dtype=torch.float8_e4m3fn)
    return tuple((name, p.numel()) for name, p in module.named_parameters())


@register("mha_param_count")
def mha_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of torch.nn.MultiheadAttention(E, heads, bias=...)."""
    numels = dict(_mha_numels(int(p["E"]), int(p["heads"]), bool(p.get("bias", True))))
    qkv = numels["in_proj_weight"] + numels.get("in_proj_bias", 0)
    out = numels["out_proj.weight"] + numels.get("out_proj.bias", 0)
    assert qkv + out == sum(numels.values())
    return {"qkv": qkv, "out": out, "total": qkv + out}


@register("positional_encoding")
def positional_encoding(p: Mapping[str, Any]) -> dict[str, Any]:
    """Entry (pos, k) of the sinusoid table PE[pos, 2i] = sin(pos ω_i), PE[pos, 2i+1] = cos(pos ω_i).

    Built as the PyTorch tutorial's PositionalEncoding builds its table (div_term = exp(2i · (−ln 10000 / d)),
    sines in the even columns, cosines in the odd ones), but only for row ``pos`` and the column pair of ``k``:
    a d_model of 10^8 must not allocate the whole table (tests compare with the full table at small sizes).
    """
    pos, k, d = int(p["pos"]), int(p["k"]), int(p["d"])
    pair = np.arange(k - k % 2, k - k % 2 + 2, 2, dtype=float)  # the even dimension 2i of k's pair
    omega = np.exp(pair * (-np.log(10000.0) / d))
    row = np.zeros(2)
    row[0::2] = np.sin(pos * omega)
    row[1::2] = np.cos(pos * omega)
    return {"i": k // 2, "omega": float(omega[0]), "angle": float(pos * omega[0]), "pe": float(row[k % 2])}


def matmul_multiplies(a: np.ndarray, b: np.ndarray) -> tuple[tuple[int, ...], int]:
    """(result shape, number of multiplications) of the batched matmul ``a @ b``.

    A matmul multiplies row i of ``a`` with column j of ``b`` element by element
    and sums the products: the (..., m, k, 1) view of ``a`` times the (..., 1, k, n)
    view of ``b``.  The count is the size of that element-wise product tensor, read
    off the broadcast of the two real views (nothing of that size is allocated);
    summing it over k gives the result's shape.
    """
    product = np.broadcast_shapes(a[..., :, :, None].shape, b[..., None, :, :].shape)  # (..., m, k, n)
    assert product[-2] == a.shape[-1] == b.shape[-2], "inner dimensions differ"
    return product[:-2] + product[-1:], int(np.prod(product, dtype=np.int64))


@lru_cache(maxsize=1024)
def _attention_flops(n: int, d_model: int, heads: int) -> tuple[int, int]:
    d_head = d_model // heads
    # Q, K, V of every head as zero-copy NumPy arrays of the real shapes (heads, n, d_head).
    q, k, v = (np.broadcast_to(np.float32(0.0), (heads, n, d_head)) for _ in range(3))
    kt = k.swapaxes(1, 2)
    scores_shape, qk_multiplies = matmul_multiplies(q, kt)
    weights = np.broadcast_to(np.float32(0.0), scores_shape)  # softmax keeps the shape of the scores
    out_shape, av_multiplies = matmul_multiplies(weights, v)
    assert out_shape == (heads, n, d_head)
    # each multiplication is accumulated by one addition: a multiply-add is 2 FLOPs, as torch.utils.flop_counter counts
    return 2 * qk_multiplies, 2 * av_multiplies


@register("attention_flops")
def attention_flops(p: Mapping[str, Any]) -> dict[str, Any]:
    """FLOPs of the two attention matmuls (Q Kᵀ and A V) for one sequence, as torch.utils.flop_counter counts them."""
    n, d_model, heads = int(p["n"]), int(p["d"]), int(p["heads"])
    qk, av = _attention_flops(n, d_model, heads)
    return {"dh": d_model // heads, "qk": qk, "av": av, "total": qk + av}


@register("additive_attention")
def additive_attention(p: Mapping[str, Any]) -> dict[str, Any]:
    """Bahdanau et al. (2015) eq. 5-6 with torch.nn.Linear layers: e_j = v·tanh(W_s s + W_h h_j), α = softmax(e),
    c = Σ α_j h_j (the scoring MLP built from real modules, loaded with the given weights)."""
    import torch

    s, H, Ws, Wh, v = (tensor(p[name]) for name in ("s", "H", "Ws", "Wh", "v"))
    with single_thread(), torch.no_grad():
        query = torch.nn.Linear(Ws.shape[1], Ws.shape[0], bias=False, dtype=torch.float64)
        keys = torch.nn.Linear(Wh.shape[1], Wh.shape[0], bias=False, dtype=torch.float64)
        score = torch.nn.Linear(v.shape[0], 1, bias=False, dtype=torch.float64)
        query.weight.copy_(Ws)
        keys.weight.copy_(Wh)
        score.weight.copy_(v[None])
        e = score(torch.tanh(keys(H) + query(s))).squeeze(-1)  # one score per encoder position
        alpha = torch.softmax(e, dim=0)
        context = torch.bmm(alpha[None, None], H[None])[0, 0]  # the weighted sum of the rows of H
    return {"e": e.numpy(), "alpha": alpha.numpy(), "c": context.numpy()}


@lru_cache(maxsize=256)
def _encoder_layer_numels(d_model: int, heads: int, d_ff: int) -> tuple[tuple[str, int], ...]:
    import torch

    # meta tensors hold no data; float8 keeps byte sizes below 2^63 at the domain's largest widths
    layer = torch.nn.TransformerEncoderLayer(d_model, heads, d_ff, device="meta", dtype=torch.float8_e4m3fn)
    return tuple((name, p.numel()) for name, p in layer.named_parameters())


@register("transformer_layer_params")
def transformer_layer_params(p: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of a real torch.nn.TransformerEncoderLayer, grouped by block."""
    numels = dict(_encoder_layer_numels(int(p["d"]), int(p["heads"]), int(p["dff"])))
    attn = sum(v for k, v in numels.items() if k.startswith("self_attn."))
    ffn = sum(v for k, v in numels.items() if k.startswith(("linear1.", "linear2.")))
    norms = sum(v for k, v in numels.items() if k.startswith("norm"))
    assert attn + ffn + norms == sum(numels.values())
    return {"attn": attn, "ffn": ffn, "norms": norms, "total": attn + ffn + norms}


KV_DTYPES = {"float16": "float16", "bfloat16": "bfloat16", "float32": "float32", "int8": "int8"}


@register("kv_cache_bytes")
def kv_cache_bytes(p: Mapping[str, Any]) -> dict[str, Any]:
    """The cache as meta tensors of the real shape: per layer a key and a value tensor (b, h, n, d_h) in the
    given dtype; bytes = numel · element_size, nothing allocated."""
    import torch

    layers, heads, dh, b, n = (int(p[k]) for k in ("L", "heads", "dh", "b", "n"))
    dtype = getattr(torch, KV_DTYPES[str(p["dtype"])])
    key = torch.empty((b, heads, n, dh), dtype=dtype, device="meta")
    one_token = torch.empty((1, heads, 1, dh), dtype=dtype, device="meta")
    per_layer = 2 * key.numel() * key.element_size()  # keys and values
    return {"bytes_per": key.element_size(), "per_token": 2 * layers * one_token.numel() * one_token.element_size(),
            "total": layers * per_layer}


@lru_cache(maxsize=512)
def _transformer_body_numels(d_model: int, heads: int, d_ff: int, enc_layers: int, dec_layers: int) -> dict[str, int]:
    """Parameter counts of a real torch.nn.Transformer, built on the meta device (float8 keeps byte sizes below
    2^63).  Cached on the stacks' shape alone: the vocabulary and embedding options, which vary most between
    seeds, do not change it, and building it (deep copies of every layer) is the oracle's whole cost."""
    import warnings

    import torch

    with warnings.catch_warnings():  # nn.Transformer warns that nested tensors need batch_first; irrelevant here
        warnings.simplefilter("ignore")
        transformer = meta_module(torch.nn.Transformer, d_model, heads, enc_layers, dec_layers, d_ff,
                                  dtype=torch.float8_e4m3fn)
    encoder_layer = transformer.encoder.layers[0]
    return {
        "attn": _count(encoder_layer.self_attn),
        "ffn": _count(encoder_layer.linear1) + _count(encoder_layer.linear2),
        "enc": _count(encoder_layer),
        "dec": _count(transformer.decoder.layers[0]),
        "body": _count(transformer),
    }


@lru_cache(maxsize=256)
def _embedding_numels(d_model: int, vocab: int, shared: bool, output: bool) -> int:
    """Parameters of the token embeddings and the pre-softmax projection, tied as Vaswani et al. (2017, sec. 3.4)
    tie them when ``shared``; real modules on the meta device.  Module.parameters() counts a tied matrix once."""
    import torch

    float8 = torch.float8_e4m3fn
    model = torch.nn.Module()
    # (meta_module skips Embedding's normal_ init, which on float8 would run through torch._refs and import dynamo)
    model.source = meta_module(torch.nn.Embedding, vocab, d_model, dtype=float8)
    model.target = model.source if shared else meta_module(torch.nn.Embedding, vocab, d_model, dtype=float8)
    if output:
        model.output = meta_module(torch.nn.Linear, d_model, vocab, bias=not shared, dtype=float8)
        if shared:
            model.output.weight = model.source.weight  # the pre-softmax projection is the embedding matrix
    return _count(model)


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def _seq2seq_transformer_numels(d_model: int, heads: int, d_ff: int, enc_layers: int, dec_layers: int, vocab: int,
                                shared: bool, output: bool) -> dict[str, int]:
    """Parameter counts of an encoder-decoder model: torch.nn.Transformer plus token embeddings and the
    pre-softmax projection; the two parts share no parameter, so the model's count is their sum."""
    numels = dict(_transformer_body_numels(d_model, heads, d_ff, enc_layers, dec_layers))
    numels["total"] = numels["body"] + _embedding_numels(d_model, vocab, shared, output)
    return numels


@register("transformer_model_params")
def transformer_model_params(p: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of an encoder-decoder Transformer (torch.nn.Transformer, embeddings, output projection)."""
    numels = dict(_seq2seq_transformer_numels(
        int(p["d"]), int(p["heads"]), int(p["dff"]), int(p["enc_layers"]), int(p["dec_layers"]), int(p["V"]),
        str(p.get("embeddings", "shared")) == "shared", bool(p.get("output", True))))
    numels["emb"] = numels["total"] - numels["body"]
    return numels
