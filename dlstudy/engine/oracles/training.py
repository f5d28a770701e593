"""Oracles for training steps that torch computes directly: gradients by autograd, clipping by
``torch.nn.utils``, L1's proximal step by ``F.softshrink``, feature scaling by torch's reductions.

(The optimizer re-enactments live in ``optim.py``, without torch: building a torch.optim optimizer
imports torch._dynamo.  Nothing here builds one; plain gradient steps are written as the in-place
update torch.optim.SGD does, ``param.add_(grad, alpha=-lr)``.)  torch is imported inside the functions.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import single_thread, tensor, to_numpy


def _clean(a: Any) -> np.ndarray:
    """A copy with float noise (|entry| < 1e-12) set to exactly 0."""
    a = np.array(a, dtype=float)
    a[np.abs(a) < 1e-12] = 0.0
    return a


@register("gradient_descent_step")
def gradient_descent_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One gradient-descent step on L(theta) = 1/2 sum_i h_i (theta_i - c_i)^2: the gradient by autograd,
    the step as SGD's ``param.add_(grad, alpha=-lr)``, and the loss before and after."""
    import torch

    theta = tensor(p["theta"], grad=True)
    h, c, lr = tensor(p["h"]), tensor(p["c"]), float(p["lr"])

    def loss(at):
        return 0.5 * (h * (at - c) ** 2).sum()

    with single_thread():
        before = loss(theta)
        before.backward()
        with torch.no_grad():
            new = theta.detach().clone().add_(theta.grad, alpha=-lr)
            after = loss(new)
    return {
        "L": float(before.detach()),
        "grad": to_numpy(theta.grad),
        "theta_new": to_numpy(new),
        "L_new": float(after),
    }


@register("gradient_clip_norm")
def gradient_clip_norm(p: Mapping[str, Any]) -> dict[str, Any]:
    """``torch.nn.utils.clip_grad_norm_`` over two parameters' gradients (one global 2-norm).

    The function returns the total norm; the scale it applied is read off the clipped gradients."""
    import torch

    first, second = tensor(p["g1"]), tensor(p["g2"])
    params = [torch.zeros_like(first, requires_grad=True), torch.zeros_like(second, requires_grad=True)]
    params[0].grad, params[1].grad = first.clone(), second.clone()
    with single_thread():
        total = torch.nn.utils.clip_grad_norm_(params, max_norm=float(p["max_norm"]), foreach=False)
    clipped = [to_numpy(q.grad) for q in params]
    # The scale: clipped / original for any nonzero entry (1 when nothing was clipped or all are 0).
    flat_in, flat_out = np.concatenate([first.numpy(), second.numpy()]), np.concatenate(clipped)
    nonzero = np.flatnonzero(flat_in)
    scale = float(flat_out[nonzero[0]] / flat_in[nonzero[0]]) if nonzero.size else 1.0
    return {"total": float(total), "coef": scale, "g1_new": clipped[0], "g2_new": clipped[1]}


@register("gradient_clip_value")
def gradient_clip_value(p: Mapping[str, Any]) -> dict[str, Any]:
    """``torch.nn.utils.clip_grad_value_`` on one gradient, and the cosine of the angle it turned it by
    (``F.cosine_similarity``)."""
    import torch
    import torch.nn.functional as F

    grad = tensor(p["g"])
    param = torch.zeros_like(grad, requires_grad=True)
    param.grad = grad.clone()
    with single_thread():
        torch.nn.utils.clip_grad_value_([param], clip_value=float(p["clip"]), foreach=False)
        cosine = F.cosine_similarity(grad, param.grad, dim=0, eps=1e-300)
    return {"g_clipped": to_numpy(param.grad), "cos": float(cosine)}


@register("l1_regularized_step")
def l1_regularized_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One step on J(w) + lam * ||w||_1 from the cost's gradient ``dw``.

    Subgradient (the default): autograd through dw.w + lam*|w|.sum() (torch's |w| has gradient
    sign(w), 0 at 0), then SGD's update.  Proximal (ISTA): the plain step on J, then the L1 penalty's
    proximal map, soft-thresholding by lr*lam (``F.softshrink``)."""
    import torch
    import torch.nn.functional as F

    w, dw = tensor(p["w"], grad=True), tensor(p["dw"])
    lam, lr = float(p["lam"]), float(p["lr"])
    with single_thread():
        penalty = lam * w.abs().sum()
        ((dw * w).sum() + penalty).backward()
        with torch.no_grad():
            plain = w.detach().clone().add_(dw, alpha=-lr)
            if str(p.get("update", "subgradient")) == "proximal":
                new = F.softshrink(plain, lr * lam)
            else:
                new = w.detach().clone().add_(w.grad, alpha=-lr)
    return {"penalty": float(penalty.detach()), "z": to_numpy(plain), "w_new": _clean(to_numpy(new))}


@register("regularized_regression")
def regularized_regression(p: Mapping[str, Any]) -> dict[str, Any]:
    """Linear regression f(x) = b + w.x with an L2 penalty on w (not on b), by autograd.

    ``notes``: L = sum_n (y_n - f(x_n))^2 + lam * sum_i w_i^2 (Hung-yi Lee's course, the notes' form);
    ``ng``: J = 1/(2m) sum_n (f(x_n) - y_n)^2 + lam/(2m) sum_i w_i^2 (Ng's course)."""

    X, y = tensor(p["X"]), tensor(p["y"])
    w, b = tensor(p["w"], grad=True), tensor(p["b"], grad=True)
    lam, m = float(p["lam"]), X.shape[0]
    with single_thread():
        pred = X @ w + b
        residual = pred - y
        if str(p.get("form", "notes")) == "notes":
            data, penalty = (residual**2).sum(), lam * (w**2).sum()
        else:
            data, penalty = (residual**2).sum() / (2 * m), lam / (2 * m) * (w**2).sum()
        loss = data + penalty
        loss.backward()
    return {
        "pred": to_numpy(pred),
        "r": _clean(to_numpy(residual)),
        "data": float(data.detach()),
        "penalty": float(penalty.detach()),
        "loss": float(loss.detach()),
        "grad_w": _clean(to_numpy(w.grad)),
        "grad_b": float(_clean(to_numpy(b.grad))),
    }


@register("feature_scaling")
def feature_scaling(p: Mapping[str, Any]) -> dict[str, Any]:
    """z-score and min-max scaling of each column of ``X`` (rows are examples), by torch's reductions:
    ``torch.std_mean`` (correction 0 for the biased std, as scikit-learn's StandardScaler; 1 for the
    unbiased one, as pandas and torch.std by default) and ``torch.aminmax``."""
    import torch

    X = tensor(p["X"])
    correction = 0 if str(p.get("std", "biased")) == "biased" else 1
    with single_thread():
        sigma, mu = torch.std_mean(X, dim=0, correction=correction)
        low, high = torch.aminmax(X, dim=0)
        z = (X - mu) / sigma
        s = (X - low) / (high - low)
    return {
        "mu": _clean(mu.numpy()),
        "sigma": sigma.numpy().copy(),
        "Z": _clean(z.numpy()),
        "x_min": low.numpy().copy(),
        "x_max": high.numpy().copy(),
        "S": _clean(s.numpy()),
    }
