"""Generative-model oracles against independent computations and published results."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get
from dlstudy.engine.oracles.generative import binary_cross_entropy, optimal_discriminator

rng = np.random.default_rng(11)
CASES = 300


def _tenths(lo, hi, shape, exclude=()):
    values = np.round(rng.uniform(lo, hi, shape), 1)
    for bad in exclude:
        values[values == bad] = 0.5 if bad != 0.5 else 0.3
    return values


def _kingma_welling_kl(mu, sigma):
    """Kingma & Welling (2014), Appendix B: -KL = 1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)."""
    return -0.5 * np.sum(1 + np.log(sigma**2) - mu**2 - sigma**2)


# ---------------------------------------------------------------------------
# VAE


def test_vae_kl_matches_closed_form_and_monte_carlo():
    oracle = get("vae_kl_divergence")
    for _ in range(CASES):
        mu, logvar = _tenths(-2, 2, 2), _tenths(-1.5, 1.5, 2)
        out = oracle({"mu": mu, "logvar": logvar})
        assert out["kl"] == pytest.approx(_kingma_welling_kl(mu, np.exp(logvar / 2)), rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(out["var"], np.exp(logvar), rtol=1e-12)
    # Monte Carlo estimate of E_q[log q(z) - log p(z)] for one case (independent of any closed form).
    mu, logvar = np.array([0.5, -1.2]), np.array([0.4, -0.8])
    q = torch.distributions.Normal(torch.tensor(mu), torch.exp(0.5 * torch.tensor(logvar)))
    torch.manual_seed(0)
    z = q.sample((400_000,))
    prior = torch.distributions.Normal(0.0, 1.0)
    estimate = float((q.log_prob(z) - prior.log_prob(z)).sum(-1).mean())
    assert get("vae_kl_divergence")({"mu": mu, "logvar": logvar})["kl"] == pytest.approx(estimate, abs=0.01)


def test_vae_kl_golden():
    oracle = get("vae_kl_divergence")
    # KL(N(0, 1) || N(0, 1)) = 0: the posterior equal to the prior costs nothing.
    assert oracle({"mu": np.zeros(2), "logvar": np.zeros(2)})["kl"] == pytest.approx(0.0, abs=1e-15)
    # Kingma & Welling (2014), Appendix B, with mu = 1, sigma = 1 in one dimension: KL = mu^2 / 2 = 0.5.
    assert oracle({"mu": np.array([1.0, 0.0]), "logvar": np.zeros(2)})["kl"] == pytest.approx(0.5)
    # Same appendix, sigma = e (log sigma^2 = 2), mu = 0: KL = (e^2 - 1 - 2)/2.
    assert oracle({"mu": np.zeros(2), "logvar": np.array([2.0, 0.0])})["kl"] == pytest.approx((math.e**2 - 3) / 2)


def test_reparameterization_matches_torch_rsample():
    oracle = get("vae_reparameterization")
    for seed in range(100):
        mu, logvar = _tenths(-2, 2, 2), _tenths(-2, 2, 2)
        cov = torch.diag(torch.exp(torch.tensor(logvar)))
        mvn = torch.distributions.MultivariateNormal(torch.tensor(mu), covariance_matrix=cov)
        torch.manual_seed(seed)
        z_torch = mvn.rsample()
        torch.manual_seed(seed)
        eps = torch.empty(2, dtype=torch.float64).normal_()  # the draw rsample makes internally
        out = oracle({"mu": mu, "logvar": logvar, "eps": eps.numpy()})
        np.testing.assert_allclose(out["z"], z_torch.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["sigma"], mvn.stddev.numpy(), rtol=1e-10)


def test_negative_elbo_matches_numpy():
    oracle = get("vae_negative_elbo")
    for _ in range(CASES):
        x = rng.integers(0, 2, 3).astype(float)
        xhat, mu, sigma = _tenths(0.1, 0.9, 3), _tenths(-1.5, 1.5, 2), _tenths(0.5, 1.5, 2)
        out = oracle({"x": x, "xhat": xhat, "mu": mu, "sigma": sigma})
        bce = -np.sum(np.log(np.where(x == 1, xhat, 1 - xhat)))  # log-likelihood of a Bernoulli decoder
        kl = _kingma_welling_kl(mu, sigma)
        assert (out["recon"], out["kl"], out["loss"]) == pytest.approx((bce, kl, bce + kl), rel=1e-10)


# ---------------------------------------------------------------------------
# GAN


def test_gan_discriminator_loss_matches_numpy():
    oracle = get("gan_discriminator_loss")
    for _ in range(CASES):
        dr, df = _tenths(0.1, 0.9, 2), _tenths(0.1, 0.9, 2)
        out = oracle({"dr": dr, "df": df})
        value = np.mean(np.log(dr)) + np.mean(np.log(1 - df))  # Goodfellow et al. (2014), Eq. 1, on a minibatch
        assert out["loss_d"] == pytest.approx(-value, rel=1e-12)
        assert out["loss_real"] == pytest.approx(-np.mean(np.log(dr)), rel=1e-12)


def test_gan_generator_loss_gradient_matches_finite_differences():
    oracle = get("gan_generator_loss")

    def loss(gen, logits):
        d = 1 / (1 + np.exp(-logits))
        return np.mean(np.log(1 - d)) if gen == "saturating" else -np.mean(np.log(d))

    for _ in range(CASES // 2):
        df = _tenths(0.1, 0.9, 2)
        logits = np.log(df / (1 - df))
        for gen in ("saturating", "nonsaturating"):
            out = oracle({"gen": gen, "df": df})
            assert out["loss_g"] == pytest.approx(loss(gen, logits), rel=1e-10)
            h = 1e-6
            numeric = [(loss(gen, logits + h * e) - loss(gen, logits - h * e)) / (2 * h) for e in np.eye(2)]
            np.testing.assert_allclose(out["grad"], numeric, rtol=1e-6, atol=1e-9)


def test_gan_losses_golden():
    # Goodfellow et al. (2014), Theorem 1: when p_g = p_data the best discriminator outputs 1/2 everywhere and
    # V(D*, G) = -log 4, so the discriminator's loss -V is log 4.
    out = get("gan_discriminator_loss")({"dr": np.array([0.5, 0.5]), "df": np.array([0.5, 0.5])})
    assert out["loss_d"] == pytest.approx(math.log(4))
    # Goodfellow et al. (2014), Section 3: log(1 - D(G(z))) saturates when D rejects samples with confidence;
    # the saturating gradient w.r.t. the logit is -D/m, vanishing as D(G(z)) -> 0; the alternative is not.
    sat = get("gan_generator_loss")({"gen": "saturating", "df": np.array([0.01, 0.01])})["grad"]
    non = get("gan_generator_loss")({"gen": "nonsaturating", "df": np.array([0.01, 0.01])})["grad"]
    np.testing.assert_allclose(sat, [-0.005, -0.005])
    np.testing.assert_allclose(non, [-0.495, -0.495])


def test_optimal_discriminator_matches_proposition_1():
    oracle = get("gan_optimal_discriminator")
    for _ in range(CASES):
        pd, pg = float(_tenths(0.1, 0.9, 1)[0]), float(_tenths(0.1, 0.9, 1)[0])
        out = oracle({"pd": pd, "pg": pg})
        p, q = np.array([pd, 1 - pd]), np.array([pg, 1 - pg])
        # Goodfellow et al. (2014), Proposition 1: D*(x) = p_data(x) / (p_data(x) + p_g(x)).
        np.testing.assert_allclose(out["dstar"], p / (p + q), rtol=1e-12)
        # Theorem 1: C(G) = -log 4 + 2 JSD(p_data || p_g).
        m = (p + q) / 2
        jsd = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
        assert out["value"] == pytest.approx(-math.log(4) + 2 * jsd, rel=1e-10, abs=1e-12)


def test_binary_cross_entropy_matches_torch_exactly():
    # torch.nn.functional.binary_cross_entropy with weights, the oracle's previous computation: every term equal
    # to the bit.
    import torch.nn.functional as F

    for _ in range(CASES):
        size = int(rng.integers(1, 6))
        x = rng.uniform(0, 1, size)
        x[rng.random(size) < 0.1] = 0.0  # log(0) is clamped to -100 ...
        x[rng.random(size) < 0.1] = 1.0  # ... and so is log1p(-1)
        y = np.where(rng.random(size) < 0.3, rng.uniform(0, 1, size), rng.integers(0, 2, size).astype(float))
        w = rng.uniform(0, 2, size)
        t = [torch.tensor(a) for a in (x, y, w)]
        np.testing.assert_array_equal(binary_cross_entropy(x, y, w, reduction="none"),
                                      F.binary_cross_entropy(*t[:2], weight=t[2], reduction="none").numpy())
        total = float(F.binary_cross_entropy(*t[:2], weight=t[2], reduction="sum"))
        if size <= 2:  # the oracle's two points: the same additions in the same order
            assert binary_cross_entropy(x, y, w) == total
        else:  # torch may add longer vectors in another order
            assert binary_cross_entropy(x, y, w) == pytest.approx(total, rel=1e-14, abs=1e-14)


def test_optimal_discriminator_value_matches_torch_bce():
    import torch.nn.functional as F

    oracle = get("gan_optimal_discriminator")
    grid = [(pd, pg) for pd in np.round(np.arange(0.1, 0.91, 0.1), 1) for pg in np.round(np.arange(0.1, 0.91, 0.1), 1)]
    grid += [(float(a), float(b)) for a, b in rng.uniform(0.001, 0.999, (CASES, 2))]
    for pd, pg in grid:
        out = oracle({"pd": pd, "pg": pg})
        d, p_data, p_g = (torch.tensor(np.asarray(a, dtype=float)) for a in (out["dstar"], [pd, 1 - pd], [pg, 1 - pg]))
        value = -F.binary_cross_entropy(d, torch.ones_like(d), weight=p_data, reduction="sum") - F.binary_cross_entropy(
            d, torch.zeros_like(d), weight=p_g, reduction="sum"
        )
        assert out["value"] == float(value)


def test_optimal_discriminator_golden():
    # Goodfellow et al. (2014), Theorem 1: at p_g = p_data, D* = 1/2 and the minimax value is -log 4.
    for pd in (0.1, 0.5, 0.7):
        out = get("gan_optimal_discriminator")({"pd": pd, "pg": pd})
        np.testing.assert_allclose(out["dstar"], [0.5, 0.5], atol=1e-12)
        assert out["value"] == pytest.approx(-math.log(4))
    # Proposition 1 on densities that need not sum to 1 (e.g. continuous densities at three points).
    np.testing.assert_allclose(optimal_discriminator(np.array([2.0, 0.5, 1.0]), np.array([1.0, 1.5, 1.0])), [2 / 3, 0.25, 0.5])


# ---------------------------------------------------------------------------
# Discrete divergences


def test_kl_divergence_golden_examples():
    oracle = get("kl_divergence_discrete")
    # Wikipedia, "Kullback–Leibler divergence", basic example: P = Binomial(2, 0.4) = (9/25, 12/25, 4/25)
    # against the uniform Q: D_KL(P || Q) = 0.0852996 and D_KL(Q || P) = 0.097455 (nats).
    out = oracle({"P": np.array([9, 12, 4]) / 25, "Q": np.full(3, 1 / 3), "unit": "nats"})
    assert out["kl_pq"] == pytest.approx(0.0852996, abs=1e-7)
    assert out["kl_qp"] == pytest.approx(0.097455, abs=1e-6)
    # Cover & Thomas, Elements of Information Theory (2nd ed.), Example 2.3.1: p = (1/2, 1/2), q = (3/4, 1/4):
    # D(p || q) = 1 - (1/2) log 3 = 0.2075 bit and D(q || p) = (3/4) log 3 - 1 = 0.1887 bit.
    out = oracle({"P": np.array([0.5, 0.5]), "Q": np.array([0.75, 0.25]), "unit": "bits"})
    assert out["kl_pq"] == pytest.approx(1 - 0.5 * math.log2(3)) and round(out["kl_pq"], 4) == 0.2075
    assert out["kl_qp"] == pytest.approx(0.75 * math.log2(3) - 1) and round(out["kl_qp"], 4) == 0.1887
    # Weights are normalised: counts give the same divergences.
    counts = oracle({"P": np.array([9.0, 12.0, 4.0]), "Q": np.array([2.0, 2.0, 2.0]), "unit": "nats"})
    assert counts["kl_pq"] == pytest.approx(0.0852996, abs=1e-7)


def test_kl_divergence_matches_numpy_sum():
    oracle = get("kl_divergence_discrete")
    for _ in range(CASES):
        k = int(rng.integers(1, 7))
        p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
        out = oracle({"P": p, "Q": q, "unit": "nats"})
        assert out["kl_pq"] == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-9, abs=1e-12)
        assert oracle({"P": p, "Q": q, "unit": "bits"})["kl_qp"] == pytest.approx(float(np.sum(q * np.log2(q / p))), rel=1e-9, abs=1e-12)


def test_js_divergence_bounds_and_gan_value():
    oracle = get("js_divergence")
    # Lin (1991): JSD <= ln 2 (1 bit), reached exactly by distributions with disjoint supports.
    assert oracle({"P": np.array([1.0, 0.0]), "Q": np.array([0.0, 1.0]), "unit": "nats"})["jsd"] == pytest.approx(math.log(2))
    assert oracle({"P": np.array([0.5, 0.5, 0, 0]), "Q": np.array([0, 0, 0.3, 0.7]), "unit": "bits"})["jsd"] == pytest.approx(1.0)
    # Goodfellow et al. (2014), Theorem 1: V(D*, G) = -log 4 + 2 JSD(p_data || p_g); the GAN oracle finds D* by bisection.
    for _ in range(CASES):
        pd, pg = float(_tenths(0.1, 0.9, 1)[0]), float(_tenths(0.1, 0.9, 1)[0])
        value = get("gan_optimal_discriminator")({"pd": pd, "pg": pg})["value"]
        jsd = oracle({"P": np.array([pd, 1 - pd]), "Q": np.array([pg, 1 - pg]), "unit": "nats"})["jsd"]
        assert value == pytest.approx(-math.log(4) + 2 * jsd, rel=1e-9, abs=1e-12)


def test_gan_discriminator_one_sided_label_smoothing():
    # Salimans et al. (2016), sec. 3.4: real targets 0.9, generated targets stay 0.
    out = get("gan_discriminator_loss")({"dr": np.array([0.8, 0.6]), "df": np.array([0.3]), "real_label": 0.9})
    real = -np.mean(0.9 * np.log([0.8, 0.6]) + 0.1 * np.log([0.2, 0.4]))
    assert out["loss_real"] == pytest.approx(real) and out["loss_fake"] == pytest.approx(-math.log(0.7))


def test_optimal_discriminator_on_more_points():
    out = get("gan_optimal_discriminator")({"pd": np.array([0.2, 0.5]), "pg": np.array([0.4, 0.4])})
    np.testing.assert_allclose(out["dstar"], [0.2 / 0.6, 0.5 / 0.9, 0.3 / 0.5])


# ---------------------------------------------------------------------------
# Diffusion


def test_ddpm_forward_matches_step_by_step_gaussians():
    # q(x_t | x_0) from t single steps q(x_s | x_(s-1)) = N(sqrt(1 - beta_s) x_(s-1), beta_s I): the mean is scaled
    # by sqrt(1 - beta_s) and the variance becomes (1 - beta_s) v + beta_s at each step (Ho et al. 2020, eq. 2 and 4).
    oracle = get("ddpm_forward_process")
    for _ in range(CASES):
        t, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
        betas, x0, eps = rng.uniform(0.01, 0.6, t), rng.uniform(-1, 1, d), rng.normal(size=d)
        mean, variance = x0.copy(), 0.0
        for beta in betas:
            mean, variance = math.sqrt(1 - beta) * mean, (1 - beta) * variance + beta
        out = oracle({"beta": betas, "x0": x0, "eps": eps})
        np.testing.assert_allclose(out["mean"], mean, rtol=1e-10)
        assert out["var"] == pytest.approx(variance, rel=1e-10)
        np.testing.assert_allclose(out["xt"], mean + math.sqrt(variance) * eps, rtol=1e-10, atol=1e-12)


def test_ddpm_linear_schedule_golden():
    # Ho et al. (2020), sec. 4: T = 1000, beta rising linearly from 1e-4 to 0.02, chosen so that
    # L_T = D_KL(q(x_T | x_0) || N(0, I)) is about 1e-5 bits per dimension for data scaled to [-1, 1].
    oracle = get("ddpm_linear_schedule")
    end = oracle({"T": 1000, "beta1": 1e-4, "betaT": 0.02, "t": 1000})
    assert end["beta_t"] == pytest.approx(0.02)
    alpha_bar = end["abar"]
    kl_nats = 0.5 * (alpha_bar * np.linspace(-1, 1, 2001) ** 2 - alpha_bar - math.log(1 - alpha_bar))  # per dimension
    assert 1e-6 < kl_nats.mean() / math.log(2) < 3e-5  # about 1e-5 bits
    assert kl_nats.max() / math.log(2) < 3e-5
    # The first step keeps almost all of the signal: alpha_bar_1 = 1 - beta_1.
    assert oracle({"T": 1000, "beta1": 1e-4, "betaT": 0.02, "t": 1})["abar"] == pytest.approx(1 - 1e-4)
    # Against a plain product over the linear schedule.
    for t in (2, 10, 500):
        betas = 1e-4 + (np.arange(1, t + 1) - 1) / 999 * (0.02 - 1e-4)
        assert oracle({"T": 1000, "beta1": 1e-4, "betaT": 0.02, "t": t})["abar"] == pytest.approx(np.prod(1 - betas), rel=1e-12)
