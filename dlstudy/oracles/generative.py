"""Oracles for generative models: the VAE's KL term, reparameterisation and ELBO; GAN losses.

Distributions are real ``torch.distributions`` objects (KL from
``kl_divergence``, samples from the reparameterised transform), losses are
``torch.nn.functional.binary_cross_entropy`` and gradients come from autograd.
The optimal discriminator is found by maximising the GAN objective pointwise.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.oracles import register
from dlstudy.oracles.tensors import tensor, to_numpy


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
    # Labels 1 for real, 0 for generated, as in the PyTorch DCGAN tutorial (errD = errD_real + errD_fake).
    real = F.binary_cross_entropy(d_real, torch.ones_like(d_real))
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


@register("gan_optimal_discriminator")
def gan_optimal_discriminator(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    p_data = np.array([p["pd"], 1.0 - p["pd"]])
    p_g = np.array([p["pg"], 1.0 - p["pg"]])
    d_star = optimal_discriminator(p_data, p_g)
    d = tensor(d_star)
    # V(D, G) = E_data[log D] + E_g[log(1 - D)], each expectation a BCE weighted by the probabilities.
    value = -F.binary_cross_entropy(d, torch.ones_like(d), weight=tensor(p_data), reduction="sum") - F.binary_cross_entropy(
        d, torch.zeros_like(d), weight=tensor(p_g), reduction="sum"
    )
    return {"dstar": d_star, "value": float(value)}
