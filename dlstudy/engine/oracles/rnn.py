"""Oracles for recurrent networks: LSTM / GRU / vanilla RNN steps, BPTT, sizes.

Cell steps run the gate equations as NumPy array operations on the sampled
weights, laid out as PyTorch stores them (gates stacked in the rows of
``weight_ih`` / ``weight_hh``: i, f, g, o for the LSTM; r, z, n for the GRU);
tests/test_oracles_rnn.py checks them against ``torch.nn.LSTMCell`` /
``GRUCell`` / ``LSTM`` / ``GRU`` / ``RNN`` loaded with the same numbers.
Gradients come from ``torch.autograd``; parameter counts from ``p.numel()`` of
real modules built on the meta device; shapes from a real forward pass.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import single_thread


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _vec(value: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(value, dtype=float))


# ---------------------------------------------------------------------------
# Cells, in PyTorch's weight layout


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh=0.0) -> dict[str, np.ndarray]:
    """One LSTM step: x (I,), h and c (H,), w_ih (4H, I), w_hh (4H, H), biases (4H,)."""
    z = w_ih @ x + b_ih + w_hh @ h + b_hh
    zi, zf, zg, zo = np.split(z, 4)
    i, f, g, o = _sigmoid(zi), _sigmoid(zf), np.tanh(zg), _sigmoid(zo)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return {"z": z, "i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    """One GRU step as torch.nn.GRUCell computes it (gates r, z, n; r multiplies W_hn h + b_hn)."""
    gi = w_ih @ x + b_ih
    gh = w_hh @ h + b_hh
    ir, iz, in_ = np.split(gi, 3)
    hr, hz, hn = np.split(gh, 3)
    r = _sigmoid(ir + hr)
    z = _sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    return {"gi": gi, "gh": gh, "r": r, "z": z, "n": n, "h": (1.0 - z) * n + z * h}


def gru_cell_reset_before(x, h, w_ih, w_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    """One GRU step with the reset gate applied to h before the recurrent weights (Cho et al. 2014;
    Keras's reset_after=False): n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""
    gi = w_ih @ x + b_ih
    gh = w_hh @ h + b_hh
    ir, iz, in_ = np.split(gi, 3)
    hr, hz, _ = np.split(gh, 3)
    r = _sigmoid(ir + hr)
    z = _sigmoid(iz + hz)
    w_hn, b_hn = np.split(w_hh, 3)[2], np.split(b_hh, 3)[2]
    n = np.tanh(in_ + w_hn @ (r * h) + b_hn)
    return {"gi": gi, "gh": gh, "r": r, "z": z, "n": n, "h": (1.0 - z) * n + z * h}


def _scalar(d: Mapping[str, np.ndarray], *names: str, suffix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        v = np.asarray(d[name], dtype=float)
        out[name + suffix] = float(v[0]) if v.size == 1 else v.copy()
    return out


def _matrix(value: Any, rows: int) -> np.ndarray:
    """A weight matrix of ``rows`` rows (a one-unit layer's column may come as a flat vector)."""
    return np.asarray(value, dtype=float).reshape(rows, -1)


@register("lstm_cell_step")
def lstm_cell_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Any input size n and hidden size m: W (4m, n) = weight_ih, U (4m, m) = weight_hh, b = b_ih + b_hh."""
    b = _vec(p["b"])
    step = lstm_cell(
        _vec(p["x"]), _vec(p["h_prev"]), _vec(p["c_prev"]),
        _matrix(p["W"], b.size), _matrix(p["U"], b.size), b,
    )
    return {name: np.asarray(value, dtype=float) for name, value in step.items()}


@register("gru_cell_step")
def gru_cell_step(p: Mapping[str, Any]) -> dict[str, Any]:
    """Any input size n and hidden size m: W (3m, n) = weight_ih, U (3m, m) = weight_hh, b_i / b_h = bias_ih / bias_hh;
    ``reset_after`` 'true' as torch.nn.GRUCell, 'false' as Cho et al. (2014) / Keras reset_after=False."""
    b_i, b_h = _vec(p["b_i"]), _vec(p["b_h"])
    w_ih, w_hh = _matrix(p["W"], b_i.size), _matrix(p["U"], b_h.size)
    x, h = _vec(p["x"]), _vec(p["h_prev"])
    if str(p.get("reset_after", "true")) == "true":
        step = gru_cell(x, h, w_ih, w_hh, b_i, b_h)
    else:
        step = gru_cell_reset_before(x, h, w_ih, w_hh, b_i, b_h)
    step["n_cand"] = step.pop("n")
    return {name: np.asarray(value, dtype=float) for name, value in step.items()}


def _sequence(value: Any, n_in: int) -> np.ndarray:
    """The inputs as rows x_1, x_2, ... of size n_in (a one-feature sequence may come as a flat vector)."""
    return np.asarray(value, dtype=float).reshape(-1, n_in)


@register("lstm_sequence")
def lstm_sequence(p: Mapping[str, Any]) -> dict[str, Any]:
    """An LSTM of any input size n and hidden size m run over the rows of x from h_0 = c_0 = 0."""
    b = _vec(p["b"])
    w, u = _matrix(p["w"], b.size), _matrix(p["u"], b.size)
    h = c = np.zeros(b.size // 4)
    out: dict[str, Any] = {}
    for t, x_t in enumerate(_sequence(p["x"], w.shape[1]), 1):
        step = lstm_cell(x_t, h, c, w, u, b)
        h, c = step["h"], step["c"]
        out.update({f"{name}{t}": step[name].copy() for name in ("z", "c", "h")})
    return out


@register("gru_sequence")
def gru_sequence(p: Mapping[str, Any]) -> dict[str, Any]:
    """A GRU of any input size n and hidden size m (PyTorch's equations) run over the rows of x from h_0 = 0."""
    b_i, b_h = _vec(p["b_i"]), _vec(p["b_h"])
    w, u = _matrix(p["w"], b_i.size), _matrix(p["u"], b_h.size)
    h = np.zeros(b_h.size // 3)
    out: dict[str, Any] = {}
    for t, x_t in enumerate(_sequence(p["x"], w.shape[1]), 1):
        step = gru_cell(x_t, h, w, u, b_i, b_h)
        h = step["h"]
        out.update({f"{name}{t}": step[name].copy() for name in ("r", "z", "n", "h")})
    return out


@register("rnn_forward")
def rnn_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """Elman RNN with one unit: h_t = tanh(w x_t + u h_{t-1} + b), run over x from h_0."""
    w, u, b = (float(p[k]) for k in ("w", "u", "b"))
    h = float(p["h0"])
    out: dict[str, Any] = {}
    for t, x_t in enumerate(_vec(p["x"]), 1):
        h = float(np.tanh(w * x_t + u * h + b))
        out[f"h{t}"] = h
    return out


@register("rnn_bptt_gradient")
def rnn_bptt_gradient(p: Mapping[str, Any]) -> dict[str, Any]:
    """dh_3/dh_0 of h_t = tanh(w h_{t-1} + u x_t) by torch.autograd, plus each one-step factor dh_t/dh_{t-1}."""
    import torch

    w, u = float(p["w"]), float(p["u"])
    xs = [float(v) for v in _vec(p["x"])]
    out: dict[str, Any] = {}
    with single_thread():
        h0 = torch.tensor(float(p["h0"]), dtype=torch.float64, requires_grad=True)
        h = h0
        for t, x_t in enumerate(xs, 1):
            prev = h.detach().requires_grad_(True)
            local = torch.tanh(w * prev + u * x_t)
            (out[f"j{t}"],) = (float(g) for g in torch.autograd.grad(local, prev))
            h = torch.tanh(w * h + u * x_t)  # the unrolled graph, from h0
            out[f"h{t}"] = float(h.detach())
        (grad,) = torch.autograd.grad(h, h0)
    out["g"] = float(grad)
    return out


# ---------------------------------------------------------------------------
# Sizes


@lru_cache(maxsize=1024)
def _recurrent_numels(cell: str, n: int, m: int, bias: bool = True, layers: int = 1,
                      bidirectional: bool = False) -> tuple[tuple[str, int], ...]:
    """``p.numel()`` of every parameter of a real torch.nn.LSTM / GRU / RNN, built on the meta device.

    Meta tensors hold no data; float8 keeps their byte size below 2^63 up to sizes of 10^9 (a float32
    weight_hh of 4·10^9 × 10^9 entries would overflow torch's storage-size check).
    """
    import torch

    module = getattr(torch.nn, cell)(n, m, num_layers=layers, bias=bias, bidirectional=bidirectional,
                                     device="meta", dtype=torch.float8_e4m3fn)
    return tuple((name, p.numel()) for name, p in module.named_parameters())


_TORCH_CELL = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN", "SimpleRNN": "RNN"}


@register("rnn_param_count")
def rnn_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    """A real torch.nn.LSTM / GRU / RNN; Keras's one-bias layers are the same module without bias_hh."""
    framework, cell = str(p["layer"]).split("-")
    n, m, bias = int(p["n"]), int(p["m"]), bool(p.get("bias", True))
    numels = dict(_recurrent_numels(_TORCH_CELL[cell], n, m, bias))
    one_bias = cell in ("LSTM", "SimpleRNN") or (cell == "GRU" and str(p.get("reset_after", "true")) == "false")
    if framework == "Keras" and bias and one_bias:
        # keras.layers.LSTM, SimpleRNN and GRU(reset_after=False) keep one bias vector (4m / m / 3m),
        # where PyTorch (and Keras's GRU with reset_after=True, a (2, 3m) bias) keeps an input and a recurrent one.
        del numels["bias_hh_l0"]
    total = sum(numels.values())
    gates = numels["weight_ih_l0"] // (n * m)
    biases = sum(1 for name in numels if name.startswith("bias"))
    return {"gates": gates, "biases": biases, "per_gate": total // gates, "total": total}


@lru_cache(maxsize=256)
def _birnn(cell: str, n_in: int, hidden: int, layers: int):
    """A real bidirectional torch.nn.RNN / GRU / LSTM on the CPU (only its output shapes are read).

    Built directly on the CPU: a module built on the meta device and moved with
    ``to_empty`` goes through ``Module._apply`` and torch._refs, which import
    torch.fx.experimental.symbolic_shapes and sympy (about 0.3 s).  The default
    initialisation draws from torch's global generator, so it runs on a forked
    generator state and leaves the caller's random stream alone.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        return getattr(torch.nn, cell)(n_in, hidden, num_layers=layers, bidirectional=True)


@register("birnn_output_shape")
def birnn_output_shape(p: Mapping[str, Any]) -> dict[str, Any]:
    """Run a real bidirectional torch.nn.RNN / GRU / LSTM on a (L, N, H_in) input and read output.shape."""
    import torch

    L, N, n_in, hidden, layers = (int(p[k]) for k in ("L", "N", "H_in", "H", "layers"))
    module = _birnn(str(p["cell"]), n_in, hidden, layers)
    with torch.inference_mode(), single_thread():
        output, state = module(torch.zeros(L, N, n_in))
    h_n = state[0] if isinstance(state, tuple) else state  # LSTM returns (h_n, c_n)
    return {"D": int(h_n.shape[0]) // layers, "feat": int(output.shape[2]), "out": tuple(int(s) for s in output.shape)}
