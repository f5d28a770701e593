"""Oracles for attention and Transformers.

Attention outputs come from ``torch.nn.functional.scaled_dot_product_attention``
(with ``is_causal`` for masked attention) and the weights from ``torch.softmax``
on the (masked) scaled scores; parameter counts from ``p.numel()`` of a real
``torch.nn.MultiheadAttention`` on the meta device; FLOPs from torch's own
FLOP-counting rule for batched matmuls applied to the shapes of real (meta)
matmuls; positional encodings by building the sinusoid table of Vaswani et
al. (2017) as a NumPy array and reading one entry.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from dlstudy.oracles import register
from dlstudy.oracles.tensors import single_thread, tensor


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
def _mha_numels(embed_dim: int, heads: int) -> tuple[tuple[str, int], ...]:
    import torch

    module = torch.nn.MultiheadAttention(embed_dim, heads, device="meta")
    return tuple((name, p.numel()) for name, p in module.named_parameters())


@register("mha_param_count")
def mha_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of torch.nn.MultiheadAttention(E, heads) with the default bias=True."""
    numels = dict(_mha_numels(int(p["E"]), int(p["heads"])))
    qkv = numels["in_proj_weight"] + numels["in_proj_bias"]
    out = numels["out_proj.weight"] + numels["out_proj.bias"]
    assert qkv + out == sum(numels.values())
    return {"qkv": qkv, "out": out, "total": qkv + out}


@register("positional_encoding")
def positional_encoding(p: Mapping[str, Any]) -> dict[str, Any]:
    """Entry (pos, k) of the sinusoid table PE[pos, 2i] = sin(pos ω_i), PE[pos, 2i+1] = cos(pos ω_i)."""
    pos, k, d = int(p["pos"]), int(p["k"]), int(p["d"])
    positions = np.arange(pos + 1, dtype=float)[:, None]
    pair = np.arange(0, d, 2, dtype=float)  # the even dimensions 2i
    omega = np.exp(pair * (-np.log(10000.0) / d))  # 1 / 10000^(2i/d)
    table = np.zeros((pos + 1, d))
    table[:, 0::2] = np.sin(positions * omega)
    table[:, 1::2] = np.cos(positions * omega[: d // 2])
    return {"i": k // 2, "omega": float(omega[k // 2]), "angle": float(pos * omega[k // 2]), "pe": float(table[pos, k])}


@lru_cache(maxsize=1024)
def _attention_flops(n: int, d_model: int, heads: int) -> tuple[int, int]:
    import torch
    from torch.utils.flop_counter import bmm_flop

    d_head = d_model // heads
    q = torch.empty(heads, n, d_head, device="meta")
    k = torch.empty(heads, n, d_head, device="meta")
    v = torch.empty(heads, n, d_head, device="meta")
    kt = k.transpose(1, 2)
    scores = torch.bmm(q, kt)
    weights = torch.softmax(scores, dim=-1)
    out = torch.bmm(weights, v)
    assert out.shape == (heads, n, d_head)
    return int(bmm_flop(q.shape, kt.shape)), int(bmm_flop(weights.shape, v.shape))


@register("attention_flops")
def attention_flops(p: Mapping[str, Any]) -> dict[str, Any]:
    """FLOPs of the two attention matmuls (Q Kᵀ and A V) for one sequence, as torch.utils.flop_counter counts them."""
    n, d_model, heads = int(p["n"]), int(p["d"]), int(p["heads"])
    qk, av = _attention_flops(n, d_model, heads)
    return {"dh": d_model // heads, "qk": qk, "av": av, "total": qk + av}
