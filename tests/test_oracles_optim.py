"""Optimisation oracles (optimizers, schedules, regularisation, initialisation, iteration
counts) against independent NumPy re-implementations, against torch, and against
published numbers.

The oracles are NumPy re-enactments of torch.optim's step(), lr_scheduler's
per-epoch rules, a DataLoader's batching and nn.init's std (they no longer import
torch: building a torch.optim optimizer imports torch._dynamo, most of a second).
The real torch.optim / lr_scheduler / DataLoader / nn.init live here, and every
oracle is cross-checked against them over many random parameter sets; the
independent formula checks are written from the papers' algorithm boxes, not
from dlstudy.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get, inplace_ops, lr_schedules, optimizers
from dlstudy.engine.templates import get_template

rng = np.random.default_rng(20240501)


def _vec(n=2, lo=-3.0, hi=3.0):
    return np.round(rng.uniform(lo, hi, n), 2)


# ---------------------------------------------------------------------------
# Adam


def _numpy_adam(theta, g, m_prev, v_prev, t, lr, b1, b2, eps):
    """Algorithm 1 of Kingma & Ba (2015), written out."""
    m = b1 * m_prev + (1 - b1) * g
    v = b2 * v_prev + (1 - b2) * g * g
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    new = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return m, v, m_hat, v_hat, new


def test_adam_matches_numpy_algorithm():
    adam = get("adam_step")
    for _ in range(300):
        n = int(rng.integers(1, 4))
        theta, g = _vec(n), _vec(n)
        t = int(rng.integers(1, 12))
        m_prev = np.zeros(n) if t == 1 else _vec(n, -1, 1)
        v_prev = np.zeros(n) if t == 1 else np.round(rng.uniform(0, 0.05, n), 4)
        lr, b1, b2 = float(rng.choice([0.1, 0.01, 0.001])), float(rng.choice([0.9, 0.8])), float(rng.choice([0.999, 0.99]))
        p = {"theta": theta, "g": g, "lr": lr, "b1": b1, "b2": b2, "eps": 1e-8}
        if t > 1:
            p.update(t=t, m_prev=m_prev, v_prev=v_prev)
        out = adam(p)
        m, v, m_hat, v_hat, new = _numpy_adam(theta, g, m_prev, v_prev, t, lr, b1, b2, 1e-8)
        np.testing.assert_allclose(out["m"], m, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["v"], v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["m_hat"], m_hat, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["v_hat"], v_hat, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["theta_new"], new, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out["delta"], new - theta, rtol=1e-9, atol=1e-12)


def test_adam_chained_steps_match_torch_run():
    """Feeding the oracle its own moments step after step reproduces one uninterrupted torch run."""
    adam = get("adam_step")
    grads = rng.uniform(-2, 2, (8, 3))
    param = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([param], lr=0.05)
    theta, m, v = param.detach().numpy().copy(), None, None
    for t, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        p = {"theta": theta, "g": g, "lr": 0.05, "b1": 0.9, "b2": 0.999, "eps": 1e-8}
        if t > 1:
            p.update(t=t, m_prev=m, v_prev=v)
        out = adam(p)
        theta, m, v = out["theta_new"], out["m"], out["v"]
        np.testing.assert_allclose(theta, param.detach().numpy(), rtol=1e-12)


def test_adam_golden_paper_defaults_and_first_step():
    # Kingma & Ba (2015), Algorithm 1: "Good default settings ... are alpha = 0.001,
    # beta1 = 0.9, beta2 = 0.999 and epsilon = 1e-8"; torch.optim.Adam uses the same defaults.
    defaults = torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults
    assert defaults["lr"] == 0.001 and defaults["betas"] == (0.9, 0.999) and defaults["eps"] == 1e-8
    for template_id in ("adam-first-step", "adam-step"):
        params = get_template(template_id).params
        assert params["b1"].options == (0.9,) and params["b2"].options == (0.999,) and params["eps"].options == (1e-8,)
    # Bias correction at t = 1 gives m_hat = g and v_hat = g^2, so the first update is
    # -alpha * g / (|g| + eps), i.e. about -alpha * sign(g) whatever the gradient's size
    # (Kingma & Ba, Sec. 2.1: the effective step is bounded by alpha).
    g = np.array([0.5, -3.0, 0.01])
    out = get("adam_step")({"theta": np.zeros(3), "g": g, "lr": 0.001, "b1": 0.9, "b2": 0.999, "eps": 1e-8})
    np.testing.assert_allclose(out["m_hat"], g, rtol=1e-12)
    np.testing.assert_allclose(out["v_hat"], g * g, rtol=1e-12)
    np.testing.assert_allclose(out["delta"], -0.001 * np.sign(g), rtol=1e-5)
    # Hand-worked: g = 0.5 -> m1 = 0.05, v1 = 0.00025, m_hat = 0.5, v_hat = 0.25,
    # delta = -0.001 * 0.5 / (0.5 + 1e-8) = -0.00099999998.
    out = get("adam_step")({"theta": [1.0], "g": [0.5], "lr": 0.001, "b1": 0.9, "b2": 0.999, "eps": 1e-8})
    assert out["m"][0] == pytest.approx(0.05) and out["v"][0] == pytest.approx(0.00025)
    assert out["theta_new"][0] == pytest.approx(1.0 - 0.00099999998, rel=1e-12)


def test_adam_golden_bias_correction_is_exact_for_constant_gradient():
    # Kingma & Ba, Sec. 3: with a stationary gradient the corrected estimates are unbiased,
    # i.e. for a constant g, m_hat_t = g and v_hat_t = g^2 at every step t.
    adam = get("adam_step")
    g = np.array([0.7, -1.3])
    p = {"theta": np.zeros(2), "g": g, "lr": 0.01, "b1": 0.9, "b2": 0.999, "eps": 1e-8}
    out = adam(p)
    for t in range(2, 30):
        out = adam({**p, "theta": out["theta_new"], "t": t, "m_prev": out["m"], "v_prev": out["v"]})
        np.testing.assert_allclose(out["m_hat"], g, rtol=1e-9)
        np.testing.assert_allclose(out["v_hat"], g * g, rtol=1e-9)


# ---------------------------------------------------------------------------
# SGD with momentum, RMSprop, Adagrad


def test_sgd_momentum_matches_numpy():
    sgd = get("sgd_momentum_step")
    for _ in range(300):
        n = int(rng.integers(1, 4))
        theta, g, v_prev = _vec(n), _vec(n), _vec(n, -2, 2)
        mu, lr = float(rng.choice([0.0, 0.5, 0.9, 0.99])), float(rng.choice([0.01, 0.1, 0.5]))
        out = sgd({"theta": theta, "g": g, "v_prev": v_prev, "mu": mu, "lr": lr})
        v = mu * v_prev + g  # PyTorch's SGD docs: b_t = mu b_{t-1} + (1 - dampening) g_t, dampening 0
        np.testing.assert_allclose(out["v"], v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["theta_new"], theta - lr * v, rtol=1e-12, atol=1e-12)


def test_sgd_momentum_golden_terminal_velocity():
    # Goodfellow, Bengio & Courville, Deep Learning (2016), Sec. 8.3.2: with a constant gradient g
    # momentum reaches the terminal step size eps*||g||/(1 - alpha); alpha = 0.9 is 10x plain SGD.
    sgd = get("sgd_momentum_step")
    g, lr = np.array([1.0, -0.5]), 0.01
    v = np.zeros(2)
    for _ in range(400):
        out = sgd({"theta": np.zeros(2), "g": g, "v_prev": v, "mu": 0.9, "lr": lr})
        v = out["v"]
    np.testing.assert_allclose(out["delta"], -10 * lr * g, rtol=1e-9)


def test_rmsprop_matches_numpy():
    rms = get("rmsprop_step")
    for _ in range(300):
        n = int(rng.integers(1, 4))
        theta, g = _vec(n), _vec(n)
        s_prev = np.round(rng.uniform(0, 3, n), 2)
        rho, lr = float(rng.choice([0.9, 0.99])), float(rng.choice([0.01, 0.1]))
        out = rms({"theta": theta, "g": g, "s_prev": s_prev, "rho": rho, "lr": lr, "eps": 1e-8})
        # Tieleman & Hinton (2012), lecture 6e: MeanSquare = rho*MeanSquare + (1 - rho)*g^2, step g/sqrt(MeanSquare)
        s = rho * s_prev + (1 - rho) * g**2
        np.testing.assert_allclose(out["s"], s, rtol=1e-12)
        np.testing.assert_allclose(out["theta_new"], theta - lr * g / (np.sqrt(s) + 1e-8), rtol=1e-12, atol=1e-12)


def test_rmsprop_golden_first_step_without_bias_correction():
    # RMSprop has no bias correction (Kingma & Ba 2015, Sec. 5 and 6.4 contrast it with Adam):
    # from s_0 = 0 with rho = 0.99 the first step is alpha*g/sqrt(0.01 g^2) = 10 alpha in size.
    out = get("rmsprop_step")({"theta": [0.0, 0.0], "g": [0.3, -4.0], "s_prev": [0.0, 0.0], "rho": 0.99, "lr": 0.01, "eps": 1e-8})
    np.testing.assert_allclose(out["delta"], [-0.1, 0.1], rtol=1e-6)


def test_adagrad_matches_numpy():
    ada = get("adagrad_step")
    for _ in range(300):
        n = int(rng.integers(1, 4))
        theta, g = _vec(n), _vec(n)
        G_prev = np.round(rng.uniform(0, 10, n), 2)
        lr = float(rng.choice([0.01, 0.1, 0.5]))
        out = ada({"theta": theta, "g": g, "G_prev": G_prev, "lr": lr, "eps": 1e-10})
        G = G_prev + g**2  # Duchi, Hazan & Singer (2011): diagonal sum of squared gradients
        np.testing.assert_allclose(out["G"], G, rtol=1e-12)
        np.testing.assert_allclose(out["theta_new"], theta - lr * g / (np.sqrt(G) + 1e-10), rtol=1e-12, atol=1e-12)


def test_adagrad_golden_step_shrinks_as_one_over_sqrt_t():
    # Duchi et al. (2011): the per-coordinate rate is alpha/sqrt(sum of g^2); with a constant gradient
    # the t-th step has size alpha/sqrt(t) (1, 1/sqrt(2), 1/sqrt(3), ... times alpha).
    ada = get("adagrad_step")
    G = np.zeros(2)
    for t in range(1, 11):
        out = ada({"theta": np.zeros(2), "g": [2.0, -0.5], "G_prev": G, "lr": 0.1, "eps": 1e-10})
        np.testing.assert_allclose(np.abs(out["delta"]), 0.1 / math.sqrt(t), rtol=1e-8)
        G = out["G"]


# ---------------------------------------------------------------------------
# The NumPy optimizers against torch.optim itself


def _torch_step(opt_name, theta, grad, state, **options):
    """One real ``torch.optim.<opt_name>`` step (single-tensor implementation) from ``theta``.

    ``state`` is loaded into the optimizer first, as torch stores it (float64
    tensors, ``step`` a scalar tensor).  Returns (new theta, state after the step).
    """
    param = torch.tensor(np.atleast_1d(theta), dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, opt_name)([param], foreach=False, **options)
    if state:
        optimizer.state[param] = {
            k: torch.tensor(float(v)) if k == "step" else torch.tensor(np.atleast_1d(v), dtype=torch.float64)
            for k, v in state.items()
        }
    param.grad = torch.tensor(np.atleast_1d(grad), dtype=torch.float64)
    optimizer.step()
    after = {k: (v.numpy().copy() if v.ndim else float(v)) for k, v in optimizer.state[param].items()}
    return param.detach().numpy().copy(), after


def _torch_l2_step(w, dw, lam, m, lr):
    """Autograd through J = dw.w + lam/(2m)||w||^2, then a real torch.optim.SGD step."""
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    dw = torch.tensor(dw, dtype=torch.float64)
    penalty = lam / (2.0 * m) * (w**2).sum()
    (reg_grad,) = torch.autograd.grad(penalty, w, retain_graph=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    ((dw * w).sum() + penalty).backward()
    grad = w.grad.detach().numpy().copy()
    optimizer.step()
    return {"penalty": float(penalty.detach()), "reg_grad": reg_grad.numpy().copy(), "grad": grad, "w_new": w.detach().numpy().copy()}


@functools.lru_cache(maxsize=None)
def _optimizer_cases(count):
    """(oracle id, params, what torch.optim gives) for ``count`` random steps of each optimizer oracle.

    Computed once (1,500 real torch.optim steps) for both tests that use them; callers must not mutate them.
    """
    return tuple(_generate_optimizer_cases(count))


def _generate_optimizer_cases(count):
    case_rng = np.random.default_rng(99)

    def vec(n, lo, hi):
        decimals = case_rng.choice([1, 2, 3, 17])  # exam-style numbers and arbitrary ones
        return np.round(case_rng.uniform(lo, hi, n), int(decimals))

    for _ in range(count):
        n = int(case_rng.integers(1, 5))
        theta, g = vec(n, -2, 2), vec(n, -3, 3)
        lr = float(case_rng.choice([0.1, 0.05, 0.2, 0.001, 0.37]))
        t = int(case_rng.integers(1, 9))
        b1, b2 = float(case_rng.choice([0.9, 0.8, 0.3, 0.95])), float(case_rng.choice([0.999, 0.99, 0.9]))
        eps = float(case_rng.choice([1e-8, 1e-3]))
        p = {"theta": theta, "g": g, "lr": lr, "b1": b1, "b2": b2, "eps": eps}
        state = {}
        if t > 1:
            p.update(t=t, m_prev=vec(n, -1, 1), v_prev=np.abs(vec(n, 0, 0.05)))
            state = {"step": t - 1, "exp_avg": p["m_prev"], "exp_avg_sq": p["v_prev"]}
        new, after = _torch_step("Adam", theta, g, state, lr=lr, betas=(b1, b2), eps=eps)
        m, v = after["exp_avg"], after["exp_avg_sq"]
        yield "adam_step", p, {
            "m": m, "v": v, "m_hat": m / (1 - b1 ** after["step"]), "v_hat": v / (1 - b2 ** after["step"]),
            "delta": new - theta, "theta_new": new,
        }

        v_prev, mu = vec(n, -1.5, 1.5), float(case_rng.choice([0.0, 0.9, 0.5, 0.8, 0.99, 0.3]))
        new, after = _torch_step("SGD", theta, g, {"momentum_buffer": v_prev}, lr=lr, momentum=mu)
        velocity = after["momentum_buffer"] if mu else g  # momentum 0: no buffer, the raw gradient
        yield "sgd_momentum_step", {"theta": theta, "g": g, "v_prev": v_prev, "mu": mu, "lr": lr}, {
            "v": velocity, "delta": new - theta, "theta_new": new,
        }

        s_prev, rho = np.abs(vec(n, 0, 2)), float(case_rng.choice([0.9, 0.99, 0.3, 0.7]))
        new, after = _torch_step("RMSprop", theta, g, {"step": 1, "square_avg": s_prev}, lr=lr, alpha=rho, eps=eps)
        yield "rmsprop_step", {"theta": theta, "g": g, "s_prev": s_prev, "rho": rho, "lr": lr, "eps": eps}, {
            "s": after["square_avg"], "delta": new - theta, "theta_new": new,
        }

        G_prev, ada_eps = np.abs(vec(n, 0, 6)), float(case_rng.choice([1e-10, 0.01]))
        new, after = _torch_step("Adagrad", theta, g, {"step": 1, "sum": G_prev}, lr=lr, eps=ada_eps)
        yield "adagrad_step", {"theta": theta, "g": g, "G_prev": G_prev, "lr": lr, "eps": ada_eps}, {
            "G": after["sum"], "delta": new - theta, "theta_new": new,
        }

        dw, lam, m_ex = vec(n, -1, 1), float(case_rng.choice([1, 2, 5, 10, 0.3])), int(case_rng.choice([3, 5, 10, 20]))
        yield "l2_regularized_step", {"w": theta, "dw": dw, "lam": lam, "m": m_ex, "lr": lr}, _torch_l2_step(theta, dw, lam, m_ex, lr)


def test_optimizer_oracles_match_torch_optim():
    for oracle_id, p, want in _optimizer_cases(300):
        got = get(oracle_id)(p)
        assert set(got) == set(want), oracle_id
        for key, value in want.items():
            # torch's square root (MKL) may be one unit in the last place off IEEE's, which NumPy uses
            try:
                np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-15)
            except AssertionError as exc:  # the case is printed only on failure: formatting it each time costs ~1 s
                raise AssertionError(f"{oracle_id} {key} {p}\n{exc}") from None


@pytest.mark.skipif(
    torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"),
    reason="torch's CPU kernels use fused multiply-adds on AVX2 / AVX-512 builds only",
)
def test_optimizer_oracles_equal_torch_optim_bit_for_bit(monkeypatch):
    """Given torch's own square root, every value is torch.optim's to the last bit (and the
    sign of zero): the NumPy steps are the same operations in the same order."""
    monkeypatch.setattr(optimizers, "sqrt", lambda a: torch.from_numpy(np.array(a, dtype=float)).sqrt().numpy())
    for oracle_id, p, want in _optimizer_cases(300):
        got = get(oracle_id)(p)
        for key, value in want.items():
            a, b = np.asarray(got[key]), np.asarray(value)
            assert np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b)), (oracle_id, key, p, a, b)


def test_fma_rounds_once():
    # 1 + 2^-30 squared is 1 + 2^-29 + 2^-60: the separate product rounds the 2^-60 away, a fused one keeps it.
    x = 1.0 + 2.0**-30
    assert inplace_ops.fma(x, x, -(1.0 + 2.0**-29))[()] == 2.0**-60
    assert x * x - (1.0 + 2.0**-29) == 0.0
    assert math.copysign(1.0, inplace_ops.fma(-0.0, 1.0, -0.0)[()]) == -1.0  # IEEE: -0 + -0 = -0


# ---------------------------------------------------------------------------
# Regularisation


def test_l2_step_matches_torch_weight_decay_and_numpy():
    l2 = get("l2_regularized_step")
    for _ in range(200):
        w, dw = _vec(3), _vec(3, -1, 1)
        lam, m, lr = float(rng.choice([0.1, 1, 5])), int(rng.choice([1, 5, 50])), float(rng.choice([0.01, 0.1, 1]))
        out = l2({"w": w, "dw": dw, "lam": lam, "m": m, "lr": lr})
        # torch.optim.SGD's weight_decay adds weight_decay * param to the gradient (PyTorch docs).
        param = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        param.grad = torch.tensor(dw, dtype=torch.float64)
        torch.optim.SGD([param], lr=lr, weight_decay=lam / m).step()
        np.testing.assert_allclose(out["w_new"], param.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out["penalty"], lam / (2 * m) * np.sum(w**2), rtol=1e-12)
        np.testing.assert_allclose(out["grad"], dw + lam / m * w, rtol=1e-12, atol=1e-15)


def test_l2_golden_course_notes():
    # Course notes (001, "L2 Regularization"): d/dW (lambda/2m W^2) = (lambda/m) W.
    # Hand-worked: w = [1, -2], lambda = 2, m = 4 -> penalty 2/8*5 = 1.25, gradient [0.5, -1].
    out = get("l2_regularized_step")({"w": [1.0, -2.0], "dw": [0.0, 0.0], "lam": 2, "m": 4, "lr": 0.1})
    assert out["penalty"] == pytest.approx(1.25)
    np.testing.assert_allclose(out["reg_grad"], [0.5, -1.0])
    np.testing.assert_allclose(out["w_new"], [0.95, -1.9])  # weights shrink by the factor 1 - lr*lambda/m


def test_dropout_scale_matches_nn_dropout_statistics():
    drop = get("inverted_dropout")
    torch.manual_seed(1)
    for p in (0.1, 0.2, 0.25, 0.5, 0.8):
        a = np.array([0.5, 1.5, 3.0])
        out = drop({"a": a, "mask": np.array([1.0, 0.0, 1.0]), "p": p})
        layer = torch.nn.Dropout(p).train()
        x = torch.tensor(a, dtype=torch.float64).repeat(200_000, 1)
        y = layer(x)
        kept = y[y != 0] / x[y != 0]
        assert torch.allclose(kept, torch.full_like(kept, out["scale"]))
        np.testing.assert_allclose(y.mean(0).numpy(), out["Ey"], rtol=0.02)
        np.testing.assert_allclose(out["Ey"], a, rtol=1e-12)
        np.testing.assert_allclose(out["y"], a * [1, 0, 1] / (1 - p), rtol=1e-12)


def test_dropout_golden_pytorch_docs():
    # PyTorch nn.Dropout docs: "the outputs are scaled by a factor of 1/(1-p) during training";
    # with p = 0.5 (Srivastava et al. 2014's usual hidden-unit rate) kept units are doubled.
    out = get("inverted_dropout")({"a": [1.0, 2.0, 3.0], "mask": [1.0, 1.0, 0.0], "p": 0.5})
    assert out["scale"] == 2.0
    np.testing.assert_allclose(out["y"], [2.0, 4.0, 0.0])


def test_dropout_scale_equals_torch_dropout():
    ones = torch.ones(4096, dtype=torch.float64)
    for p in [0.0, 0.99, *np.round(rng.uniform(0, 0.99, 200), int(rng.integers(1, 4)))]:
        out = get("inverted_dropout")({"a": [1.0, 2.0, 3.0], "mask": [1.0, 0.0, 1.0], "p": float(p)})
        want = float(torch.nn.functional.dropout(ones, float(p), training=True).max())
        assert out["scale"] == want, p


# ---------------------------------------------------------------------------
# Initialisation


def _sampled_std(scheme: str, c_in: int, c_out: int, k: int) -> float:
    """Std of about 200,000 weights drawn by torch.nn.init into a real Conv2d-shaped tensor."""
    weight = torch.empty(c_out, c_in, k, k)
    draws = []
    for _ in range(max(1, 200_000 // weight.numel())):
        if scheme == "xavier":
            torch.nn.init.xavier_normal_(weight)
        else:
            torch.nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")
        draws.append(weight.flatten().clone())
    return float(torch.cat(draws).std())


def test_init_std_matches_sampled_weights():
    init = get("init_std")
    torch.manual_seed(2)
    for scheme in ("xavier", "he"):
        for c_in, c_out, k in ((3, 64, 3), (64, 128, 3), (16, 32, 5), (32, 8, 1)):
            out = init({"scheme": scheme, "c_in": c_in, "c_out": c_out, "k": k})
            assert (out["fan_in"], out["fan_out"]) == (c_in * k * k, c_out * k * k)
            assert _sampled_std(scheme, c_in, c_out, k) == pytest.approx(out["std"], rel=0.01)
            assert out["var"] == pytest.approx(out["std"] ** 2)


def _torch_init_numbers(scheme: str, c_in: int, c_out: int, k: int) -> tuple[int, int, float]:
    """Fans of a real Conv2d weight and the std torch.nn.init hands to ``normal_`` (recorded by a
    TorchFunctionMode; the weight lives on the meta device, so nothing is sampled)."""
    from torch.overrides import TorchFunctionMode

    stds: list[float] = []

    class RecordNormal(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.Tensor.normal_:
                _, std = (list(args[1:]) + [kwargs.get("mean", 0.0), kwargs.get("std", 1.0)])[:2]
                stds.append(float(std))
            return func(*args, **kwargs)

    conv = torch.nn.Conv2d(c_in, c_out, k, device="meta")
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(conv.weight)
    with RecordNormal():
        if scheme == "xavier":
            torch.nn.init.xavier_normal_(conv.weight)
        else:
            torch.nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    (std,) = stds
    return int(fan_in), int(fan_out), std


def test_init_std_equals_torch_nn_init():
    init = get("init_std")
    for _ in range(200):
        scheme = str(rng.choice(["xavier", "he"]))
        c_in, c_out, k = int(rng.integers(1, 300)), int(rng.integers(1, 300)), int(rng.integers(1, 8))
        out = init({"scheme": scheme, "c_in": c_in, "c_out": c_out, "k": k})
        fan_in, fan_out, std = _torch_init_numbers(scheme, c_in, c_out, k)
        assert (out["fan_in"], out["fan_out"], out["std"]) == (fan_in, fan_out, std)
        assert out["var"] == std * std


def test_init_golden_papers():
    init = get("init_std")
    # He et al. (2015), Eq. 10: (1/2) n_l Var[w_l] = 1 with n_l = k^2 c; for 3x3 kernels on 64
    # channels n_l = 576 and the std is sqrt(2/576) = 0.0589.
    he = init({"scheme": "he", "c_in": 64, "c_out": 64, "k": 3})
    assert he["fan_in"] == 576 and he["std"] == pytest.approx(0.0589, abs=5e-5)
    # Glorot & Bengio (2010), Eq. 12: Var[W] = 2/(n_in + n_out); a 256 -> 256 layer gets 1/256.
    xavier = init({"scheme": "xavier", "c_in": 256, "c_out": 256, "k": 1})
    assert xavier["var"] == pytest.approx(1 / 256)


# ---------------------------------------------------------------------------
# Learning-rate schedules


def test_lr_schedules_match_numpy_formulas():
    for _ in range(200):
        lr0, c, epoch = float(rng.choice([0.1, 0.5, 1.0])), float(rng.choice([0.5, 0.9, 0.95, 1.0])), int(rng.integers(1, 15))
        expected = {
            "inverse_time": lr0 / (1 + c * epoch),
            "exponential": lr0 * c**epoch,
            "inverse_sqrt": lr0 * c / math.sqrt(epoch),
        }
        for schedule, want in expected.items():
            out = get("lr_decay")({"schedule": schedule, "lr0": lr0, "c": c, "epoch": epoch})
            assert out["lr"] == pytest.approx(want, rel=1e-12)
        S, gamma, e = int(rng.integers(1, 8)), float(rng.choice([0.1, 0.5])), int(rng.integers(0, 40))
        out = get("lr_step_decay")({"lr0": lr0, "gamma": gamma, "step_size": S, "epoch": e})
        assert out["drops"] == e // S and out["lr"] == pytest.approx(lr0 * gamma ** (e // S), rel=1e-12)
        s, W = float(rng.choice([0.1, 0.25, 0.5])), int(rng.integers(1, 10))
        out = get("lr_warmup")({"lr": lr0, "s": s, "W": W, "epoch": e})
        assert out["lr_e"] == pytest.approx(lr0 * (s + (1 - s) * min(e, W) / W), rel=1e-12)


def _torch_schedule(lr0, make, epochs):
    """The learning rate in each epoch 0..epochs of a real torch scheduler, stepped once per epoch."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = make(optimizer)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(epochs):
        optimizer.step()  # no gradient: leaves the parameter alone, keeps the scheduler's order check happy
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


def test_schedule_oracles_equal_torch_lr_scheduler():
    sched = torch.optim.lr_scheduler
    for _ in range(150):
        lr0 = float(rng.choice([0.1, 0.2, 0.5, 1.0, 0.03, 0.001]))
        c, epochs = float(rng.choice([0.5, 0.8, 0.9, 0.95, 0.07, 1.3])), int(rng.integers(1, 40))
        makers = {
            "exponential": lambda opt: sched.ExponentialLR(opt, gamma=c),
            "inverse_time": lambda opt: sched.LambdaLR(opt, lambda e: 1.0 / (1.0 + c * e)),
            "inverse_sqrt": lambda opt: sched.LambdaLR(opt, lambda e: c / math.sqrt(e) if e else 1.0),
        }
        for schedule, make in makers.items():
            rates = _torch_schedule(lr0, make, epochs)
            for epoch in range(1, epochs + 1):
                out = get("lr_decay")({"schedule": schedule, "lr0": lr0, "c": c, "epoch": epoch})
                assert out == {"k": epoch, "factor": rates[epoch] / lr0, "lr": rates[epoch]}, (schedule, lr0, c, epoch)
                # PyTorch's numbering: epoch e (from 1) runs after e - 1 scheduler steps.
                out = get("lr_decay")({"schedule": schedule, "lr0": lr0, "c": c, "epoch": epoch, "first_epoch": "undecayed"})
                assert out == {"k": epoch - 1, "factor": rates[epoch - 1] / lr0, "lr": rates[epoch - 1]}, (schedule, lr0, c, epoch)

        S, gamma = int(rng.integers(1, 11)), float(rng.choice([0.1, 0.5, 0.2, 0.7]))
        rates = _torch_schedule(lr0, lambda opt: sched.StepLR(opt, step_size=S, gamma=gamma), epochs)
        for epoch in range(epochs + 1):
            out = get("lr_step_decay")({"lr0": lr0, "gamma": gamma, "step_size": S, "epoch": epoch})
            drops = sum(a != b for a, b in zip(rates[:epoch], rates[1 : epoch + 1]))
            assert out == {"drops": drops, "lr": rates[epoch]}, (lr0, gamma, S, epoch)

        s, W = float(rng.choice([0.1, 0.2, 0.25, 0.5, 0.33, 0.9])), int(rng.integers(1, 12))
        rates = _torch_schedule(lr0, lambda opt: sched.LinearLR(opt, start_factor=s, end_factor=1.0, total_iters=W), epochs)
        for epoch in range(epochs + 1):
            out = get("lr_warmup")({"lr": lr0, "s": s, "W": W, "epoch": epoch})
            factor = rates[epoch] / lr0
            assert out == {"frac": (factor - s) / (1 - s), "factor": factor, "lr_e": rates[epoch]}, (lr0, s, W, epoch)


def test_lr_golden_published_examples():
    # Ng, deeplearning.ai Course 2 ("Learning rate decay"): alpha0 = 0.2, decay_rate = 1 gives
    # 0.1, 0.067, 0.05, 0.04 in epochs 1-4.
    got = [get("lr_decay")({"schedule": "inverse_time", "lr0": 0.2, "c": 1.0, "epoch": e})["lr"] for e in (1, 2, 3, 4)]
    np.testing.assert_allclose(got, [0.1, 0.0667, 0.05, 0.04], atol=5e-5)
    # PyTorch StepLR docs: lr = 0.05, step_size = 30, gamma = 0.1 -> 0.05 for epochs < 30,
    # 0.005 for 30 <= epoch < 60, 0.0005 for 60 <= epoch < 90.
    step = lambda e: get("lr_step_decay")({"lr0": 0.05, "gamma": 0.1, "step_size": 30, "epoch": e})["lr"]  # noqa: E731
    assert [step(e) for e in (0, 29, 30, 59, 60, 89)] == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005])
    # PyTorch LinearLR docs: lr = 0.05, start_factor = 0.5, total_iters = 4 ->
    # 0.025, 0.03125, 0.0375, 0.04375, then 0.05 from epoch 4 on.
    warm = [get("lr_warmup")({"lr": 0.05, "s": 0.5, "W": 4, "epoch": e})["lr_e"] for e in range(7)]
    assert warm == pytest.approx([0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05, 0.05])


# ---------------------------------------------------------------------------
# Iteration counts


def test_minibatch_iterations_match_iterated_dataloader():
    from torch.utils.data import DataLoader

    for _ in range(150):
        n, b, epochs = int(rng.integers(1, 3000)), int(rng.integers(1, 300)), int(rng.integers(1, 6))
        out = get("minibatch_iterations")({"n": n, "b": b, "epochs": epochs})
        # collate_fn=len: each batch arrives as its size (the default collate would build a tensor per batch)
        loader = DataLoader(range(n), batch_size=b, shuffle=True, generator=torch.Generator().manual_seed(n), collate_fn=len)
        sizes = list(loader)
        assert out["per_epoch"] == len(sizes) and out["last"] == sizes[-1]
        updates = sum(1 for _ in range(epochs) for _batch in loader)  # one update per mini-batch, epoch after epoch
        assert out["total"] == updates


def test_minibatch_golden():
    # Ng, deeplearning.ai Course 2 ("Mini-batch gradient descent"): m = 5,000,000 examples in
    # mini-batches of 1,000 -> 5,000 mini-batches per epoch.
    out = get("minibatch_iterations")({"n": 5_000_000, "b": 1000, "epochs": 1})
    assert out["per_epoch"] == 5000 and out["last"] == 1000
    # MNIST's 60,000 training images with batch size 64 (PyTorch's examples/mnist default) -> 938
    # batches per epoch, the last holding 60000 - 937*64 = 32 images.
    out = get("minibatch_iterations")({"n": 60000, "b": 64, "epochs": 14})
    assert (out["per_epoch"], out["last"], out["total"]) == (938, 32, 14 * 938)


# ---------------------------------------------------------------------------
# Momentum conventions (PyTorch, exponential average, bias-corrected), Nesterov, AdamW


def test_momentum_conventions_match_torch_and_the_notes():
    sgd = get("sgd_momentum_step")
    for _ in range(200):
        n = int(rng.integers(1, 5))
        theta, g, v_prev = _vec(n), _vec(n), _vec(n, -2, 2)
        mu, lr, t = float(rng.choice([0.0, 0.5, 0.9, 0.98])), float(rng.choice([0.01, 0.1, 0.5])), int(rng.integers(1, 9))
        base = {"theta": theta, "g": g, "v_prev": v_prev, "mu": mu, "lr": lr, "t": t}
        # The exponential average is torch.optim.SGD with dampening = momentum, from the loaded buffer.
        new, after = _torch_step("SGD", theta, g, {"momentum_buffer": v_prev}, lr=lr, momentum=mu, dampening=mu)
        out = sgd({**base, "convention": "ema"})
        np.testing.assert_allclose(out["v"], after["momentum_buffer"] if mu else g, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["theta_new"], new, rtol=1e-12, atol=1e-12)
        # Ng's notes (001, L88): v = beta v + (1 - beta) dW; v_corr = v / (1 - beta^t); W = W - alpha v_corr.
        v = mu * v_prev + (1 - mu) * g
        out = sgd({**base, "convention": "ema-corrected"})
        np.testing.assert_allclose(out["v"], v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["theta_new"], theta - lr * v / (1 - mu**t), rtol=1e-9, atol=1e-12)
        # The default is PyTorch's: the convention parameter left out.
        assert np.array_equal(sgd(base)["theta_new"], sgd({**base, "convention": "pytorch"})["theta_new"])


def test_momentum_golden_conventions_table_and_ng_bias_correction():
    # exercise-types.md, conventions row 1 (course notes 001 L88 vs torch.optim.SGD), by hand:
    # PyTorch v = 0.9*[0.2, 0.1] + [0.5, -1] = [0.68, -0.91] -> [0.932, -0.909];
    # EMA v = [0.23, -0.01] -> [0.977, -0.999]; corrected at t = 2 by 1 - 0.81 = 0.19 -> [0.8789, -0.9947].
    p = {"theta": [1.0, -1.0], "g": [0.5, -1.0], "v_prev": [0.2, 0.1], "mu": 0.9, "lr": 0.1, "t": 2}
    sgd = get("sgd_momentum_step")
    np.testing.assert_allclose(sgd(p)["theta_new"], [0.932, -0.909], atol=5e-5)
    np.testing.assert_allclose(sgd({**p, "convention": "ema"})["theta_new"], [0.977, -0.999], atol=5e-5)
    np.testing.assert_allclose(sgd({**p, "convention": "ema-corrected"})["theta_new"], [0.8789, -0.9947], atol=5e-5)
    # Ng, "Bias correction in exponentially weighted averages": with beta = 0.98 and v_0 = 0 the first
    # average is v_1 = 0.02 theta_1, and dividing by 1 - 0.98 gives back theta_1 itself.
    out = sgd({"theta": [0.0], "g": [40.0], "v_prev": [0.0], "mu": 0.98, "lr": 1.0, "t": 1, "convention": "ema-corrected"})
    assert out["v"][0] == pytest.approx(0.8) and out["delta"][0] == pytest.approx(-40.0)


def test_nesterov_matches_torch_optim():
    nesterov = get("nesterov_step")
    for _ in range(200):
        n = int(rng.integers(1, 5))
        theta, g, v_prev = _vec(n), _vec(n), _vec(n, -2, 2)
        mu, lr = float(rng.choice([0.5, 0.9, 0.99, 0.3])), float(rng.choice([0.01, 0.1, 0.5]))
        new, after = _torch_step("SGD", theta, g, {"momentum_buffer": v_prev}, lr=lr, momentum=mu, nesterov=True)
        out = nesterov({"theta": theta, "g": g, "v_prev": v_prev, "mu": mu, "lr": lr})
        np.testing.assert_allclose(out["v"], after["momentum_buffer"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["theta_new"], new, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out["delta"], -lr * out["d"], rtol=1e-9, atol=1e-12)


def test_nesterov_golden_bengio_reformulation():
    # Bengio, Boulanger-Lewandowski & Pascanu (2012), "Advances in optimizing recurrent networks", Eq. 7:
    # Nesterov momentum as theta_t = theta_{t-1} + mu^2 V_{t-1} - (1 + mu) eps g_t, with their velocity
    # V = -eps v (v PyTorch's buffer). So theta_t = theta - lr (1 + mu) g - lr mu^2 v_prev.
    theta, g, v_prev, mu, lr = np.array([1.0, -0.5]), np.array([0.4, 2.0]), np.array([0.3, -1.0]), 0.9, 0.1
    out = get("nesterov_step")({"theta": theta, "g": g, "v_prev": v_prev, "mu": mu, "lr": lr})
    np.testing.assert_allclose(out["theta_new"], theta - lr * (1 + mu) * g - lr * mu**2 * v_prev, rtol=1e-12)
    # Hand-worked: v = 0.9*0.3 + 0.4 = 0.67, d = 0.4 + 0.9*0.67 = 1.003, theta = 1 - 0.1003 = 0.8997.
    assert out["theta_new"][0] == pytest.approx(0.8997)


def test_adamw_and_adam_l2_match_torch_optim():
    adamw = get("adamw_step")
    for _ in range(200):
        n = int(rng.integers(1, 4))
        theta, g = _vec(n), _vec(n)
        t = int(rng.integers(1, 6))
        lr, wd = float(rng.choice([0.1, 0.01, 0.001])), float(rng.choice([0.0, 0.01, 0.1, 1.0]))
        p = {"theta": theta, "g": g, "lr": lr, "wd": wd, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "t": t,
             "m_prev": np.zeros(n), "v_prev": np.zeros(n)}
        state = {}
        if t > 1:
            p.update(m_prev=_vec(n, -1, 1), v_prev=np.round(rng.uniform(0, 0.05, n), 4))
            state = {"step": t - 1, "exp_avg": p["m_prev"], "exp_avg_sq": p["v_prev"]}
        for decay, opt_name in (("decoupled", "AdamW"), ("l2", "Adam")):
            new, after = _torch_step(opt_name, theta, g, state, lr=lr, weight_decay=wd)
            out = adamw({**p, "decay": decay})
            np.testing.assert_allclose(out["theta_new"], new, rtol=1e-12, atol=1e-15, err_msg=decay)
            np.testing.assert_allclose(out["m"], after["exp_avg"], rtol=1e-12, atol=1e-15, err_msg=decay)
            np.testing.assert_allclose(out["v"], after["exp_avg_sq"], rtol=1e-12, atol=1e-15, err_msg=decay)
            # the moments average the gradient the template says they see
            m_prev = p["m_prev"]
            np.testing.assert_allclose(out["m"], 0.9 * m_prev + 0.1 * out["g_eff"], rtol=1e-12, atol=1e-15)


def test_adamw_golden_loshchilov_hutter():
    adamw = get("adamw_step")
    # PyTorch docs: AdamW's default weight_decay is 1e-2, Adam's is 0 (the L2 form is opt-in).
    assert torch.optim.AdamW([torch.zeros(1, requires_grad=True)]).defaults["weight_decay"] == 0.01
    assert torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults["weight_decay"] == 0
    # Loshchilov & Hutter (2019), Eq. 1: decoupled weight decay alone is theta <- (1 - lambda) theta
    # (with PyTorch's AdamW, lambda is scaled by the learning rate). With a zero gradient the AdamW step
    # is exactly that shrink: theta = [2, -1], lr = 0.1, wd = 0.5 -> [1.9, -0.95].
    p = {"theta": [2.0, -1.0], "g": [0.0, 0.0], "lr": 0.1, "wd": 0.5, "b1": 0.9, "b2": 0.999, "eps": 1e-8,
         "t": 1, "m_prev": [0.0, 0.0], "v_prev": [0.0, 0.0]}
    np.testing.assert_allclose(adamw({**p, "decay": "decoupled"})["theta_new"], [1.9, -0.95], rtol=1e-12)
    # Their Sec. 2: with L2 in Adam the decay term is normalized by sqrt(v_hat) like any gradient, so at
    # t = 1 it moves every weight by about lr whatever lambda is: [2 - 0.1, -1 + 0.1] (up to epsilon).
    for wd in (0.5, 0.001):
        np.testing.assert_allclose(adamw({**p, "wd": wd, "decay": "l2"})["theta_new"], [1.9, -0.9], rtol=1e-4)


# ---------------------------------------------------------------------------
# RMSprop's epsilon, LeCun initialization, dropout's keep probability


def test_rmsprop_epsilon_inside_matches_tensorflow1_formula():
    rms = get("rmsprop_step")
    for _ in range(200):
        n = int(rng.integers(1, 4))
        theta, g, s_prev = _vec(n), _vec(n), np.round(rng.uniform(0, 3, n), 2)
        rho, lr, eps = float(rng.choice([0.9, 0.99])), float(rng.choice([0.01, 0.1])), float(rng.choice([1e-8, 0.1, 1.0]))
        out = rms({"theta": theta, "g": g, "s_prev": s_prev, "rho": rho, "lr": lr, "eps": eps, "eps_at": "inside"})
        # tf.compat.v1.train.RMSPropOptimizer: ms = rho ms + (1 - rho) g^2; var -= lr g / sqrt(ms + epsilon)
        s = rho * s_prev + (1 - rho) * g**2
        np.testing.assert_allclose(out["theta_new"], theta - lr * g / np.sqrt(s + eps), rtol=1e-12, atol=1e-12)


def test_rmsprop_golden_conventions_table():
    # exercise-types.md, conventions row 2 (Ng's notes 001 L99 against torch.optim.RMSprop): with
    # eps = 1e-8 both placements give [0.3652, -0.3246].
    p = {"theta": [0.5, -0.5], "g": [1.0, -2.0], "s_prev": [0.5, 1.0], "rho": 0.9, "lr": 0.1, "eps": 1e-8}
    for eps_at in ("outside", "inside"):
        np.testing.assert_allclose(get("rmsprop_step")({**p, "eps_at": eps_at})["theta_new"], [0.3652, -0.3246], atol=5e-5)


def test_init_lecun_equals_kaiming_linear_and_golden():
    init = get("init_std")
    for _ in range(50):
        c_in, c_out, k = int(rng.integers(1, 300)), int(rng.integers(1, 300)), int(rng.integers(1, 8))
        weight = torch.empty(c_out, c_in, k, k, device="meta")
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(weight)
        std = torch.nn.init.calculate_gain("linear") / math.sqrt(fan_in)  # kaiming_normal_(nonlinearity="linear")
        assert init({"scheme": "lecun", "c_in": c_in, "c_out": c_out, "k": k})["std"] == std
    # LeCun, Bottou, Orr & Mueller (1998), Efficient BackProp, Sec. 4.6: std = fan_in^(-1/2); Ng's "Xavier"
    # for 100 inputs is sqrt(1/100) = 0.1 (exercise-types.md conventions row 4), Glorot's 0.1155.
    assert init({"scheme": "lecun", "c_in": 100, "c_out": 50, "k": 1})["std"] == pytest.approx(0.1)
    assert init({"scheme": "xavier", "c_in": 100, "c_out": 50, "k": 1})["std"] == pytest.approx(0.11547, abs=5e-6)
    # PyTorch's nn.init docs: for SELU use nonlinearity="linear" (gain 1), i.e. variance 1/fan_in
    # (Klambauer et al. 2017), not calculate_gain("selu") = 3/4.
    assert torch.nn.init.calculate_gain("selu") == 0.75 and torch.nn.init.calculate_gain("linear") == 1


def test_dropout_keep_prob_convention():
    drop = get("inverted_dropout")
    for _ in range(100):
        q = float(np.round(rng.uniform(0.05, 1.0), 2))
        a, mask = _vec(5), rng.integers(0, 2, 5).astype(float)
        ng = drop({"a": a, "mask": mask, "p": q, "convention": "ng"})
        pt = drop({"a": a, "mask": mask, "p": 1 - q})
        np.testing.assert_allclose(ng["y"], pt["y"], rtol=1e-12)
        np.testing.assert_allclose(ng["Ey"], a, rtol=1e-12, atol=1e-15)
    # Ng's course (inverted dropout, keep_prob = 0.8): a3 = a3 * d3 / keep_prob scales kept units by 1.25.
    out = drop({"a": [1.0, 2.0, 4.0], "mask": [1.0, 0.0, 1.0], "p": 0.8, "convention": "ng"})
    assert out["scale"] == 1.25 and out["q"] == 0.8
    np.testing.assert_allclose(out["y"], [1.25, 0.0, 5.0])


# ---------------------------------------------------------------------------
# Schedules: numbering, closed forms at large epochs, cosine


def test_schedules_closed_form_agrees_with_stepping_at_the_switch():
    """Up to SIMULATED_EPOCHS the schedules are stepped, beyond it their closed form is used: both sides
    of the switch follow the schedules' formulas."""
    formulas = {
        "exponential": lambda k: 0.5 * 0.9999**k,
        "inverse_time": lambda k: 0.5 / (1 + 0.9999 * k),
        "inverse_sqrt": lambda k: 0.5 * 0.9999 / math.sqrt(k),
    }
    for schedule, formula in formulas.items():
        for epoch in (lr_schedules.SIMULATED_EPOCHS, lr_schedules.SIMULATED_EPOCHS + 1):
            out = get("lr_decay")({"schedule": schedule, "lr0": 0.5, "c": 0.9999, "epoch": epoch})
            assert out["lr"] == pytest.approx(formula(epoch), rel=1e-9), (schedule, epoch)
    e = lr_schedules.SIMULATED_EPOCHS
    for epoch in (e, e + 1, e + 7):
        step = get("lr_step_decay")({"lr0": 1.0, "gamma": 0.999, "step_size": 7, "epoch": epoch})
        assert step["drops"] == epoch // 7 and step["lr"] == pytest.approx(0.999 ** (epoch // 7), rel=1e-9)
        warm = get("lr_warmup")({"lr": 0.1, "s": 0.5, "W": e + 3, "epoch": epoch})
        assert warm["lr_e"] == pytest.approx(0.1 * (0.5 + 0.5 * min(epoch, e + 3) / (e + 3)), rel=1e-9)
        for schedule, mult in (("annealing", 1), ("restarts", 1), ("restarts", 2)):
            cos = get("lr_cosine")({"schedule": schedule, "lr": 1.0, "T_0": 333, "T_mult": mult, "epoch": epoch})
            assert 0 <= cos["T_cur"] < cos["T_i"] or schedule == "annealing"
            assert cos["lr_e"] == pytest.approx(0.5 * (1 + math.cos(math.pi * cos["T_cur"] / cos["T_i"])), abs=1e-9)


def test_schedules_at_huge_epochs_do_not_loop_and_count_every_drop():
    import time

    start = time.perf_counter()
    # epoch 2000 with gamma 0.1 every 2 epochs: the rate underflows to 0 long before the last drop,
    # which must still be counted (an older oracle counted only visible changes and disagreed).
    out = get("lr_step_decay")({"lr0": 0.1, "gamma": 0.1, "step_size": 2, "epoch": 2000})
    assert out["drops"] == 1000 and out["lr"] == 0.0
    out = get("lr_step_decay")({"lr0": 0.1, "gamma": 0.5, "step_size": 3, "epoch": 10**9})
    assert out["drops"] == 10**9 // 3
    assert get("lr_decay")({"schedule": "inverse_time", "lr0": 0.2, "c": 1.0, "epoch": 10**9})["lr"] == pytest.approx(0.2 / (1 + 10**9))
    assert get("lr_warmup")({"lr": 0.05, "s": 0.5, "W": 4, "epoch": 10**9})["lr_e"] == 0.05
    assert get("lr_cosine")({"schedule": "restarts", "lr": 1.0, "T_0": 1, "T_mult": 3, "epoch": 10**9})["T_i"] == 3**19  # (3^19 - 1)/2 <= 10^9 < (3^20 - 1)/2
    assert time.perf_counter() - start < 1.0


def test_lr_decay_golden_ng_numbering():
    # Ng's numbers (alpha0 = 0.2, decay rate 1: 0.1, 0.067, 0.05, 0.04 in epochs 1-4) count epoch 1 as
    # decayed once; with PyTorch's numbering the same schedule runs 0.2, 0.1, 0.067, 0.05.
    got = [get("lr_decay")({"schedule": "inverse_time", "lr0": 0.2, "c": 1.0, "epoch": e, "first_epoch": "undecayed"})["lr"]
           for e in (1, 2, 3, 4)]
    np.testing.assert_allclose(got, [0.2, 0.1, 0.0667, 0.05], atol=5e-5)


def test_cosine_schedules_equal_torch_lr_scheduler():
    sched = torch.optim.lr_scheduler
    for _ in range(60):
        lr0, eta_min = float(rng.choice([0.1, 1.0, 0.05])), float(rng.choice([0.0, 0.001, 0.01]))
        t_0, mult, epochs = int(rng.integers(1, 12)), int(rng.choice([1, 2, 3])), int(rng.integers(1, 60))
        rates = _torch_schedule(lr0, lambda opt: sched.CosineAnnealingLR(opt, T_max=t_0, eta_min=eta_min), epochs)
        for epoch in range(epochs + 1):
            out = get("lr_cosine")({"schedule": "annealing", "lr": lr0, "eta_min": eta_min, "T_0": t_0, "epoch": epoch})
            assert out["lr_e"] == pytest.approx(rates[epoch], rel=1e-12, abs=1e-15), (t_0, epoch)
        rates = _torch_schedule(lr0, lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=t_0, T_mult=mult, eta_min=eta_min), epochs)
        for epoch in range(epochs + 1):
            out = get("lr_cosine")({"schedule": "restarts", "lr": lr0, "eta_min": eta_min, "T_0": t_0, "T_mult": mult, "epoch": epoch})
            assert out["lr_e"] == pytest.approx(rates[epoch], rel=1e-12, abs=1e-15), (t_0, mult, epoch)


def test_cosine_golden_sgdr_restarts():
    # Loshchilov & Hutter (2017), SGDR, Sec. 3 and Fig. 1: with T_0 = 10 and T_mult = 2 the cycles last
    # 10, 20, 40, 80 epochs, so warm restarts (back to eta_max) happen at epochs 10, 30, 70 and 150.
    cosine = get("lr_cosine")
    for restarts, epoch in enumerate((10, 30, 70, 150), start=1):
        out = cosine({"schedule": "restarts", "lr": 0.05, "T_0": 10, "T_mult": 2, "epoch": epoch})
        assert (out["cycle"], out["T_cur"], out["T_i"], out["lr_e"]) == (restarts, 0, 10 * 2**restarts, 0.05)
    # PyTorch's CosineAnnealingLR docs formula: halfway through (T_cur = T_max / 2) the rate is the
    # mean of eta_max and eta_min; at T_max it is eta_min.
    assert cosine({"schedule": "annealing", "lr": 0.1, "eta_min": 0.02, "T_0": 10, "epoch": 5})["lr_e"] == pytest.approx(0.06)
    assert cosine({"schedule": "annealing", "lr": 0.1, "eta_min": 0.02, "T_0": 10, "epoch": 10})["lr_e"] == pytest.approx(0.02)


def test_minibatch_drop_last_matches_dataloader_and_costs_nothing_at_huge_n():
    from torch.utils.data import DataLoader

    for _ in range(100):
        n, b = int(rng.integers(1, 2000)), int(rng.integers(1, 300))
        if b > n:
            continue
        out = get("minibatch_iterations")({"n": n, "b": b, "epochs": 2, "drop_last": "true"})
        sizes = [len(batch) for batch in DataLoader(np.zeros(n), batch_size=b, drop_last=True)]
        assert out["per_epoch"] == len(sizes) and out["last"] == sizes[-1] and out["total"] == 2 * len(sizes)
    # n = 10^8 examples in batches of 1 (an older oracle built every index: gigabytes).
    import tracemalloc

    tracemalloc.start()
    out = get("minibatch_iterations")({"n": 10**8, "b": 1, "epochs": 3})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out == {"per_epoch": 10**8, "last": 1, "total": 3 * 10**8} and peak < 10**6


def test_case_of_a_coded_word_reads_formulas_values():
    # A cases word with codes is its number in what formulas see (constraints test the convention).
    template = get_template("sgd-momentum-step")
    assert template.case_of({"convention": "ema-corrected"}) == "ema-corrected"
    assert template.case_of(template.env({"convention": "ema-corrected"})) == "ema-corrected"
    assert template.case_of({"convention": 1.0}) == "pytorch"
