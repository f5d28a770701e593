"""Oracles for model compression: parameter counts of factorised layers, from real torch.nn modules.

(Distillation and quantisation live in misc.py.)  Modules are built on the meta device, so no
weights are allocated at any size.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import meta_module


def _params(module: Any) -> int:
    return sum(t.numel() for t in module.parameters())


def low_rank_counts(m: int, n: int, k: int, bias: bool) -> tuple[int, int]:
    """(parameters of Linear(n, m), of Linear(n, k, bias=False) -> Linear(k, m)): the full and the factorised layer."""
    return _full_count(m, n, bias), _factored_count(m, n, k, bias)


@lru_cache(maxsize=256)
def _full_count(m: int, n: int, bias: bool) -> int:
    from torch import nn

    return _params(meta_module(nn.Linear, n, m, bias=bias))


@lru_cache(maxsize=1024)
def _factored_count(m: int, n: int, k: int, bias: bool) -> int:
    from torch import nn

    return _params(nn.Sequential(meta_module(nn.Linear, n, k, bias=False), meta_module(nn.Linear, k, m, bias=bias)))


@lru_cache(maxsize=256)
def _largest_saving_rank(m: int, n: int) -> int:
    """The largest rank whose factorised layer is still smaller: bisect on the rank, counting real modules.
    Cached: it depends on the layer's size only, and the bisection builds ~10 factorised layers."""
    low, high = 0, min(m, n)  # rank 0 saves everything; at rank min(m, n) the factors are already larger
    while high - low > 1:
        middle = (low + high) // 2
        smaller = _factored_count(m, n, middle, False) < m * n
        low, high = (middle, high) if smaller else (low, middle)
    return low


@register("low_rank_factorization")
def low_rank_factorization(p: Mapping[str, Any]) -> dict[str, Any]:
    m, n, k, bias = int(p["M"]), int(p["N"]), int(p["K"]), bool(p["bias"])
    full, factored = low_rank_counts(m, n, k, bias)
    return {"b": full - m * n, "full": full, "factored": factored, "saved": full - factored,
            "k_max": _largest_saving_rank(m, n)}
