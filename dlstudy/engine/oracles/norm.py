"""Oracles for normalisation layers: real ``torch.nn`` normalisation modules and autograd.

Batch norm in training mode is ``torch.nn.BatchNorm1d`` (its batch statistics from torch's own kernel:
``torch.native_batch_norm`` returns the batch mean and 1/sqrt(var + eps) it normalised with); in
evaluation mode the same module switched out of training; its backward pass is autograd through it.  Layer,
instance and group norm are ``nn.LayerNorm``, ``nn.InstanceNorm1d`` and ``nn.GroupNorm``.  The
conventions other than PyTorch's are computed with torch's operations too: normalising with the
unbiased variance (course 002's ``x.var()``) is ``F.batch_norm`` handed those statistics, and Keras's
moving averages are its own update rule on torch's batch moments.  torch is imported inside the
functions so listing problems stays fast.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import single_thread, tensor, to_numpy


def _clean(a: Any) -> np.ndarray:
    """A copy with float noise (|entry| < 1e-12, e.g. x - mean for x = mean) set to exactly 0."""
    a = np.array(a, dtype=float)
    a[np.abs(a) < 1e-12] = 0.0
    return a


def _channels(p: Mapping[str, Any], key: str, count: int, fill: float) -> np.ndarray:
    return np.asarray(p.get(key, np.full(count, fill)), dtype=float).reshape(count)


def _batchnorm_train(p: Mapping[str, Any]) -> dict[str, Any]:
    """One training-mode forward pass of BatchNorm1d on the (N, C) batch ``X``."""
    import torch

    x = tensor(p["X"])
    channels = x.shape[1]
    eps = float(p["eps"])
    momentum = float(p.get("momentum", 0.1))
    bn = torch.nn.BatchNorm1d(channels, eps=eps, momentum=momentum, dtype=torch.float64)
    bn.train()
    with torch.no_grad(), single_thread():
        bn.weight.copy_(tensor(_channels(p, "gamma", channels, 1.0)))
        bn.bias.copy_(tensor(_channels(p, "beta", channels, 0.0)))
        bn.running_mean.copy_(tensor(_channels(p, "running_mean", channels, 0.0)))
        bn.running_var.copy_(tensor(_channels(p, "running_var", channels, 1.0)))
        y = bn(x)
        # The same kernel without the affine part: x_hat, the batch mean and 1/sqrt(var + eps).
        x_hat, mean, invstd = torch.native_batch_norm(x, None, None, None, None, True, momentum, eps)
    return {
        "mu": _clean(mean.numpy()),
        "sigma2": (1.0 / invstd.numpy() ** 2) - eps,
        "x_hat": _clean(x_hat.numpy()),
        "y": _clean(y.numpy()),
        "rm_new": bn.running_mean.numpy().copy(),
        "rv_new": bn.running_var.numpy().copy(),
    }


def _normalize_with(p: Mapping[str, Any], mean, var) -> dict[str, Any]:
    """``F.batch_norm`` with given statistics (what evaluation mode does with the running ones)."""
    import torch
    import torch.nn.functional as F

    x = tensor(p["X"])
    channels = x.shape[1]
    eps = float(p["eps"])
    with torch.no_grad(), single_thread():
        x_hat = F.batch_norm(x, mean, var, None, None, False, 0.0, eps)
        y = F.batch_norm(x, mean, var, tensor(_channels(p, "gamma", channels, 1.0)),
                         tensor(_channels(p, "beta", channels, 0.0)), False, 0.0, eps)
    return {"x_hat": _clean(x_hat.numpy()), "y": _clean(y.numpy())}


@register("batchnorm_train_forward")
def batchnorm_train_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """Batch mean, batch variance, x_hat and gamma*x_hat + beta.

    ``variance: biased`` (the default) is BatchNorm1d itself (the BN paper, PyTorch, Keras, Ng's notes);
    ``unbiased`` normalises with the N - 1 variance, as course 002's NumPy code (``x.var()`` on a
    torch tensor) does: torch's ``var_mean`` with correction 1, handed to ``F.batch_norm``.
    """
    if str(p.get("variance", "biased")) == "biased":
        out = _batchnorm_train(p)
        return {k: out[k] for k in ("mu", "sigma2", "x_hat", "y")}
    import torch

    with single_thread():
        var, mean = torch.var_mean(tensor(p["X"]), dim=0, correction=1)
    return {"mu": _clean(mean.numpy()), "sigma2": var.numpy().copy(), **_normalize_with(p, mean, var)}


@register("batchnorm_running_stats")
def batchnorm_running_stats(p: Mapping[str, Any]) -> dict[str, Any]:
    """Batch mean, the batch variance that goes into the running variance, and the updated running
    statistics.

    PyTorch (the default): BatchNorm1d's own update, momentum the weight of the batch statistic, the
    unbiased batch variance.  Keras (``framework: keras``): its update ``moving * momentum + batch *
    (1 - momentum)`` (momentum the weight of the old value) with the biased batch variance of
    ``ops.moments``, on torch's batch moments.
    """
    if str(p.get("framework", "pytorch")) == "pytorch":
        out = _batchnorm_train(p)
        return {
            "mu": out["mu"],
            "s2": np.var(np.asarray(p["X"], dtype=float), axis=0, ddof=1),
            "rm_new": out["rm_new"],
            "rv_new": out["rv_new"],
        }
    import torch

    momentum = float(p["momentum"])
    with single_thread():
        var, mean = torch.var_mean(tensor(p["X"]), dim=0, correction=0)
        moving_mean = tensor(p["running_mean"]) * momentum + mean * (1.0 - momentum)
        moving_var = tensor(p["running_var"]) * momentum + var * (1.0 - momentum)
    return {"mu": _clean(mean.numpy()), "s2": var.numpy().copy(), "rm_new": moving_mean.numpy(), "rv_new": moving_var.numpy()}


@register("batchnorm_eval_forward")
def batchnorm_eval_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """``nn.BatchNorm1d(C)`` in evaluation mode (``train(False)``) with the given running statistics,
    gamma and beta."""
    import torch

    x = tensor(p["X"])
    channels = x.shape[1]
    bn = torch.nn.BatchNorm1d(channels, eps=float(p["eps"]), dtype=torch.float64)
    with torch.no_grad(), single_thread():
        bn.weight.copy_(tensor(_channels(p, "gamma", channels, 1.0)))
        bn.bias.copy_(tensor(_channels(p, "beta", channels, 0.0)))
        bn.running_mean.copy_(tensor(p["running_mean"]))
        bn.running_var.copy_(tensor(p["running_var"]))
        bn.train(False)
        y = bn(x)
        x_hat = torch.nn.functional.batch_norm(x, bn.running_mean, bn.running_var, None, None, False, 0.0, bn.eps)
    return {
        "sd": np.sqrt(bn.running_var.numpy() + bn.eps),
        "x_hat": _clean(x_hat.numpy()),
        "y": _clean(y.numpy()),
    }


@register("batchnorm_backward")
def batchnorm_backward(p: Mapping[str, Any]) -> dict[str, Any]:
    """Autograd through a training-mode BatchNorm1d: dL/dX, dL/dgamma, dL/dbeta for the upstream dL/dY.

    The loss is the scalar sum(Y * dL/dY), whose gradient with respect to Y is the given dL/dY
    (``Y.backward(dY)`` would be the same, but that path imports sympy, a third of a second)."""
    import torch

    x = tensor(p["X"], grad=True)
    channels = x.shape[1]
    bn = torch.nn.BatchNorm1d(channels, eps=float(p["eps"]), dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(tensor(p["gamma"]))
        bn.bias.copy_(tensor(_channels(p, "beta", channels, 0.0)))
    with single_thread():
        y = bn(x)
        (y * tensor(p["dY"])).sum().backward()
    forward = _batchnorm_train(p)
    return {
        "mu": forward["mu"],
        "sigma2": forward["sigma2"],
        "x_hat": forward["x_hat"],
        "dbeta": to_numpy(bn.bias.grad),
        "dgamma": _clean(to_numpy(bn.weight.grad)),
        "dX": _clean(to_numpy(x.grad)),
    }


def _statistics(x, dims) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance over ``dims`` (what the normalisation module divides by)."""
    import torch

    var, mean = torch.var_mean(x, dim=dims, correction=0)
    return _clean(mean.numpy()), var.numpy().copy()


@register("layernorm_forward")
def layernorm_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """``nn.LayerNorm(D)`` on the (N, D) matrix ``X``: each row normalised over its D features."""
    import torch

    x = tensor(p["X"])
    features = x.shape[1]
    ln = torch.nn.LayerNorm(features, eps=float(p["eps"]), dtype=torch.float64)
    with torch.no_grad(), single_thread():
        ln.weight.copy_(tensor(_channels(p, "gamma", features, 1.0)))
        ln.bias.copy_(tensor(_channels(p, "beta", features, 0.0)))
        y = ln(x)
        x_hat = torch.nn.functional.layer_norm(x, (features,), eps=ln.eps)
        mean, var = _statistics(x, 1)
    return {"mu": mean, "sigma2": var, "x_hat": _clean(x_hat.numpy()), "y": _clean(y.numpy())}


@register("instancenorm_forward")
def instancenorm_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """``nn.InstanceNorm1d(C, affine=True)`` on one example ``X`` (C channels x L positions)."""
    import torch

    x = tensor(p["X"]).unsqueeze(0)  # a batch of one: (1, C, L)
    channels = x.shape[1]
    norm = torch.nn.InstanceNorm1d(channels, eps=float(p["eps"]), affine=True, dtype=torch.float64)
    plain = torch.nn.InstanceNorm1d(channels, eps=float(p["eps"]), affine=False, dtype=torch.float64)
    with torch.no_grad(), single_thread():
        norm.weight.copy_(tensor(_channels(p, "gamma", channels, 1.0)))
        norm.bias.copy_(tensor(_channels(p, "beta", channels, 0.0)))
        y = norm(x)[0]
        x_hat = plain(x)[0]
        mean, var = _statistics(x[0], 1)
    return {"mu": mean, "sigma2": var, "x_hat": _clean(x_hat.numpy()), "y": _clean(y.numpy())}


@register("groupnorm_forward")
def groupnorm_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """``nn.GroupNorm(G, C)`` on one example ``X`` (C channels x L positions); the statistics are over
    each group of C/G consecutive channels, all positions."""
    import torch

    x = tensor(p["X"]).unsqueeze(0)  # (1, C, L)
    channels, groups = x.shape[1], int(p["G"])
    norm = torch.nn.GroupNorm(groups, channels, eps=float(p["eps"]), dtype=torch.float64)
    plain = torch.nn.GroupNorm(groups, channels, eps=float(p["eps"]), affine=False, dtype=torch.float64)
    with torch.no_grad(), single_thread():
        norm.weight.copy_(tensor(_channels(p, "gamma", channels, 1.0)))
        norm.bias.copy_(tensor(_channels(p, "beta", channels, 0.0)))
        y = norm(x)[0]
        x_hat = plain(x)[0]
        mean, var = _statistics(x.reshape(groups, -1), 1)
    return {"mu": mean, "sigma2": var, "x_hat": _clean(x_hat.numpy()), "y": _clean(y.numpy())}
