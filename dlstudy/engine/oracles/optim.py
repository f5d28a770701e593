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


def _adam_step(param, grad, state, *, lr, betas, eps, weight_decay=0.0, decoupled=False):
    """``torch.optim.Adam.step()`` (no AMSGrad) for one parameter tensor; ``decoupled`` is
    ``torch.optim.AdamW``: the weight decay shrinks the parameter instead of joining the gradient."""
    beta1, beta2 = betas
    if not state:  # the optimizer's lazy state initialisation
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    state["step"] += 1
    if weight_decay != 0:
        if decoupled:
            _mul_(param, 1 - lr * weight_decay)  # AdamW: param.mul_(1 - lr * weight_decay)
        else:
            grad = _add_(grad.copy(), param, alpha=weight_decay)  # Adam: grad = grad.add(param, alpha=weight_decay)
    _lerp_(exp_avg, grad, 1 - beta1)
    _addcmul_(_mul_(exp_avg_sq, beta2), grad, grad, value=1 - beta2)
    step = state["step"]
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    denom = _sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    _addcdiv_(param, exp_avg, denom, value=-step_size)


def _sgd_step(param, grad, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False):
    """``torch.optim.SGD.step()`` (no weight decay) for one parameter tensor."""
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = grad.copy()
        else:
            _add_(_mul_(buf, momentum), grad, alpha=1 - dampening)
        if nesterov:
            grad = _add_(grad.copy(), buf, alpha=momentum)  # grad = grad.add(buf, alpha=momentum)
        else:
            grad = buf
    _add_(param, grad, alpha=-lr)


def _rmsprop_step(param, grad, state, *, lr, alpha, eps, eps_inside=False):
    """``torch.optim.RMSprop.step()`` (no momentum, not centred, no weight decay) for one tensor.

    ``eps_inside`` is the other placement of epsilon, under the square root, as TensorFlow 1's
    ``tf.train.RMSPropOptimizer`` applies it (``lr * grad / sqrt(ms + epsilon)``) and Ng's notes write it.
    """
    square_avg = state["square_avg"]
    state["step"] += 1
    _addcmul_(_mul_(square_avg, alpha), grad, grad, value=1 - alpha)
    avg = _sqrt(square_avg + eps) if eps_inside else _sqrt(square_avg) + eps
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


def _adam_state(p: Mapping[str, Any], t: int) -> dict[str, Any]:
    """Adam's state after step t - 1, as loaded into the optimizer (none before the first step)."""
    if t > 1:
        return {"step": t - 1, "exp_avg": p["m_prev"], "exp_avg_sq": p["v_prev"]}
    return {}


@register("adam_step")
def adam_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One Adam step at step number t (t = 1 when no earlier moments are given)."""
    theta = _vec(p["theta"])
    t = int(p.get("t", 1))
    b1, b2 = float(p["b1"]), float(p["b2"])
    new, after = _step(_adam_step, theta, p["g"], _adam_state(p, t), lr=float(p["lr"]), betas=(b1, b2), eps=float(p["eps"]))
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


@register("adamw_step")
def adamw_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One step of AdamW (decoupled weight decay, ``torch.optim.AdamW``) or of Adam with the decay added to
    the gradient as an L2 term (``torch.optim.Adam(weight_decay=...)``), from the moments after step t - 1.

    The gradient the moments see and the decayed parameters are read off the optimizer's own operations:
    the moments are the state after the step, so m_t = (1 - b1) * (effective gradient) + b1 * m_{t-1}.
    """
    theta, g = _vec(p["theta"]), _vec(p["g"])
    t = int(p.get("t", 1))
    b1, b2, lr, decay = float(p["b1"]), float(p["b2"]), float(p["lr"]), float(p["wd"])
    decoupled = str(p.get("decay", "decoupled")) == "decoupled"
    state = _adam_state(p, t)
    new, after = _step(_adam_step, theta, g, state, lr=lr, betas=(b1, b2), eps=float(p["eps"]),
                       weight_decay=decay, decoupled=decoupled)
    # What the step did before the moments: AdamW scales the parameters, Adam adds the decay to the gradient.
    decayed = _mul_(theta.copy(), 1 - lr * decay) if decoupled else theta.copy()
    effective = g.copy() if decoupled else _add_(g.copy(), theta, alpha=decay)
    m, v = after["exp_avg"], after["exp_avg_sq"]
    step = after["step"]
    return {
        "g_eff": effective,
        "theta_decayed": decayed,
        "m": m,
        "v": v,
        "m_hat": m / (1.0 - b1**step),
        "v_hat": v / (1.0 - b2**step),
        "theta_new": new,
    }


@register("sgd_momentum_step")
def sgd_momentum_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One SGD step with momentum from a given velocity buffer, in one of three conventions.

    * ``pytorch``: ``torch.optim.SGD`` (dampening 0): v = mu v + g, theta -= lr v;
    * ``ema``: the exponential average of Ng's course, v = beta v + (1 - beta) g, which is
      ``torch.optim.SGD`` with dampening = momentum;
    * ``ema-corrected``: that average divided by 1 - beta^t before the step (Ng's bias correction),
      i.e. the same SGD step with the learning rate divided by 1 - beta^t.
    """
    theta, g, mu = _vec(p["theta"]), _vec(p["g"]), float(p["mu"])
    convention = str(p.get("convention", "pytorch"))
    correction = 1.0 - mu ** int(p.get("t", 1)) if convention == "ema-corrected" else 1.0
    new, after = _step(
        _sgd_step, theta, g, {"momentum_buffer": p["v_prev"]},
        lr=float(p["lr"]) / correction, momentum=mu, dampening=mu if convention != "pytorch" else 0.0,
    )
    # With momentum 0 SGD keeps no buffer and steps along the raw gradient.
    velocity = after["momentum_buffer"] if mu != 0 else g
    return {"v": velocity, "delta": new - theta, "theta_new": new}


@register("nesterov_step")
def nesterov_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One step of ``torch.optim.SGD(momentum=mu, nesterov=True)`` from a given velocity buffer.

    The direction is read off the step itself: the parameters move by -lr times it."""
    theta, g, mu, lr = _vec(p["theta"]), _vec(p["g"]), float(p["mu"]), float(p["lr"])
    new, after = _step(_sgd_step, theta, g, {"momentum_buffer": p["v_prev"]}, lr=lr, momentum=mu, nesterov=True)
    velocity = after["momentum_buffer"] if mu != 0 else g
    direction = _add_(g.copy(), velocity, alpha=mu)  # what nesterov=True steps along
    return {"v": velocity, "d": direction, "delta": new - theta, "theta_new": new}


@register("rmsprop_step")
def rmsprop_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One RMSprop step (no momentum, not centred) from a given square average; epsilon outside the
    square root as torch.optim.RMSprop and Keras, or inside it as TensorFlow 1 and Ng's notes."""
    theta = _vec(p["theta"])
    new, after = _step(
        _rmsprop_step,
        theta,
        p["g"],
        {"step": 1, "square_avg": p["s_prev"]},
        lr=float(p["lr"]),
        alpha=float(p["rho"]),
        eps=float(p["eps"]),
        eps_inside=str(p.get("eps_at", "outside")) == "inside",
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
    """Inverted dropout with a given keep mask, as ``nn.Dropout`` computes it in training.

    ``F.dropout`` draws ``noise.bernoulli_(1 - p)``, divides it in place by the keep
    probability ``1 - p`` and multiplies the input by it; here the Bernoulli draw is the
    given mask.  The number given is PyTorch's drop probability p, or Ng's keep_prob
    (``convention: ng``).  The scale is what a kept unit's noise becomes; the expectation
    averages each unit's two outcomes, weighted by their probabilities.
    """
    given = float(p["p"])
    keep = given if str(p.get("convention", "pytorch")) == "ng" else 1.0 - given
    a, mask = _vec(p["a"]), _vec(p["mask"])
    noise = mask.copy()
    noise /= keep  # noise.div_(1 - p)
    scale = float((np.array([1.0]) / keep)[0])  # the noise of a kept unit
    outcomes = np.stack([a * scale, a * 0.0])  # unit kept, unit dropped
    expected = np.array([keep, 1.0 - keep]) @ outcomes
    return {"q": keep, "scale": scale, "y": a * noise, "Ey": expected}


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
    """Fans of a Conv2d weight and the normal std that nn.init uses for it.

    The weight has Conv2d's layout (out_channels, in_channels, k, k) (a zero-stride
    view: only its shape matters; k = 1 is a dense layer); the std is computed as
    ``xavier_normal_`` (gain 1), ``kaiming_normal_`` (fan_in mode, ReLU gain sqrt(2)) and
    ``kaiming_normal_(nonlinearity="linear")`` (gain 1: LeCun normal, Ng's "Xavier") compute it.
    """
    scheme, c_in, c_out, k = str(p["scheme"]), int(p["c_in"]), int(p["c_out"]), int(p.get("k", 1))
    weight = np.broadcast_to(np.float64(0.0), (c_out, c_in, k, k))
    fan_in, fan_out = _fan_in_and_fan_out(weight)
    if scheme == "xavier":
        gain = 1.0
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    elif scheme == "he":
        gain = math.sqrt(2.0)  # calculate_gain("relu")
        std = gain / math.sqrt(fan_in)
    else:
        gain = 1.0  # calculate_gain("linear")
        std = gain / math.sqrt(fan_in)
    return {"fan_in": int(fan_in), "fan_out": int(fan_out), "var": std * std, "std": std}


# ---------------------------------------------------------------------------
# Learning-rate schedules

# A schedule is stepped epoch by epoch up to this many steps; beyond it the scheduler's closed form at
# that epoch gives the rate (torch's ``_get_closed_form_lr``, what ``scheduler.step(epoch)`` uses), so
# epoch = 10^9 costs nothing.  tests/test_oracles_optim.py checks both agree where they overlap.
SIMULATED_EPOCHS = 10_000


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` as a float, inf where Python's float power overflows."""
    try:
        return base**exponent
    except OverflowError:
        return math.inf


class _Scheduler:
    """An lr_scheduler on one parameter group: ``last_epoch`` and the group's ``lr``.

    Construction takes the initial step (``last_epoch`` -1 -> 0); each ``step()``
    advances ``last_epoch`` by one and sets ``lr`` to the subclass's ``get_lr()``;
    ``closed_form()`` is the rate at ``last_epoch`` without the steps before it.
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

    def closed_form(self) -> float:
        raise NotImplementedError


class _LambdaLR(_Scheduler):
    def __init__(self, lr: float, lr_lambda) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(lr)

    def get_lr(self) -> float:
        return self.base_lr * self.lr_lambda(self.last_epoch)

    closed_form = get_lr  # LambdaLR's rule never looks at the previous rate


class _ExponentialLR(_Scheduler):
    def __init__(self, lr: float, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(lr)

    def get_lr(self) -> float:
        return self.lr if self.initial else self.lr * self.gamma

    def closed_form(self) -> float:
        return self.base_lr * _power(self.gamma, self.last_epoch)


class _StepLR(_Scheduler):
    def __init__(self, lr: float, step_size: int, gamma: float) -> None:
        self.step_size, self.gamma = step_size, gamma
        self.drops = 0  # how often get_lr has applied gamma
        super().__init__(lr)

    def get_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.lr
        self.drops += 1
        return self.lr * self.gamma

    def closed_form(self) -> float:
        self.drops = self.last_epoch // self.step_size
        return self.base_lr * _power(self.gamma, self.drops)


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

    def closed_form(self) -> float:
        rise = self.end_factor - self.start_factor
        return self.base_lr * (self.start_factor + rise * min(self.total_iters, self.last_epoch) / self.total_iters)


class _CosineAnnealingLR(_Scheduler):
    """``CosineAnnealingLR``: its step rule is recursive in the previous rate (and keeps following the
    cosine past T_max, back up to the initial rate at 2 T_max)."""

    def __init__(self, lr: float, t_max: int, eta_min: float) -> None:
        self.t_max, self.eta_min = t_max, eta_min
        super().__init__(lr)

    def get_lr(self) -> float:
        e, t_max, eta_min = self.last_epoch, self.t_max, self.eta_min
        if self.initial:
            return self.lr
        if (e - 1 - t_max) % (2 * t_max) == 0:
            return self.lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return (1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max)) * (self.lr - eta_min) + eta_min

    def closed_form(self) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.t_max)) / 2


class _CosineWarmRestarts(_Scheduler):
    """``CosineAnnealingWarmRestarts`` (SGDR): T_cur counts the epochs since the last restart and a cycle
    of T_i epochs is followed by one of T_i * T_mult."""

    def __init__(self, lr: float, t_0: int, t_mult: int, eta_min: float) -> None:
        self.t_0, self.t_i, self.t_mult, self.eta_min = t_0, t_0, t_mult, eta_min
        self.t_cur, self.restarts = -1, 0
        super().__init__(lr)

    def step(self) -> None:  # the scheduler's own step() without an epoch argument
        self.last_epoch += 1
        self.t_cur += 1
        if self.t_cur >= self.t_i:
            self.t_cur -= self.t_i
            self.t_i *= self.t_mult
            self.restarts += 1
        self.lr = self.get_lr()

    def get_lr(self) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.t_cur / self.t_i)) / 2

    def closed_form(self) -> float:
        """``step(epoch)``'s placement of the epoch in its cycle; torch finds the cycle with a float
        logarithm, which lands one cycle short at some exact restarts (log(9)/log(3) < 2), so the cycles
        are walked here in whole numbers (there are at most about log2(epoch) of them when T_mult > 1)."""
        epoch = self.last_epoch
        if self.t_mult == 1:
            self.restarts, self.t_cur, self.t_i = epoch // self.t_0, epoch % self.t_0, self.t_0
        else:
            start, length, restarts = 0, self.t_0, 0
            while start + length <= epoch:
                start, length, restarts = start + length, length * self.t_mult, restarts + 1
            self.restarts, self.t_cur, self.t_i = restarts, epoch - start, length
        return self.get_lr()


def _run_schedule(scheduler: _Scheduler, epochs: int) -> float:
    """The learning rate after ``epochs`` scheduler steps (one at the end of each epoch); the closed form
    beyond SIMULATED_EPOCHS steps."""
    if epochs > SIMULATED_EPOCHS:
        scheduler.last_epoch = epochs
        return float(scheduler.closed_form())
    for _ in range(epochs):
        scheduler.step()
    return float(scheduler.lr)


@register("lr_decay")
def lr_decay(p: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse-time, exponential or inverse-square-root decay in epoch e = 1, 2, ...

    Ng's convention (``first_epoch: decayed``) applies the rule with the epoch number itself, so epoch 1
    already runs at the decayed rate: the scheduler has stepped e times.  With ``undecayed`` the first
    epoch runs at alpha_0 and the scheduler steps at the end of each epoch (PyTorch's way): e - 1 steps.
    """
    lr0, c, epoch, schedule = float(p["lr0"]), float(p["c"]), int(p["epoch"]), str(p["schedule"])
    if schedule == "exponential":
        scheduler: _Scheduler = _ExponentialLR(lr0, gamma=c)
    elif schedule == "inverse_time":
        scheduler = _LambdaLR(lr0, lambda e: 1.0 / (1.0 + c * e))
    elif schedule == "inverse_sqrt":
        scheduler = _LambdaLR(lr0, lambda e: c / math.sqrt(e) if e else 1.0)
    else:
        raise ValueError(f"unknown schedule {schedule!r}")
    decays = epoch if str(p.get("first_epoch", "decayed")) == "decayed" else epoch - 1
    lr = _run_schedule(scheduler, decays)
    return {"k": decays, "factor": lr / lr0, "lr": lr}


@register("lr_step_decay")
def lr_step_decay(p: Mapping[str, Any]) -> dict[str, Any]:
    """StepLR, counting the drops as the scheduler applies them."""
    scheduler = _StepLR(float(p["lr0"]), step_size=int(p["step_size"]), gamma=float(p["gamma"]))
    lr = _run_schedule(scheduler, int(p["epoch"]))
    return {"drops": scheduler.drops, "lr": lr}


@register("lr_warmup")
def lr_warmup(p: Mapping[str, Any]) -> dict[str, Any]:
    """LinearLR from start_factor s up to 1 over W epochs."""
    lr, s, w, epoch = float(p["lr"]), float(p["s"]), int(p["W"]), int(p["epoch"])
    now = _run_schedule(_LinearLR(lr, start_factor=s, end_factor=1.0, total_iters=w), epoch)
    factor = now / lr
    return {"frac": (factor - s) / (1.0 - s), "factor": factor, "lr_e": now}


@register("lr_cosine")
def lr_cosine(p: Mapping[str, Any]) -> dict[str, Any]:
    """CosineAnnealingLR (``schedule: annealing``) or CosineAnnealingWarmRestarts (``restarts``),
    epochs counted from 0 and the scheduler stepped at the end of each epoch."""
    lr, t_0, eta_min, epoch = float(p["lr"]), int(p["T_0"]), float(p.get("eta_min", 0.0)), int(p["epoch"])
    if str(p["schedule"]) == "annealing":
        scheduler: _Scheduler = _CosineAnnealingLR(lr, t_max=t_0, eta_min=eta_min)
        now = _run_schedule(scheduler, epoch)
        return {"cycle": 0, "T_cur": epoch, "T_i": t_0, "lr_e": now}
    restarts = _CosineWarmRestarts(lr, t_0=t_0, t_mult=int(p.get("T_mult", 1)), eta_min=eta_min)
    now = _run_schedule(restarts, epoch)
    return {"cycle": restarts.restarts, "T_cur": restarts.t_cur, "T_i": restarts.t_i, "lr_e": now}


# ---------------------------------------------------------------------------
# Iteration counts


@register("minibatch_iterations")
def minibatch_iterations(p: Mapping[str, Any]) -> dict[str, Any]:
    """Split the example indices into mini-batches of b as a DataLoader's BatchSampler does and count them;
    every epoch splits the same way.

    The indices are a ``range`` (it stores only its ends), so each batch is a sub-range and nothing the
    size of the data set is ever built: n = 10^12 costs as little as n = 10.  With ``drop_last`` the last,
    partial batch is left out.
    """
    n, b, epochs = int(p["n"]), int(p["b"]), int(p["epochs"])
    indices = range(n)
    batch_starts = range(0, n, b)
    batches = (indices[start : start + b] for start in (batch_starts[0], batch_starts[-1]))
    first, last = batches
    per_epoch = len(batch_starts)
    if str(p.get("drop_last", "false")) == "true" and len(last) < b:
        per_epoch -= 1
        last = first if per_epoch else range(0)
    return {"per_epoch": per_epoch, "last": len(last), "total": epochs * per_epoch}
