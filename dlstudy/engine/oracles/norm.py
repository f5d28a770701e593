"""Oracles for normalisation layers: a real ``torch.nn.BatchNorm1d`` in training mode.

The batch statistics come from torch's own kernel (``torch.native_batch_norm``
returns the batch mean and 1/sqrt(var + eps) it normalised with), the output
and running statistics from the module itself.  torch is imported inside the
functions so listing problems stays fast.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import single_thread


def _clean(a: Any) -> np.ndarray:
    """A copy with float noise (|entry| < 1e-12, e.g. x - mean for x = mean) set to exactly 0."""
    a = np.array(a, dtype=float)
    a[np.abs(a) < 1e-12] = 0.0
    return a


def _batchnorm_train(p: Mapping[str, Any]) -> dict[str, Any]:
    """One training-mode forward pass of BatchNorm1d on the (N, C) batch ``X``."""
    import torch

    x = torch.tensor(np.asarray(p["X"], dtype=float), dtype=torch.float64)
    channels = x.shape[1]
    eps = float(p["eps"])
    momentum = float(p.get("momentum", 0.1))
    gamma = np.asarray(p.get("gamma", np.ones(channels)), dtype=float)
    beta = np.asarray(p.get("beta", np.zeros(channels)), dtype=float)
    running_mean = np.asarray(p.get("running_mean", np.zeros(channels)), dtype=float)
    running_var = np.asarray(p.get("running_var", np.ones(channels)), dtype=float)

    bn = torch.nn.BatchNorm1d(channels, eps=eps, momentum=momentum, dtype=torch.float64)
    bn.train()
    with torch.no_grad(), single_thread():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
        bn.running_mean.copy_(torch.from_numpy(running_mean))
        bn.running_var.copy_(torch.from_numpy(running_var))
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


@register("batchnorm_train_forward")
def batchnorm_train_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """Batch mean, biased batch variance, x_hat and gamma*x_hat + beta from BatchNorm1d."""
    out = _batchnorm_train(p)
    return {k: out[k] for k in ("mu", "sigma2", "x_hat", "y")}


@register("batchnorm_running_stats")
def batchnorm_running_stats(p: Mapping[str, Any]) -> dict[str, Any]:
    """Batch mean, unbiased batch variance and BatchNorm1d's updated running statistics."""
    out = _batchnorm_train(p)
    return {
        "mu": out["mu"],
        "s2": np.var(np.asarray(p["X"], dtype=float), axis=0, ddof=1),
        "rm_new": out["rm_new"],
        "rv_new": out["rv_new"],
    }
