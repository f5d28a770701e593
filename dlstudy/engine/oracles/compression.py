"""Oracles for model compression: parameter counts of factorised layers, from real torch.nn modules.

(Distillation and quantisation live in misc.py.)  Modules are built on the meta device, so no
weights are allocated at any size.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from dlstudy.engine.oracles import register


def _params(module: Any) -> int:
    return sum(t.numel() for t in module.parameters())


@lru_cache(maxsize=256)
def low_rank_counts(m: int, n: int, k: int, bias: bool) -> tuple[int, int]:
    """(parameters of Linear(n, m), of Linear(n, k, bias=False) -> Linear(k, m)): the full and the factorised layer."""
    from torch import nn

    full = nn.Linear(n, m, bias=bias, device="meta")
    factored = nn.Sequential(nn.Linear(n, k, bias=False, device="meta"), nn.Linear(k, m, bias=bias, device="meta"))
    return _params(full), _params(factored)


@register("low_rank_factorization")
def low_rank_factorization(p: Mapping[str, Any]) -> dict[str, Any]:
    m, n, k, bias = int(p["M"]), int(p["N"]), int(p["K"]), bool(p["bias"])
    full, factored = low_rank_counts(m, n, k, bias)
    # The largest rank whose factorised layer is still smaller: bisect on the rank, counting real modules.
    low, high = 0, min(m, n)  # rank 0 saves everything; at rank min(m, n) the factors are already larger
    while high - low > 1:
        middle = (low + high) // 2
        smaller = low_rank_counts(m, n, middle, False)[1] < m * n
        low, high = (middle, high) if smaller else (low, middle)
    return {"b": full - m * n, "full": full, "factored": factored, "saved": full - factored, "k_max": low}
