"""Oracles for regularisation: an L2-regularised gradient step (forward and backward through the
penalty, then SGD) and inverted dropout with a given keep mask, as PyTorch computes them, in NumPy.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.inplace_ops import vector
from dlstudy.engine.oracles.optimizers import sgd_update


@register("l2_regularized_step")
def l2_regularized_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Forward and backward pass through J = dw.w + lam/(2m)||w||^2, then a plain SGD step.

    ``dw`` is the gradient of the unregularised cost at ``w``, so the linear
    term gives it back exactly.  The backward pass is reverse-mode, node by node
    as autograd runs it: the penalty's scale, the sum, then w**2.
    """
    w, dw = vector(p["w"]), vector(p["dw"])
    scale = float(p["lam"]) / (2.0 * float(p["m"]))
    # forward
    squares = w**2
    penalty = scale * np.sum(squares)
    # backward from the penalty: d(scale*s)/ds = scale, d(sum)/d(squares) = 1, d(w**2)/dw = 2*w**1
    upstream = np.full_like(w, 1.0 * scale)
    reg_grad = upstream * (2.0 * w**1.0)
    # backward from the linear term d(dw.w)/dw = dw; the two paths meet in w's gradient
    grad = dw * 1.0 + reg_grad
    new = w.copy()
    sgd_update(new, grad, {}, lr=float(p["lr"]))
    return {"penalty": float(penalty), "reg_grad": reg_grad, "grad": grad, "w_new": new}


@register("inverted_dropout")
def inverted_dropout(p: Mapping[str, Any]) -> dict[str, Any]:
    """Inverted dropout with a given keep mask, as ``nn.Dropout`` computes it in training.

    ``F.dropout`` draws ``noise.bernoulli_(1 - p)``, divides it in place by the keep
    probability ``1 - p`` and multiplies the input by it; here the Bernoulli draw is the
    given mask.  The number given is PyTorch's drop probability p, or Ng's keep_prob
    (``convention: ng``).  The scale is what a kept unit's noise becomes; the expectation
    averages each unit's two outcomes, weighted by their probabilities.
    """
    given = float(p["p"])
    keep = given if str(p.get("convention", "pytorch")) == "ng" else 1.0 - given
    a, mask = vector(p["a"]), vector(p["mask"])
    noise = mask.copy()
    noise /= keep  # noise.div_(1 - p)
    scale = float((np.array([1.0]) / keep)[0])  # the noise of a kept unit
    outcomes = np.stack([a * scale, a * 0.0])  # unit kept, unit dropped
    expected = np.array([keep, 1.0 - keep]) @ outcomes
    return {"q": keep, "scale": scale, "y": a * noise, "Ey": expected}
