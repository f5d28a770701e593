"""Oracles for generative models: the VAE's KL term, reparameterisation and ELBO; GAN losses.

Distributions are real ``torch.distributions`` objects (KL from
``kl_divergence``, samples from the reparameterised transform), losses are
``torch.nn.functional.binary_cross_entropy`` and gradients come from autograd.
The optimal discriminator is found by maximising the GAN objective pointwise,
and its value by the same weighted BCE terms computed in NumPy.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import tensor, to_numpy


def gaussian_kl_to_standard(mu: Any, logvar: Any):
    """Per-dimension KL(N(mu, exp(logvar)) || N(0, 1)) and the variances, from torch.distributions."""
    import torch
    from torch.distributions import Normal, kl_divergence

    q = Normal(tensor(mu), torch.exp(0.5 * tensor(logvar)), validate_args=False)
    prior = Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale), validate_args=False)
    return kl_divergence(q, prior), q.variance


@register("vae_kl_divergence")
def vae_kl_divergence(p: Mapping[str, Any]) -> dict[str, Any]:
    kl_j, var = gaussian_kl_to_standard(p["mu"], p["logvar"])
    return {"var": to_numpy(var), "kl_j": to_numpy(kl_j), "kl": float(kl_j.sum())}


@register("vae_reparameterization")
def vae_reparameterization(p: Mapping[str, Any]) -> dict[str, Any]:
    # MultivariateNormal.rsample returns loc + scale_tril @ eps with scale_tril the Cholesky factor
    # of the covariance; here that transform is applied to the given eps (for a diagonal covariance
    # the factor is diag(sigma)).
    scale_tril = np.linalg.cholesky(np.diag(np.exp(np.asarray(p["logvar"], dtype=float))))
    z = np.asarray(p["mu"], dtype=float) + scale_tril @ np.asarray(p["eps"], dtype=float)
    return {"sigma": np.diagonal(scale_tril).copy(), "z": z}


@register("vae_negative_elbo")
def vae_negative_elbo(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch.nn.functional as F

    recon = F.binary_cross_entropy(tensor(p["xhat"]), tensor(p["x"]), reduction="sum")
    kl_j, _ = gaussian_kl_to_standard(p["mu"], 2.0 * np.log(np.asarray(p["sigma"], dtype=float)))
    kl = kl_j.sum()
    return {"recon": float(recon), "kl": float(kl), "loss": float(recon + kl)}


@register("gan_discriminator_loss")
def gan_discriminator_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    d_real, d_fake = tensor(p["dr"]), tensor(p["df"])
    # Targets s for real (1, or 0.9 with one-sided label smoothing, Salimans et al. 2016) and 0 for generated,
    # as in the PyTorch DCGAN tutorial (errD = errD_real + errD_fake).
    real = F.binary_cross_entropy(d_real, torch.full_like(d_real, float(p.get("real_label", 1.0))))
    fake = F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
    return {"loss_real": float(real), "loss_fake": float(fake), "loss_d": float(real + fake)}


@register("gan_generator_loss")
def gan_generator_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    d_fake = tensor(p["df"])
    logits = torch.logit(d_fake).requires_grad_(True)
    if p["gen"] == "saturating":  # minimise E[log(1 - D(G(z)))] = -BCE(D(G(z)), 0)
        loss = -F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))
    else:  # non-saturating: minimise -E[log D(G(z))] = BCE(D(G(z)), 1)
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    (grad,) = torch.autograd.grad(loss, logits)
    return {"loss_g": float(loss.detach()), "grad": to_numpy(grad)}


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray, iterations: int = 50) -> np.ndarray:
    """argmax over D in (0, 1) of p_data log D + p_g log(1 - D), pointwise, by bisection on the derivative.

    The integrand is concave in D, so its derivative p_data/D - p_g/(1 - D) falls from +inf to -inf
    and crosses zero exactly once.
    """
    a, b = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
    lo, hi = np.zeros_like(a), np.ones_like(a)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        rising = a / mid - b / (1.0 - mid) > 0
        lo, hi = np.where(rising, mid, lo), np.where(rising, hi, mid)
    return 0.5 * (lo + hi)


def _clamped_log(value: float, log1p: bool = False) -> float:
    """log(value) or log1p(value) from the C library (``math``), -inf at 0 clamped to -100 as in BCELoss."""
    argument = 1.0 + value if log1p else value
    if argument <= 0.0:
        return -100.0
    return max(math.log1p(value) if log1p else math.log(value), -100.0)


def binary_cross_entropy(x: Any, y: Any, weight: Any = 1.0, reduction: str = "sum") -> Any:
    """torch.nn.functional.binary_cross_entropy in NumPy, term for term as torch's CPU kernel computes it.

    Each element's loss is ``w * ((y - 1) * max(log1p(-x), -100) - y * max(log(x), -100))``
    (the logs clamped at -100, as the BCELoss docs say); ``reduction="sum"`` adds
    them in order, ``"none"`` returns them.  The logs are the C library's
    (``math``), which torch's scalar CPU kernel calls; NumPy's vectorised log can
    differ in the last bit.  (torch's own function, given a weight, broadcasts
    the shapes through torch._refs, which imports sympy: about 0.3 s.)
    """
    x, y, w = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(weight, dtype=float))
    assert ((0.0 <= x) & (x <= 1.0)).all(), "BCE inputs must lie in [0, 1]"
    terms = [
        wi * ((yi - 1.0) * _clamped_log(-xi, log1p=True) - yi * _clamped_log(xi))
        for xi, yi, wi in zip(x.ravel().tolist(), y.ravel().tolist(), w.ravel().tolist())
    ]
    if reduction == "none":
        return np.array(terms).reshape(x.shape)
    assert reduction == "sum", reduction
    total = 0.0
    for term in terms:
        total += term
    return total


@register("gan_optimal_discriminator")
def gan_optimal_discriminator(p: Mapping[str, Any]) -> dict[str, Any]:
    """D* and V(D*, G) on K points; the template lists the first K - 1 probabilities, the last point takes the rest."""
    listed_data, listed_g = (np.atleast_1d(np.asarray(p[k], dtype=float)) for k in ("pd", "pg"))
    p_data = np.append(listed_data, 1.0 - listed_data.sum())
    p_g = np.append(listed_g, 1.0 - listed_g.sum())
    d_star = optimal_discriminator(p_data, p_g)
    # V(D, G) = E_data[log D] + E_g[log(1 - D)], each expectation a BCE (label 1 for data, 0 for generated)
    # weighted by the probabilities.
    value = -binary_cross_entropy(d_star, 1.0, weight=p_data, reduction="sum") - binary_cross_entropy(
        d_star, 0.0, weight=p_g, reduction="sum"
    )
    return {"P": p_data, "Q": p_g, "dstar": d_star, "value": float(value)}


def _kl_sum(target: Any, reference: Any, unit: str) -> float:
    """D_KL(target || reference) from torch's F.kl_div (input log-probabilities, target probabilities, summed).

    kl_div computes target * (log target - input) with 0 log 0 = 0, so outcomes the target never
    takes add nothing (outcomes neither takes are left out: 0 * log 0 would be nan); bits divide
    the nats by ln 2.
    """
    import torch
    import torch.nn.functional as F

    target, reference = np.asarray(target, dtype=float), np.asarray(reference, dtype=float)
    taken = (target > 0) | (reference > 0)  # an outcome neither distribution takes has no term at all
    divergence = F.kl_div(torch.log(tensor(reference[taken])), tensor(target[taken]), reduction="sum")
    return float(divergence) / (math.log(2.0) if unit == "bits" else 1.0)


def _normalised(weights: Any) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


@register("kl_divergence_discrete")
def kl_divergence_discrete(p: Mapping[str, Any]) -> dict[str, Any]:
    unit = str(p.get("unit", "nats"))
    P, Q = _normalised(p["P"]), _normalised(p["Q"])
    return {"p": P, "q": Q, "kl_pq": _kl_sum(P, Q, unit), "kl_qp": _kl_sum(Q, P, unit)}


@register("js_divergence")
def js_divergence(p: Mapping[str, Any]) -> dict[str, Any]:
    unit = str(p.get("unit", "nats"))
    P, Q = _normalised(p["P"]), _normalised(p["Q"])
    mixture = 0.5 * (P + Q)
    kl_pm, kl_qm = _kl_sum(P, mixture, unit), _kl_sum(Q, mixture, unit)
    return {"p": P, "q": Q, "M": mixture, "kl_pm": kl_pm, "kl_qm": kl_qm, "jsd": 0.5 * (kl_pm + kl_qm)}


@register("ddpm_forward_process")
def ddpm_forward_process(p: Mapping[str, Any]) -> dict[str, Any]:
    """q(x_t | x_0) of Ho et al. (2020), eq. 4, as their code builds it: alphas_cumprod = cumprod(1 - betas),
    then x_t = sqrt(alphas_cumprod[t]) x_0 + sqrt(1 - alphas_cumprod[t]) eps (q_sample)."""
    import torch

    betas = tensor(p["beta"])
    alphas = 1.0 - betas
    alpha_bar = torch.cumprod(alphas, dim=0)[-1]
    x0, eps = tensor(p["x0"]), tensor(p["eps"])
    mean = torch.sqrt(alpha_bar) * x0
    variance = 1.0 - alpha_bar
    return {
        "alpha": to_numpy(alphas),
        "abar": float(alpha_bar),
        "mean": to_numpy(mean),
        "var": float(variance),
        "xt": to_numpy(mean + torch.sqrt(variance) * eps),
    }


@register("ddpm_linear_schedule")
def ddpm_linear_schedule(p: Mapping[str, Any]) -> dict[str, Any]:
    """The linear schedule as Ho et al.'s code makes it (np.linspace(beta_start, beta_end, T), float64),
    then torch.cumprod of 1 - beta up to step t (1-based)."""
    import torch

    steps, t = int(p["T"]), int(p["t"])
    betas = torch.from_numpy(np.linspace(float(p["beta1"]), float(p["betaT"]), steps, dtype=np.float64))
    alpha_bar = float(torch.cumprod(1.0 - betas, dim=0)[t - 1])
    return {
        "beta_t": float(betas[t - 1]),
        "abar": alpha_bar,
        "signal": math.sqrt(alpha_bar),
        "noise": math.sqrt(1.0 - alpha_bar),
        "snr": alpha_bar / (1.0 - alpha_bar),
    }
