"""Oracles for optimisation: optimizer steps, learning-rate schedules, regularisation,
initialisation and iteration counts.

Every optimizer step is one real ``torch.optim`` step on a float64 tensor whose
``.grad`` is the given gradient; steps after the first are taken by loading the
given moment estimates into the optimizer's state, exactly as torch stores them.
Schedules are real ``torch.optim.lr_scheduler`` objects stepped once per epoch.
torch is imported inside the functions so listing problems stays fast.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from dlstudy.oracles import register


def _vec(value: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(value, dtype=float))


def _torch_step(opt_name: str, theta: Any, grad: Any, state: Mapping[str, Any], **options: Any):
    """One step of ``torch.optim.<opt_name>`` from ``theta`` with gradient ``grad``.

    ``state`` is loaded into the optimizer first (arrays become float64 tensors,
    ``step`` a scalar tensor as torch keeps it).  Returns (new theta, state after the step).
    """
    import torch

    param = torch.tensor(_vec(theta), dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, opt_name)([param], foreach=False, **options)
    if state:
        loaded = {}
        for key, value in state.items():
            if key == "step":
                loaded[key] = torch.tensor(float(value))
            else:
                loaded[key] = torch.tensor(_vec(value), dtype=torch.float64)
        optimizer.state[param] = loaded
    param.grad = torch.tensor(_vec(grad), dtype=torch.float64)
    optimizer.step()
    after = {
        k: (v.detach().numpy().copy() if v.ndim else float(v)) for k, v in optimizer.state[param].items()
    }
    return param.detach().numpy().copy(), after


# ---------------------------------------------------------------------------
# Optimizer steps


@register("adam_step")
def adam_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One torch.optim.Adam step at step number t (t = 1 when no earlier moments are given)."""
    theta = _vec(p["theta"])
    t = int(p.get("t", 1))
    b1, b2 = float(p["b1"]), float(p["b2"])
    state = {}
    if t > 1:
        state = {"step": t - 1, "exp_avg": p["m_prev"], "exp_avg_sq": p["v_prev"]}
    new, after = _torch_step(
        "Adam", theta, p["g"], state, lr=float(p["lr"]), betas=(b1, b2), eps=float(p["eps"])
    )
    step = after["step"]  # torch's own step counter, now t
    m, v = after["exp_avg"], after["exp_avg_sq"]
    return {
        "m": m,
        "v": v,
        "m_hat": m / (1.0 - b1**step),
        "v_hat": v / (1.0 - b2**step),
        "delta": new - theta,
        "theta_new": new,
    }


@register("sgd_momentum_step")
def sgd_momentum_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One torch.optim.SGD step with momentum (dampening 0), velocity buffer given."""
    theta, mu = _vec(p["theta"]), float(p["mu"])
    new, after = _torch_step("SGD", theta, p["g"], {"momentum_buffer": p["v_prev"]}, lr=float(p["lr"]), momentum=mu)
    # With momentum 0 torch keeps no buffer and steps along the raw gradient.
    velocity = after["momentum_buffer"] if mu > 0 else _vec(p["g"])
    return {"v": velocity, "delta": new - theta, "theta_new": new}


@register("rmsprop_step")
def rmsprop_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One torch.optim.RMSprop step (no momentum, not centred) from a given square average."""
    theta = _vec(p["theta"])
    new, after = _torch_step(
        "RMSprop",
        theta,
        p["g"],
        {"step": 1, "square_avg": p["s_prev"]},
        lr=float(p["lr"]),
        alpha=float(p["rho"]),
        eps=float(p["eps"]),
    )
    return {"s": after["square_avg"], "delta": new - theta, "theta_new": new}


@register("adagrad_step")
def adagrad_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One torch.optim.Adagrad step from a given accumulated sum of squared gradients."""
    theta = _vec(p["theta"])
    new, after = _torch_step(
        "Adagrad", theta, p["g"], {"step": 1, "sum": p["G_prev"]}, lr=float(p["lr"]), eps=float(p["eps"])
    )
    return {"G": after["sum"], "delta": new - theta, "theta_new": new}


# ---------------------------------------------------------------------------
# Regularisation


@register("l2_regularized_step")
def l2_regularized_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Autograd through J = dw.w + lam/(2m)||w||^2, then a real torch.optim.SGD step.

    ``dw`` is the gradient of the unregularised cost at ``w``, so the linear
    term reproduces it exactly; the penalty's gradient comes from autograd.
    """
    import torch

    w = torch.tensor(_vec(p["w"]), dtype=torch.float64, requires_grad=True)
    dw = torch.tensor(_vec(p["dw"]), dtype=torch.float64)
    penalty = float(p["lam"]) / (2.0 * float(p["m"])) * (w**2).sum()
    (reg_grad,) = torch.autograd.grad(penalty, w, retain_graph=True)
    cost = (dw * w).sum() + penalty
    optimizer = torch.optim.SGD([w], lr=float(p["lr"]))
    cost.backward()
    grad = w.grad.detach().numpy().copy()
    optimizer.step()
    return {
        "penalty": float(penalty.detach()),
        "reg_grad": reg_grad.numpy().copy(),
        "grad": grad,
        "w_new": w.detach().numpy().copy(),
    }


@register("inverted_dropout")
def inverted_dropout(p: Mapping[str, Any]) -> dict[str, Any]:
    """Inverted dropout with a given keep mask; the scale is read off torch's own dropout.

    torch.nn.functional.dropout on a vector of ones returns 0 for dropped units and
    the training-time scale for kept ones (of 4096 units, some are always kept
    for p <= 0.99).  The
    expectation averages the two outcomes of each unit's mask, weighted by their
    probabilities.
    """
    import torch

    drop = float(p["p"])
    a, mask = _vec(p["a"]), _vec(p["mask"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        out = torch.nn.functional.dropout(torch.ones(4096, dtype=torch.float64), drop, training=True)
    scale = float(out.max())
    outcomes = np.stack([a * 1.0 * scale, a * 0.0])  # unit kept, unit dropped
    expected = np.array([1.0 - drop, drop]) @ outcomes
    return {"scale": scale, "y": a * mask * scale, "Ey": expected}


# ---------------------------------------------------------------------------
# Initialisation


@lru_cache(maxsize=256)
def _init_numbers(scheme: str, c_in: int, c_out: int, k: int) -> tuple[int, int, float]:
    """Fans of a real Conv2d weight and the std torch.nn.init hands to ``normal_``.

    A TorchFunctionMode intercepts the ``Tensor.normal_(mean, std)`` call that
    ``xavier_normal_`` / ``kaiming_normal_`` make and records its std (the
    weight lives on the meta device, so nothing is sampled).
    """
    import torch
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


@register("init_std")
def init_std(p: Mapping[str, Any]) -> dict[str, Any]:
    """Fans and the normal std that torch.nn.init uses for a Conv2d's weight (Xavier or He/ReLU)."""
    fan_in, fan_out, std = _init_numbers(str(p["scheme"]), int(p["c_in"]), int(p["c_out"]), int(p["k"]))
    return {"fan_in": fan_in, "fan_out": fan_out, "var": std * std, "std": std}


# ---------------------------------------------------------------------------
# Learning-rate schedules


def _run_schedule(lr0: float, make, epochs: int) -> float:
    """The learning rate after ``epochs`` epochs of a real torch scheduler."""
    import torch

    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = make(torch.optim.lr_scheduler, optimizer)
    for _ in range(epochs):
        optimizer.step()  # no gradient: leaves the parameter alone, keeps the scheduler's order check happy
        scheduler.step()
    return float(optimizer.param_groups[0]["lr"])


@register("lr_decay")
def lr_decay(p: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse-time, exponential or inverse-square-root decay, epochs numbered from 1."""
    lr0, c, epoch, schedule = float(p["lr0"]), float(p["c"]), int(p["epoch"]), str(p["schedule"])
    if schedule == "exponential":
        make = lambda sched, opt: sched.ExponentialLR(opt, gamma=c)  # noqa: E731
    elif schedule == "inverse_time":
        make = lambda sched, opt: sched.LambdaLR(opt, lambda e: 1.0 / (1.0 + c * e))  # noqa: E731
    elif schedule == "inverse_sqrt":
        make = lambda sched, opt: sched.LambdaLR(opt, lambda e: c / math.sqrt(e) if e else 1.0)  # noqa: E731
    else:
        raise ValueError(f"unknown schedule {schedule!r}")
    lr = _run_schedule(lr0, make, epoch)
    return {"factor": lr / lr0, "lr": lr}


@register("lr_step_decay")
def lr_step_decay(p: Mapping[str, Any]) -> dict[str, Any]:
    """torch.optim.lr_scheduler.StepLR, counting the drops as they happen."""
    import torch

    lr0, gamma = float(p["lr0"]), float(p["gamma"])
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(p["step_size"]), gamma=gamma)
    drops, lr = 0, lr0
    for _ in range(int(p["epoch"])):
        optimizer.step()
        scheduler.step()
        new = optimizer.param_groups[0]["lr"]
        drops += new != lr
        lr = new
    return {"drops": drops, "lr": float(lr)}


@register("lr_warmup")
def lr_warmup(p: Mapping[str, Any]) -> dict[str, Any]:
    """torch.optim.lr_scheduler.LinearLR from start_factor s up to 1 over W epochs."""
    lr, s, w, epoch = float(p["lr"]), float(p["s"]), int(p["W"]), int(p["epoch"])
    make = lambda sched, opt: sched.LinearLR(opt, start_factor=s, end_factor=1.0, total_iters=w)  # noqa: E731
    now = _run_schedule(lr, make, epoch)
    factor = now / lr
    return {"frac": (factor - s) / (1.0 - s), "factor": factor, "lr_e": now}


# ---------------------------------------------------------------------------
# Iteration counts


@register("minibatch_iterations")
def minibatch_iterations(p: Mapping[str, Any]) -> dict[str, Any]:
    """Batches per epoch from a real torch DataLoader; last batch size from the split indices."""
    from torch.utils.data import DataLoader

    n, b, epochs = int(p["n"]), int(p["b"]), int(p["epochs"])
    per_epoch = len(DataLoader(range(n), batch_size=b))
    starts = np.arange(n)[::b]  # first index of each mini-batch
    last = int(n - starts[-1])
    return {"per_epoch": per_epoch, "last": last, "total": epochs * per_epoch}
