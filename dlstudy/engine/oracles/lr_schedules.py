"""Oracles for learning-rate schedules: inverse-time, exponential and inverse-square-root decay, step
decay, linear warm-up, cosine annealing and cosine annealing with warm restarts (SGDR).

Schedules are simulated epoch by epoch, as ``torch.optim.lr_scheduler`` runs them: a small scheduler
object holds ``last_epoch`` and the group's ``lr`` and applies the per-step rule of ``LambdaLR``,
``ExponentialLR``, ``StepLR``, ``LinearLR``, ``CosineAnnealingLR`` or ``CosineAnnealingWarmRestarts``'s
``get_lr``.  ``tests/test_oracles_optim.py`` cross-checks each oracle against the real lr_scheduler.
No torch import here (see ``optimizers``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from dlstudy.engine.oracles import register


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
