"""Oracles for one optimizer step: Adam, AdamW, SGD with momentum (three conventions), Nesterov, RMSprop
and Adagrad, each from the state after the previous step.

The steps are NumPy re-enactments of the single-tensor ``step()`` of ``torch.optim.Adam``, ``AdamW``,
``SGD``, ``RMSprop`` and ``Adagrad``: they keep the optimizer's state arrays (``exp_avg``,
``square_avg``, ``momentum_buffer``, ...) and update them with the same in-place operations
(``inplace_ops``), in the same order; later steps start from the given state, as if it had been loaded
into the optimizer.  ``tests/test_oracles_optim.py`` cross-checks each oracle against the real
torch.optim, bit for bit.

No torch import here: building the first torch.optim optimizer imports torch._dynamo, which alone costs
most of a second.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.inplace_ops import add_, addcdiv_, addcmul_, lerp_, mul_, sqrt, vector


# ---------------------------------------------------------------------------
# The update rules: one step of the single-tensor implementation, on a state dict
# (RMSprop and Adagrad are always given theirs, so only Adam initialises its own)


def adam_update(param, grad, state, *, lr, betas, eps, weight_decay=0.0, decoupled=False):
    """``torch.optim.Adam.step()`` (no AMSGrad) for one parameter tensor; ``decoupled`` is
    ``torch.optim.AdamW``: the weight decay shrinks the parameter instead of joining the gradient."""
    beta1, beta2 = betas
    if not state:  # the optimizer's lazy state initialisation
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    state["step"] += 1
    if weight_decay != 0:
        if decoupled:
            mul_(param, 1 - lr * weight_decay)  # AdamW: param.mul_(1 - lr * weight_decay)
        else:
            grad = add_(grad.copy(), param, alpha=weight_decay)  # Adam: grad = grad.add(param, alpha=weight_decay)
    lerp_(exp_avg, grad, 1 - beta1)
    addcmul_(mul_(exp_avg_sq, beta2), grad, grad, value=1 - beta2)
    step = state["step"]
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    denom = sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    addcdiv_(param, exp_avg, denom, value=-step_size)


def sgd_update(param, grad, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False):
    """``torch.optim.SGD.step()`` (no weight decay) for one parameter tensor."""
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = grad.copy()
        else:
            add_(mul_(buf, momentum), grad, alpha=1 - dampening)
        if nesterov:
            grad = add_(grad.copy(), buf, alpha=momentum)  # grad = grad.add(buf, alpha=momentum)
        else:
            grad = buf
    add_(param, grad, alpha=-lr)


def rmsprop_update(param, grad, state, *, lr, alpha, eps, eps_inside=False):
    """``torch.optim.RMSprop.step()`` (no momentum, not centred, no weight decay) for one tensor.

    ``eps_inside`` is the other placement of epsilon, under the square root, as TensorFlow 1's
    ``tf.train.RMSPropOptimizer`` applies it (``lr * grad / sqrt(ms + epsilon)``) and Ng's notes write it.
    """
    square_avg = state["square_avg"]
    state["step"] += 1
    addcmul_(mul_(square_avg, alpha), grad, grad, value=1 - alpha)
    avg = sqrt(square_avg + eps) if eps_inside else sqrt(square_avg) + eps
    addcdiv_(param, grad, avg, value=-lr)


def adagrad_update(param, grad, state, *, lr, eps, lr_decay=0.0):
    """``torch.optim.Adagrad.step()`` (no weight decay) for one parameter tensor."""
    state_sum = state["sum"]
    state["step"] += 1
    step = state["step"]
    clr = lr / (1 + (step - 1) * lr_decay)
    addcmul_(state_sum, grad, grad, value=1)
    std = sqrt(state_sum) + eps
    addcdiv_(param, grad, std, value=-clr)


def _step(update, theta: Any, grad: Any, state: Mapping[str, Any], **options: Any):
    """One optimizer step from ``theta`` with gradient ``grad`` and the given state
    (arrays copied in as float64, ``step`` as a float, as torch stores them).

    Returns (new theta, state after the step)."""
    param = vector(theta).copy()
    loaded = {k: float(v) if k == "step" else vector(v).copy() for k, v in state.items()}
    update(param, vector(grad), loaded, **options)
    return param, loaded


# ---------------------------------------------------------------------------
# The oracles


def _adam_state(p: Mapping[str, Any], t: int) -> dict[str, Any]:
    """Adam's state after step t - 1, as loaded into the optimizer (none before the first step)."""
    if t > 1:
        return {"step": t - 1, "exp_avg": p["m_prev"], "exp_avg_sq": p["v_prev"]}
    return {}


@register("adam_step")
def adam_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One Adam step at step number t (t = 1 when no earlier moments are given)."""
    theta = vector(p["theta"])
    t = int(p.get("t", 1))
    b1, b2 = float(p["b1"]), float(p["b2"])
    new, after = _step(adam_update, theta, p["g"], _adam_state(p, t), lr=float(p["lr"]), betas=(b1, b2), eps=float(p["eps"]))
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
    theta, g = vector(p["theta"]), vector(p["g"])
    t = int(p.get("t", 1))
    b1, b2, lr, decay = float(p["b1"]), float(p["b2"]), float(p["lr"]), float(p["wd"])
    decoupled = str(p.get("decay", "decoupled")) == "decoupled"
    state = _adam_state(p, t)
    new, after = _step(adam_update, theta, g, state, lr=lr, betas=(b1, b2), eps=float(p["eps"]),
                       weight_decay=decay, decoupled=decoupled)
    # What the step did before the moments: AdamW scales the parameters, Adam adds the decay to the gradient.
    decayed = mul_(theta.copy(), 1 - lr * decay) if decoupled else theta.copy()
    effective = g.copy() if decoupled else add_(g.copy(), theta, alpha=decay)
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
    theta, g, mu = vector(p["theta"]), vector(p["g"]), float(p["mu"])
    convention = str(p.get("convention", "pytorch"))
    correction = 1.0 - mu ** int(p.get("t", 1)) if convention == "ema-corrected" else 1.0
    new, after = _step(
        sgd_update, theta, g, {"momentum_buffer": p["v_prev"]},
        lr=float(p["lr"]) / correction, momentum=mu, dampening=mu if convention != "pytorch" else 0.0,
    )
    # With momentum 0 SGD keeps no buffer and steps along the raw gradient.
    velocity = after["momentum_buffer"] if mu != 0 else g
    return {"v": velocity, "delta": new - theta, "theta_new": new}


@register("nesterov_step")
def nesterov_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One step of ``torch.optim.SGD(momentum=mu, nesterov=True)`` from a given velocity buffer.

    The direction is read off the step itself: the parameters move by -lr times it."""
    theta, g, mu, lr = vector(p["theta"]), vector(p["g"]), float(p["mu"]), float(p["lr"])
    new, after = _step(sgd_update, theta, g, {"momentum_buffer": p["v_prev"]}, lr=lr, momentum=mu, nesterov=True)
    velocity = after["momentum_buffer"] if mu != 0 else g
    direction = add_(g.copy(), velocity, alpha=mu)  # what nesterov=True steps along
    return {"v": velocity, "d": direction, "delta": new - theta, "theta_new": new}


@register("rmsprop_step")
def rmsprop_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """One RMSprop step (no momentum, not centred) from a given square average; epsilon outside the
    square root as torch.optim.RMSprop and Keras, or inside it as TensorFlow 1 and Ng's notes."""
    theta = vector(p["theta"])
    new, after = _step(
        rmsprop_update,
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
    theta = vector(p["theta"])
    new, after = _step(
        adagrad_update, theta, p["g"], {"step": 1, "sum": p["G_prev"]}, lr=float(p["lr"]), eps=float(p["eps"])
    )
    return {"G": after["sum"], "delta": new - theta, "theta_new": new}
