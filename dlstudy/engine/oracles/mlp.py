"""Oracles for multilayer perceptrons: forward pass, deltas, weight gradients.

Weights follow the course notes' convention: w_ij connects unit i of the lower
layer to unit j of the upper one, so s_j = sum_i x_i w_ij + b_j (``x @ W``).
Forward values come from ``torch.nn.functional``; every delta and gradient
from ``torch.autograd`` on the real loss (or on the real layer with the
upstream gradient fed into ``backward``); the SGD step from a real
``torch.optim.SGD``.
"""

from __future__ import annotations

from typing import Any, Mapping


from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import tensor, to_numpy
from dlstudy.engine.oracles.activations import torch_activation


def hidden_activation(name: str, fires_at_zero: bool = False):
    """The torch function of a hidden unit: an activation, or a threshold unit (Heaviside step) that
    outputs 1 above 0 and ``fires_at_zero`` (1 or 0) at exactly 0."""
    import torch

    if name == "step":
        return lambda s: torch.heaviside(s, torch.tensor(1.0 if fires_at_zero else 0.0, dtype=s.dtype))
    return torch_activation(name)


@register("mlp_forward")
def mlp_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    x, W1, b1, w2 = (tensor(p[k]) for k in ("x", "W1", "b1", "w2"))
    b2 = tensor([p["b2"]])
    with torch.no_grad():
        # F.linear takes weights as (out, in); the course's W1 is (in, out).
        s = F.linear(x, W1.T, b1)
        h = hidden_activation(str(p["act"]), bool(p.get("fires_at_zero", False)))(s)
        y = F.linear(h, w2.reshape(1, -1), b2)
    return {"s": to_numpy(s), "h": to_numpy(h), "y": float(y[0])}


@register("output_delta_sigmoid_mse")
def output_delta_sigmoid_mse(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    s = tensor(p["s"], grad=True)
    y = tensor(p["y"])
    h = torch.sigmoid(s)
    h.retain_grad()
    convention = str(p.get("loss", "half_sse"))
    if convention == "mse":
        loss = F.mse_loss(h, y, reduction="mean")
    else:
        loss = (0.5 if convention == "half_sse" else 1.0) * F.mse_loss(h, y, reduction="sum")
    loss.backward()
    # g'(s) on its own: the element-wise slope of the sigmoid, by autograd.
    s2 = tensor(p["s"], grad=True)
    (slope,) = torch.autograd.grad(torch.sigmoid(s2).sum(), s2)
    return {"h": to_numpy(h), "dJdh": to_numpy(h.grad), "gp": to_numpy(slope), "delta": to_numpy(s.grad)}


@register("output_delta_softmax_ce")
def output_delta_softmax_ce(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    z = tensor(p["z"], grad=True)
    target = torch.tensor([int(p["c"]) - 1])
    loss = F.cross_entropy(z.reshape(1, -1), target)
    loss.backward()
    probs = F.softmax(z.detach(), dim=-1)
    one_hot = F.one_hot(target[0], num_classes=z.shape[0]).to(torch.float64)
    return {"p": to_numpy(probs), "y": to_numpy(one_hot), "delta": to_numpy(z.grad)}


@register("hidden_layer_delta")
def hidden_layer_delta(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    act = torch_activation(str(p["act"]))
    s = tensor(p["s"], grad=True)
    W = tensor(p["W"])  # W[j, k]: hidden unit j -> output unit k
    h = act(s)
    h.retain_grad()
    out = h @ W  # output pre-activations o_k = sum_j h_j w_jk
    # feed dJ/do_k = delta_k, as backprop does: the gradient of sum_k o_k delta_k. (A scalar backward:
    # out.backward(delta) makes torch import sympy, a third of a second.)
    (out * tensor(p["d"])).sum().backward()
    s2 = tensor(p["s"], grad=True)
    (slope,) = torch.autograd.grad(act(s2).sum(), s2)
    return {"h": to_numpy(h), "gp": to_numpy(slope), "back": to_numpy(h.grad), "delta": to_numpy(s.grad)}


@register("weight_gradient_sgd")
def weight_gradient_sgd(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    W = torch.nn.Parameter(tensor(p["W"]))  # W[i, j]: input i -> unit j
    s = tensor(p["x"]) @ W
    (s * tensor(p["d"])).sum().backward()  # dJ/ds_j = delta_j, as a scalar backward (see hidden_layer_delta)
    grad = to_numpy(W.grad)
    # Plain SGD's step, in place as torch.optim.SGD does it (tests compare with the optimizer itself;
    # constructing one here would import torch._dynamo, about a second).
    with torch.no_grad():
        W.add_(W.grad, alpha=-float(p["lr"]))
    return {"G": grad, "W_new": to_numpy(W)}
