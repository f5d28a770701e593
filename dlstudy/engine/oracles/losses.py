"""Oracles for losses and metrics.

Losses come from ``torch.nn.functional`` (cross_entropy, binary_cross_entropy,
mse_loss, multi_margin_loss, triplet_margin_with_distance_loss), gradients
from ``torch.autograd``; classification metrics by counting on the label
arrays with NumPy.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import tensor, to_numpy


@register("softmax_cross_entropy")
def softmax_cross_entropy(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    z = tensor(p["z"]).reshape(1, -1)
    target = torch.tensor([int(p["c"]) - 1])  # the template numbers classes from 1, torch from 0
    loss = F.cross_entropy(z, target)
    probabilities = F.softmax(z, dim=-1)[0]
    return {"p": to_numpy(probabilities), "pc": float(probabilities[target[0]]), "L": float(loss)}


@register("binary_cross_entropy")
def binary_cross_entropy(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch.nn.functional as F

    yhat, y = tensor(p["yhat"]), tensor(p["y"])
    each = F.binary_cross_entropy(yhat, y, reduction="none")
    mean = F.binary_cross_entropy(yhat, y, reduction="mean")
    return {"l": to_numpy(each), "L": float(mean)}


@register("mse_gradient")
def mse_gradient(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch.nn.functional as F

    yhat = tensor(p["yhat"], grad=True)
    loss = F.mse_loss(yhat, tensor(p["y"]), reduction=str(p.get("reduction", "mean")))  # nn.MSELoss's reductions
    loss.backward()
    return {"L": float(loss.detach()), "g": to_numpy(yhat.grad)}


@register("multiclass_hinge")
def multiclass_hinge(p: Mapping[str, Any]) -> dict[str, Any]:
    """Multiclass SVM (Weston-Watkins) loss with margin Delta: summed over the wrong classes, or divided by K.

    torch's multi_margin_loss divides the sum by the number of classes K (reduction "mean" here
    is that convention); the summed loss is K times it.  Each class's own term comes from the
    same torch loss on the pair of scores [s_c, s_j] (K = 2, so times 2).
    """
    import torch
    import torch.nn.functional as F

    s = tensor(p["s"])
    c = int(p["c"]) - 1
    margin = float(p.get("Delta", 1.0))
    classes = s.shape[0]
    per_class = F.multi_margin_loss(s.reshape(1, -1), torch.tensor([c]), margin=margin)
    pairs = torch.stack([s[c].expand(classes), s], dim=1)  # row j: [s_c, s_j]
    terms = 2 * F.multi_margin_loss(pairs, torch.zeros(classes, dtype=torch.long), margin=margin, reduction="none")
    terms[c] = 0.0  # the correct class contributes no term
    summed = str(p.get("reduction", "sum")) == "sum"
    return {"sc": float(s[c]), "m": to_numpy(terms), "L": float(classes * per_class if summed else per_class)}


@register("triplet_loss")
def triplet_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch.nn.functional as F

    def euclidean(a, b):
        return F.pairwise_distance(a, b, p=2.0, eps=0.0)

    def squared(a, b):
        return F.pairwise_distance(a, b, p=2.0, eps=0.0).pow(2)

    distance = {"squared": squared, "euclidean": euclidean}[str(p["dist"])]
    A, P, N = (tensor(p[k]).reshape(1, -1) for k in ("A", "P", "N"))
    loss = F.triplet_margin_with_distance_loss(A, P, N, distance_function=distance, margin=float(p["alpha"]))
    return {"dAP": float(distance(A, P)[0]), "dAN": float(distance(A, N)[0]), "L": float(loss)}


@register("precision_recall_f1")
def precision_recall_f1(p: Mapping[str, Any]) -> dict[str, Any]:
    predicted = np.asarray(p["yhat"]) == 1
    actual = np.asarray(p["y"]) == 1
    tp = int(np.count_nonzero(predicted & actual))
    fp = int(np.count_nonzero(predicted & ~actual))
    fn = int(np.count_nonzero(~predicted & actual))
    precision = tp / np.count_nonzero(predicted)
    recall = tp / np.count_nonzero(actual)
    # F1 = harmonic mean of precision and recall, computed from the counts.
    f1 = 2 * tp / (np.count_nonzero(predicted) + np.count_nonzero(actual))
    return {"tp": tp, "fp": fp, "fn": fn, "precision": float(precision), "recall": float(recall), "f1": float(f1)}


@register("perplexity")
def perplexity(p: Mapping[str, Any]) -> dict[str, Any]:
    """Perplexity = exp(mean negative log-likelihood of the observed tokens in nats), via torch's cross-entropy.

    Each token t gets a 2-way distribution [q_t, 1 - q_t] with the observed
    token first; cross_entropy on its log-probabilities is the mean NLL in nats.
    In bits the NLL is divided by ln 2 and the perplexity is 2 to its power,
    which is the same number.
    """
    import math

    import torch
    import torch.nn.functional as F

    q = tensor(p["q"])
    log_probs = torch.log(torch.stack([q, 1 - q], dim=1))
    nll = F.cross_entropy(log_probs, torch.zeros(q.shape[0], dtype=torch.long))
    if str(p.get("unit", "nats")) == "bits":
        nll_bits = float(nll) / math.log(2.0)
        return {"nll": nll_bits, "ppl": float(2.0**nll_bits)}
    return {"nll": float(nll), "ppl": float(torch.exp(nll))}


@register("label_smoothing_cross_entropy")
def label_smoothing_cross_entropy(p: Mapping[str, Any]) -> dict[str, Any]:
    """F.cross_entropy(label_smoothing=eps) for the PyTorch convention (eps/K to every class).

    The other convention (eps/(K - 1) to each wrong class, 1 - eps to the true one) is
    F.cross_entropy against that probability target: torch accepts class probabilities as the target.
    """
    import torch
    import torch.nn.functional as F

    z = tensor(p["z"]).reshape(1, -1)
    classes, c, eps = z.shape[1], int(p["c"]) - 1, float(p["eps"])
    probabilities = F.softmax(z, dim=-1)[0]
    if str(p.get("spread", "all")) == "all":
        loss = F.cross_entropy(z, torch.tensor([c]), label_smoothing=eps)
        target = F.one_hot(torch.tensor(c), classes).double() * (1 - eps) + eps / classes
    else:
        target = torch.full((classes,), eps / (classes - 1), dtype=torch.float64)
        target[c] = 1 - eps
        loss = F.cross_entropy(z, target.reshape(1, -1))
    return {"p": to_numpy(probabilities), "q": to_numpy(target), "L": float(loss)}


@register("infonce_loss")
def infonce_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    """InfoNCE as F.cross_entropy over the logits S/tau with targets 0..N-1 (the diagonal); CLIP
    (Radford et al. 2021, Figure 3) averages it over the rows and over the columns."""
    import torch
    import torch.nn.functional as F

    logits = tensor(p["S"]) / float(p["tau"])
    targets = torch.arange(logits.shape[0])
    image_to_text = F.cross_entropy(logits, targets)
    text_to_image = F.cross_entropy(logits.T, targets)
    loss = image_to_text if str(p.get("direction", "one")) == "one" else (image_to_text + text_to_image) / 2
    return {
        "P": to_numpy(F.softmax(logits, dim=1)),
        "l_img": float(image_to_text),
        "l_txt": float(text_to_image),
        "L": float(loss),
    }


@register("nt_xent_loss")
def nt_xent_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    """SimCLR's NT-Xent (Chen et al. 2020, eq. 1 and Algorithm 1) as one F.cross_entropy over 2N rows.

    The 2N embeddings [Z1; Z2] are normalised, their 2N x 2N cosine similarities divided by tau,
    each row's own entry masked out with -inf, and row i's target is its partner i + N (mod 2N).
    """
    import torch
    import torch.nn.functional as F

    z1, z2 = tensor(p["Z1"]), tensor(p["Z2"])
    n, tau = z1.shape[0], float(p["tau"])
    unit = F.normalize(torch.cat([z1, z2]), dim=1, eps=0.0)
    similarity = unit @ unit.T
    logits = (similarity / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = (torch.arange(2 * n) + n) % (2 * n)
    each = F.cross_entropy(logits, targets, reduction="none")
    return {
        "S12": to_numpy(similarity[:n, n:]),
        "S11": to_numpy(similarity[:n, :n]),
        "S22": to_numpy(similarity[n:, n:]),
        "l1": to_numpy(each[:n]),
        "l2": to_numpy(each[n:]),
        "L": float(each.mean()),
    }
