"""Oracles for the foundations: the perceptron, linear and logistic regression, a Gaussian generative classifier,
a threshold network for XOR, stacked linear layers, vanishing gradients and the numerical gradient check.

Each one does the operation in torch: losses from ``torch.nn.functional`` and their gradients from autograd,
Gaussian densities from ``torch.linalg``, layers from ``torch.nn``; the update rules come from gradient steps
on a loss, never from re-typing the closed-form rule the worked steps show.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import tensor, to_numpy

# The four inputs of a two-input Boolean function, in truth-table order.
TRUTH_TABLE_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _threshold(s, fires_at_zero: bool):
    """A threshold (Heaviside) unit: 1 above 0, 0 below, ``fires_at_zero`` at exactly 0."""
    import torch

    return torch.heaviside(s, torch.tensor(1.0 if fires_at_zero else 0.0, dtype=s.dtype))


@register("perceptron_update")
def perceptron_update(p: Mapping[str, Any]) -> dict[str, Any]:
    """Rosenblatt's rule as one gradient step on the perceptron criterion E = -(y - ŷ) s, ŷ held fixed."""
    import torch.nn.functional as F

    x = tensor(p["x"])
    w = tensor(p["w"], grad=True)
    offset = tensor([p["b"]], grad=True)  # a bias b, or a threshold θ (s = w·x − θ)
    sign = -1.0 if str(p.get("offset", "bias")) == "threshold" else 1.0
    s = F.linear(x.reshape(1, -1), w.reshape(1, -1), sign * offset).reshape(())
    low = -1.0 if str(p.get("labels", "pm1")) == "pm1" else 0.0
    yhat = low + (1.0 - low) * _threshold(s.detach(), bool(p.get("fires_at_zero", False)))
    err = float(p["y"]) - yhat
    criterion = -(err * s)
    criterion.backward()
    eta = float(p["eta"])
    w_new = w.detach() - eta * w.grad
    b_new = offset.detach() - eta * offset.grad
    return {"s": float(s.detach()), "yhat": float(yhat), "err": float(err), "w_new": to_numpy(w_new),
            "b_new": float(b_new[0])}


_SQUARED_ERROR = {"sse": (1.0, "sum"), "half_sse": (0.5, "sum"), "mse": (1.0, "mean"), "half_mse": (0.5, "mean")}


def _linear_model_step(p: Mapping[str, Any], loss_of: Any) -> tuple[Any, Any, Any, dict[str, Any]]:
    """One gradient-descent step of the linear model z = Xw + b on ``loss_of(z, y)``, the gradient by autograd:
    (z, y, the loss, the gradients and the new parameters)."""
    import torch
    import torch.nn.functional as F

    X, y = tensor(p["X"]), tensor(p["y"])
    w = tensor(p["w"], grad=True)
    b = tensor([p["b"]], grad=True)
    z = F.linear(X, w.reshape(1, -1), b).reshape(-1)
    loss = loss_of(z, y)
    loss.backward()
    lr = float(p["lr"])
    with torch.no_grad():
        w_new, b_new = w - lr * w.grad, b - lr * b.grad
    return z, y, loss, {"dw": to_numpy(w.grad), "db": float(b.grad[0]), "w_new": to_numpy(w_new), "b_new": float(b_new[0])}


@register("linreg_gd_step")
def linreg_gd_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Squared-error loss of a linear model over the data set, its gradient by autograd, one descent step."""
    import torch.nn.functional as F

    factor, reduction = _SQUARED_ERROR[str(p.get("loss", "half_mse"))]
    yhat, y, loss, step = _linear_model_step(p, lambda z, y: factor * F.mse_loss(z, y, reduction=reduction))
    return {"yhat": to_numpy(yhat), "e": to_numpy(yhat - y), "L": float(loss.detach()), **step}


@register("logreg_gd_step")
def logreg_gd_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Binary cross-entropy of σ(Xw + b) (torch's fused loss on the logits), autograd, one descent step."""
    import torch
    import torch.nn.functional as F

    reduction = str(p.get("reduction", "mean"))
    z, _, loss, step = _linear_model_step(p, lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction=reduction))
    return {"z": to_numpy(z), "yhat": to_numpy(torch.sigmoid(z)), "J": float(loss.detach()), **step}


def gaussian_log_density(x, mean, covariance):
    """log N(x; mean, covariance) from torch.linalg (torch.distributions.MultivariateNormal gives the same
    numbers, tests compare them, but constructing one imports sympy: a second and a half)."""
    import math

    import torch

    diff = x - mean
    _, log_det = torch.linalg.slogdet(covariance)
    mahalanobis = diff @ torch.linalg.solve(covariance, diff)
    return -0.5 * (mahalanobis + log_det + diff.shape[0] * math.log(2 * math.pi))


@register("gaussian_posterior")
def gaussian_posterior(p: Mapping[str, Any]) -> dict[str, Any]:
    """Bayes' rule with two Gaussian class densities; w and b read off the log-odds, which is linear in x:
    w is its gradient (autograd), b its value at x = 0."""
    import torch

    S = tensor(p["S"])
    means = [tensor(p["mu1"]), tensor(p["mu2"])]
    log_priors = torch.log(tensor([float(p["p1"]), 1.0 - float(p["p1"])]))

    def log_joint(x):
        return torch.stack([gaussian_log_density(x, mean, S) for mean in means]) + log_priors

    x = tensor(p["x"], grad=True)
    joint = log_joint(x)
    log_odds = joint[0] - joint[1]
    (w,) = torch.autograd.grad(log_odds, x)
    at_zero = log_joint(torch.zeros_like(x.detach()))
    posterior = torch.softmax(joint.detach(), dim=0)[0]  # P(C1|x) = p(x|C1)P(C1) / Σ_k p(x|C_k)P(C_k)
    return {"Sinv": to_numpy(torch.linalg.inv(S)), "w": to_numpy(w), "b": float(at_zero[0] - at_zero[1]),
            "z": float(log_odds.detach()), "p": float(posterior)}


@register("xor_threshold_network")
def xor_threshold_network(p: Mapping[str, Any]) -> dict[str, Any]:
    """A two-layer network of threshold units run on the four inputs of a truth table."""
    import torch
    import torch.nn.functional as F

    fires = bool(p.get("fires_at_zero", False))
    X = tensor(TRUTH_TABLE_INPUTS)
    with torch.no_grad():
        S = F.linear(X, tensor(p["W1"]).T, tensor(p["b1"]))  # W1 is (inputs, hidden): F.linear wants (out, in)
        H = _threshold(S, fires)
        o = F.linear(H, tensor(p["w2"]).reshape(1, -1), tensor([p["b2"]])).reshape(-1)
        y = _threshold(o, fires)
    return {"X": to_numpy(X), "S": to_numpy(S), "H": to_numpy(H), "o": to_numpy(o), "y": to_numpy(y)}


@register("linear_collapse")
def linear_collapse(p: Mapping[str, Any]) -> dict[str, Any]:
    """Two stacked torch.nn.Linear layers with no activation between them, read off as one affine map:
    its bias is the output at x = 0 and column j of its matrix the change when input j is set to 1."""
    import torch

    W1, W2 = np.asarray(p["W1"], dtype=float), np.asarray(p["W2"], dtype=float)
    first = torch.nn.Linear(W1.shape[1], W1.shape[0], dtype=torch.float64)
    second = torch.nn.Linear(W2.shape[1], W2.shape[0], dtype=torch.float64)
    with torch.no_grad():
        first.weight.copy_(tensor(W1))
        first.bias.copy_(tensor(p["b1"]))
        second.weight.copy_(tensor(W2))
        second.bias.copy_(tensor(p["b2"]))
        model = torch.nn.Sequential(first, second)
        n = W1.shape[1]
        at_zero = model(torch.zeros(1, n, dtype=torch.float64))[0]
        W = (model(torch.eye(n, dtype=torch.float64)) - at_zero).T
        y = model(tensor(p["x"]).reshape(1, -1))[0]
    return {"W": to_numpy(W), "c": to_numpy(at_zero), "y": to_numpy(y)}


@register("vanishing_sigmoid_chain")
def vanishing_sigmoid_chain(p: Mapping[str, Any]) -> dict[str, Any]:
    """A chain of L one-unit sigmoid layers built so that layer l's pre-activation is z_l; autograd gives each
    layer's local slope and the whole chain's ∂a_L/∂a_0; the bound uses the sigmoid's largest slope, at 0."""
    import torch

    w, z = np.asarray(p["w"], dtype=float), np.asarray(p["z"], dtype=float)
    a0 = torch.zeros((), dtype=torch.float64, requires_grad=True)
    a = a0
    locals_: list[float] = []
    for wl, zl in zip(w, z):
        # b_l chosen so that w_l a_{l-1} + b_l = z_l: the given forward pass
        pre = wl * a + (zl - wl * float(a.detach()))
        out = torch.sigmoid(pre)
        (local,) = torch.autograd.grad(out, a, retain_graph=True)  # ∂a_l/∂a_{l-1} = w_l σ'(z_l)
        locals_.append(float(local))
        a = out
    (chain,) = torch.autograd.grad(a, a0)
    zt = tensor(z, grad=True)
    (slopes,) = torch.autograd.grad(torch.sigmoid(zt).sum(), zt)
    centre = torch.zeros((), dtype=torch.float64, requires_grad=True)
    (largest_slope,) = torch.autograd.grad(torch.sigmoid(centre), centre)  # σ'(0) = 1/4, the maximum
    bound = float(largest_slope) ** len(w) * float(np.prod(np.abs(w)))
    return {"gp": to_numpy(slopes), "factors": np.array(locals_), "g": float(chain), "bound": bound}


def _check_function(name: str, p: Mapping[str, Any]):
    import torch

    if name == "power":
        c, k = float(p.get("c", 1.0)), float(p.get("k", 2.0))
        return lambda t: c * torch.pow(t, k)
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "exp": torch.exp, "sin": torch.sin}[name]


@register("gradient_check")
def gradient_check(p: Mapping[str, Any]) -> dict[str, Any]:
    """The centred difference of f at x ± h, the analytic gradient by autograd, and their relative error."""
    import torch

    f = _check_function(str(p["fn"]), p)
    x, h = float(p["x"]), float(p["h"])
    with torch.no_grad():
        fp = float(f(torch.tensor(x + h, dtype=torch.float64)))
        fm = float(f(torch.tensor(x - h, dtype=torch.float64)))
    numeric = (fp - fm) / (2 * h)
    at = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (analytic,) = torch.autograd.grad(f(at), at)
    a = float(analytic)
    scale = abs(a) + abs(numeric) if str(p.get("denom", "max")) == "sum" else max(abs(a), abs(numeric))
    return {"fp": fp, "fm": fm, "n": numeric, "a": a, "err": abs(a - numeric) / scale}
