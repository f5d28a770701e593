"""Oracles for optimisation: optimizer steps, learning-rate schedules, regularisation,
initialisation and iteration counts.

Everything here runs in NumPy, doing the operation the way PyTorch does it:

* optimizer steps keep the optimizer's state arrays (``exp_avg``, ``square_avg``,
  ``momentum_buffer``, ...) and update them with the same in-place operations,
  in the same order, as the single-tensor ``step()`` of ``torch.optim.Adam``,
  ``SGD``, ``RMSprop`` and ``Adagrad``; later steps start from the given state,
  as if it had been loaded into the optimizer;
* schedules are simulated epoch by epoch: a small scheduler object holds
  ``last_epoch`` and the group's ``lr`` and applies the per-step rule of
  ``LambdaLR``, ``ExponentialLR``, ``StepLR`` or ``LinearLR``'s ``get_lr``;
* iteration counts split an index array into mini-batches as a DataLoader's
  ``BatchSampler`` does (the last one partial) and count them.

torch's CPU kernels for ``lerp``, ``addcmul`` and ``add(alpha=...)`` round once
through a fused multiply-add on every x86-64 CPU with AVX2 (the builds torch
dispatches to there); ``_fma`` does the same, so the values agree with torch to
the last bit.  ``tests/test_oracles_optim.py`` cross-checks each oracle against
the real torch.optim / lr_scheduler / DataLoader / nn.init.

No torch import here: building the first torch.optim optimizer imports
torch._dynamo, which alone costs most of a second.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


def _vec(value: Any) -> np.ndarray:
    return np.atleast_1d(np.array(value, dtype=float))


# ---------------------------------------------------------------------------
# The in-place tensor operations torch.optim is written in


def _fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """``a*b + c`` element-wise with a single rounding (a fused multiply-add).

    The product and sum are done exactly in rationals and rounded once, which is
    what the FMA instruction in torch's vectorised CPU kernels does.
    """
    a, b, c = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (a, b, c)))
    if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(c).all()):
        return a * b + c  # inf/nan propagate the same way; nothing to round
    out = []
    for x, y, z in zip(a.flat, b.flat, c.flat):
        exact = Fraction(x) * Fraction(y) + Fraction(z)
        # An exact 0 keeps IEEE's sign of zero, which the plain x*y + z gets right there.
        out.append(float(exact) if exact else x * y + z)
    return np.array(out, dtype=float).reshape(a.shape)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """``start.lerp_(end, weight)``: ATen's lerp, from the nearer end for numerical accuracy."""
    if abs(weight) < 0.5:
        start[...] = _fma(weight, end - start, start)
    else:
        start[...] = _fma(weight - 1.0, end - start, end)
    return start


def _addcmul_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1.0) -> np.ndarray:
    """``x.addcmul_(t1, t2, value=value)``: x + value*t1*t2."""
    x[...] = _fma(value * t1, t2, x)
    return x


def _addcdiv_(x: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1.0) -> np.ndarray:
    """``x.addcdiv_(t1, t2, value=value)``: x + value*t1/t2."""
    x[...] = x + value * t1 / t2
    return x


def _add_(x: np.ndarray, other: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``x.add_(other, alpha=alpha)``: x + alpha*other."""
    x[...] = _fma(alpha, other, x)
    return x


def _mul_(x: np.ndarray, factor: float) -> np.ndarray:
    """``x.mul_(factor)``."""
    x *= factor
    return x


# ``x.sqrt()``.  IEEE square root, correctly rounded; torch's CPU kernel (MKL's vdSqrt in
# high-accuracy mode) is within one unit in the last place of it and differs on
# about 0.6% of inputs.  The tests swap in torch's own to compare bit for bit.
_sqrt = np.sqrt


# ---------------------------------------------------------------------------
# Optimizers: one step of the single-tensor implementation, on a state dict
# (RMSprop and Adagrad are always given theirs, so only Adam initialises its own)


def _adam_step(param, grad, state, *, lr, betas, eps):
    """``torch.optim.Adam.step()`` (no weight decay, no AMSGrad) for one parameter tensor."""
    beta1, beta2 = betas
    if not state:  # the optimizer's lazy state initialisation
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    state["step"] += 1
    _lerp_(exp_avg, grad, 1 - beta1)
    _addcmul_(_mul_(exp_avg_sq, beta2), grad, grad, value=1 - beta2)
    step = state["step"]
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    denom = _sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    _addcdiv_(param, exp_avg, denom, value=-step_size)


def _sgd_step(param, grad, state, *, lr, momentum=0.0, dampening=0.0):
    """``torch.optim.SGD.step()`` (no weight decay, no Nesterov) for one parameter tensor."""
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = grad.copy()
        else:
            _add_(_mul_(buf, momentum), grad, alpha=1 - dampening)
        grad = buf
    _add_(param, grad, alpha=-lr)


def _rmsprop_step(param, grad, state, *, lr, alpha, eps):
    """``torch.optim.RMSprop.step()`` (no momentum, not centred, no weight decay) for one tensor."""
    square_avg = state["square_avg"]
    state["step"] += 1
    _addcmul_(_mul_(square_avg, alpha), grad, grad, value=1 - alpha)
    avg = _sqrt(square_avg) + eps
    _addcdiv_(param, grad, avg, value=-lr)


def _adagrad_step(param, grad, state, *, lr, eps, lr_decay=0.0):
    """``torch.optim.Adagrad.step()`` (no weight decay) for one parameter tensor."""
    state_sum = state["sum"]
    state["step"] += 1
    step = state["step"]
    clr = lr / (1 + (step - 1) * lr_decay)
    _addcmul_(state_sum, grad, grad, value=1)
    std = _sqrt(state_sum) + eps
    _addcdiv_(param, grad, std, value=-clr)


def _step(update, theta: Any, grad: Any, state: Mapping[str, Any], **options: Any):
    """One optimizer step from ``theta`` with gradient ``grad`` and the given state
    (arrays copied in as float64, ``step`` as a float, as torch stores them).

    Returns (new theta, state after the step)."""
    param = _vec(theta).copy()
    loaded = {k: float(v) if k == "step" else _vec(v).copy() for k, v in state.items()}
    update(param, _vec(grad), loaded, **options)
    return param, loaded


# ---------------------------------------------------------------------------
# Optimizer steps


@register("adam_step")
def adam_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One Adam step at step number t (t = 1 when no earlier moments are given)."""
    theta = _vec(p["theta"])
    t = int(p.get("t", 1))
    b1, b2 = float(p["b1"]), float(p["b2"])
    state = {}
    if t > 1:
        state = {"step": t - 1, "exp_avg": p["m_prev"], "exp_avg_sq": p["v_prev"]}
    new, after = _step(_adam_step, theta, p["g"], state, lr=float(p["lr"]), betas=(b1, b2), eps=float(p["eps"]))
    step = after["step"]  # the optimizer's own step counter, now t
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
    """One SGD step with momentum (dampening 0), velocity buffer given."""
    theta, mu = _vec(p["theta"]), float(p["mu"])
    new, after = _step(_sgd_step, theta, p["g"], {"momentum_buffer": p["v_prev"]}, lr=float(p["lr"]), momentum=mu)
    # With momentum 0 SGD keeps no buffer and steps along the raw gradient.
    velocity = after["momentum_buffer"] if mu != 0 else _vec(p["g"])
    return {"v": velocity, "delta": new - theta, "theta_new": new}


@register("rmsprop_step")
def rmsprop_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One RMSprop step (no momentum, not centred) from a given square average."""
    theta = _vec(p["theta"])
    new, after = _step(
        _rmsprop_step,
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
    """One Adagrad step from a given accumulated sum of squared gradients."""
    theta = _vec(p["theta"])
    new, after = _step(
        _adagrad_step, theta, p["g"], {"step": 1, "sum": p["G_prev"]}, lr=float(p["lr"]), eps=float(p["eps"])
    )
    return {"G": after["sum"], "delta": new - theta, "theta_new": new}


# ---------------------------------------------------------------------------
# Regularisation


@register("l2_regularized_step")
def l2_regularized_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Forward and backward pass through J = dw.w + lam/(2m)||w||^2, then a plain SGD step.

    ``dw`` is the gradient of the unregularised cost at ``w``, so the linear
    term gives it back exactly.  The backward pass is reverse-mode, node by node
    as autograd runs it: the penalty's scale, the sum, then w**2.
    """
    w, dw = _vec(p["w"]), _vec(p["dw"])
    scale = float(p["lam"]) / (2.0 * float(p["m"]))
    # forward
    squares = w**2
    penalty = scale * np.sum(squares)
    # backward from the penalty: d(scale*s)/ds = scale, d(sum)/d(squares) = 1, d(w**2)/dw = 2*w**1
    upstream = np.full_like(w, 1.0 * scale)
    reg_grad = upstream * (2.0 * w**1.0)
    # backward from the linear term d(dw.w)/dw = dw; the two paths meet in w's gradient
    grad = dw * 1.0 + reg_grad
    new = w.copy()
    _sgd_step(new, grad, {}, lr=float(p["lr"]))
    return {"penalty": float(penalty), "reg_grad": reg_grad, "grad": grad, "w_new": new}


@register("inverted_dropout")
def inverted_dropout(p: Mapping[str, Any]) -> dict[str, Any]:
    """Inverted dropout with a given keep mask; the scale is read off a dropout pass over ones.

    Dropout as ``nn.Dropout`` does it in training: a Bernoulli(1 - p) keep mask,
    divided by 1 - p, multiplies the input.  On a vector of ones the output is 0
    for dropped units and the scale for kept ones (of 4096 units, some are
    always kept for p <= 0.99).  The expectation averages the two outcomes of
    each unit's mask, weighted by their probabilities.
    """
    drop = float(p["p"])
    a, mask = _vec(p["a"]), _vec(p["mask"])
    ones = np.ones(4096)
    if drop == 0:
        out = ones  # dropout with p = 0 is the identity
    elif drop == 1:
        out = ones * 0.0  # and with p = 1 it zeroes everything
    else:
        noise = (np.random.default_rng(0).random(ones.shape) < 1 - drop).astype(float)  # bernoulli_(1 - p)
        noise /= 1 - drop
        out = ones * noise
    scale = float(out.max())
    outcomes = np.stack([a * 1.0 * scale, a * 0.0])  # unit kept, unit dropped
    expected = np.array([1.0 - drop, drop]) @ outcomes
    return {"scale": scale, "y": a * mask * scale, "Ey": expected}


# ---------------------------------------------------------------------------
# Initialisation


def _fan_in_and_fan_out(weight: np.ndarray) -> tuple[int, int]:
    """Fans of a weight tensor as torch.nn.init counts them: dim 1 (inputs) and dim 0
    (outputs), each times the receptive field (the product of the remaining dims)."""
    receptive_field_size = 1
    for s in weight.shape[2:]:
        receptive_field_size *= s
    return weight.shape[1] * receptive_field_size, weight.shape[0] * receptive_field_size


@register("init_std")
def init_std(p: Mapping[str, Any]) -> dict[str, Any]:
    """Fans of a Conv2d weight and the normal std that nn.init uses for it (Xavier or He/ReLU).

    The weight has Conv2d's layout (out_channels, in_channels, k, k) (a zero-stride
    view: only its shape matters); the std is computed as ``xavier_normal_``
    (gain 1) and ``kaiming_normal_`` (fan_in mode, ReLU gain sqrt(2)) compute it.
    """
    scheme, c_in, c_out, k = str(p["scheme"]), int(p["c_in"]), int(p["c_out"]), int(p["k"])
    weight = np.broadcast_to(np.float64(0.0), (c_out, c_in, k, k))
    fan_in, fan_out = _fan_in_and_fan_out(weight)
    if scheme == "xavier":
        gain = 1.0
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    else:
        gain = math.sqrt(2.0)  # calculate_gain("relu")
        std = gain / math.sqrt(fan_in)
    return {"fan_in": int(fan_in), "fan_out": int(fan_out), "var": std * std, "std": std}


# ---------------------------------------------------------------------------
# Learning-rate schedules


class _Scheduler:
    """An lr_scheduler on one parameter group: ``last_epoch`` and the group's ``lr``.

    Construction takes the initial step (``last_epoch`` -1 -> 0); each ``step()``
    advances ``last_epoch`` by one and sets ``lr`` to the subclass's ``get_lr()``.
    """

    def __init__(self, lr: float) -> None:
        self.base_lr = self.lr = lr
        self.last_epoch = -1
        self.initial = True
        self.step()
        self.initial = False

    def step(self) -> None:
        self.last_epoch += 1
        self.lr = self.get_lr()

    def get_lr(self) -> float:
        raise NotImplementedError


class _LambdaLR(_Scheduler):
    def __init__(self, lr: float, lr_lambda) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(lr)

    def get_lr(self) -> float:
        return self.base_lr * self.lr_lambda(self.last_epoch)


class _ExponentialLR(_Scheduler):
    def __init__(self, lr: float, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(lr)

    def get_lr(self) -> float:
        return self.lr if self.initial else self.lr * self.gamma


class _StepLR(_Scheduler):
    def __init__(self, lr: float, step_size: int, gamma: float) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(lr)

    def get_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.lr
        return self.lr * self.gamma


class _LinearLR(_Scheduler):
    def __init__(self, lr: float, start_factor: float, end_factor: float, total_iters: int) -> None:
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(lr)

    def get_lr(self) -> float:
        if self.last_epoch == 0:
            return self.lr * self.start_factor
        if self.initial or self.last_epoch > self.total_iters:
            return self.lr
        rise = self.end_factor - self.start_factor
        return self.lr * (1.0 + rise / (self.total_iters * self.start_factor + (self.last_epoch - 1) * rise))


def _run_schedule(scheduler: _Scheduler, epochs: int) -> float:
    """The learning rate after ``epochs`` scheduler steps (one at the end of each epoch)."""
    for _ in range(epochs):
        scheduler.step()
    return float(scheduler.lr)


@register("lr_decay")
def lr_decay(p: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse-time, exponential or inverse-square-root decay, epochs numbered from 1."""
    lr0, c, epoch, schedule = float(p["lr0"]), float(p["c"]), int(p["epoch"]), str(p["schedule"])
    if schedule == "exponential":
        scheduler: _Scheduler = _ExponentialLR(lr0, gamma=c)
    elif schedule == "inverse_time":
        scheduler = _LambdaLR(lr0, lambda e: 1.0 / (1.0 + c * e))
    elif schedule == "inverse_sqrt":
        scheduler = _LambdaLR(lr0, lambda e: c / math.sqrt(e) if e else 1.0)
    else:
        raise ValueError(f"unknown schedule {schedule!r}")
    lr = _run_schedule(scheduler, epoch)
    return {"factor": lr / lr0, "lr": lr}


@register("lr_step_decay")
def lr_step_decay(p: Mapping[str, Any]) -> dict[str, Any]:
    """StepLR, counting the drops as they happen."""
    scheduler = _StepLR(float(p["lr0"]), step_size=int(p["step_size"]), gamma=float(p["gamma"]))
    drops, lr = 0, scheduler.lr
    for _ in range(int(p["epoch"])):
        scheduler.step()
        drops += scheduler.lr != lr
        lr = scheduler.lr
    return {"drops": drops, "lr": float(lr)}


@register("lr_warmup")
def lr_warmup(p: Mapping[str, Any]) -> dict[str, Any]:
    """LinearLR from start_factor s up to 1 over W epochs."""
    lr, s, w, epoch = float(p["lr"]), float(p["s"]), int(p["W"]), int(p["epoch"])
    now = _run_schedule(_LinearLR(lr, start_factor=s, end_factor=1.0, total_iters=w), epoch)
    factor = now / lr
    return {"frac": (factor - s) / (1.0 - s), "factor": factor, "lr_e": now}


# ---------------------------------------------------------------------------
# Iteration counts


@register("minibatch_iterations")
def minibatch_iterations(p: Mapping[str, Any]) -> dict[str, Any]:
    """Split the example indices into mini-batches of b (the last one keeps what is left,
    drop_last=False) and count them; every epoch splits the same way."""
    n, b, epochs = int(p["n"]), int(p["b"]), int(p["epochs"])
    indices = np.arange(n)
    batches = [indices[start : start + b] for start in range(0, n, b)]
    per_epoch = len(batches)
    return {"per_epoch": per_epoch, "last": len(batches[-1]), "total": epochs * per_epoch}
