"""Oracle for iteration counts: a data set split into mini-batches as a DataLoader's ``BatchSampler``
splits it (the last batch partial, or dropped), counted per epoch and in all.
"""

from __future__ import annotations

from typing import Any, Mapping

from dlstudy.engine.oracles import register


@register("minibatch_iterations")
def minibatch_iterations(p: Mapping[str, Any]) -> dict[str, Any]:
    """Split the example indices into mini-batches of b as a DataLoader's BatchSampler does and count them;
    every epoch splits the same way.

    The indices are a ``range`` (it stores only its ends), so each batch is a sub-range and nothing the
    size of the data set is ever built: n = 10^12 costs as little as n = 10.  With ``drop_last`` the last,
    partial batch is left out.
    """
    n, b, epochs = int(p["n"]), int(p["b"]), int(p["epochs"])
    indices = range(n)
    batch_starts = range(0, n, b)
    batches = (indices[start : start + b] for start in (batch_starts[0], batch_starts[-1]))
    first, last = batches
    per_epoch = len(batch_starts)
    if str(p.get("drop_last", "false")) == "true" and len(last) < b:
        per_epoch -= 1
        last = first if per_epoch else range(0)
    return {"per_epoch": per_epoch, "last": len(last), "total": epochs * per_epoch}
