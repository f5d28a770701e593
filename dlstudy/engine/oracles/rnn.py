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
from dlstudy.engine.oracles.tensors import meta_module, single_thread


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
    """An LSTM of any input size n and hidden size m run over the T rows of x from h_0, c_0 (default 0):
    the pre-activations, cell states and hidden states of every step, one row per step."""
    b = _vec(p["b"])
    w, u = _matrix(p["w"], b.size), _matrix(p["u"], b.size)
    m = b.size // 4
    h = _vec(p["h0"]) if "h0" in p else np.zeros(m)
    c = _vec(p["c0"]) if "c0" in p else np.zeros(m)
    rows: dict[str, list[np.ndarray]] = {"Z": [], "C": [], "H": []}
    for x_t in _sequence(p["x"], w.shape[1]):
        step = lstm_cell(x_t, h, c, w, u, b)
        h, c = step["h"], step["c"]
        for name, key in (("Z", "z"), ("C", "c"), ("H", "h")):
            rows[name].append(step[key])
    out = {name: np.array(stacked) for name, stacked in rows.items()}
    out["h"] = out["H"][-1].copy()
    return out


@register("gru_sequence")
def gru_sequence(p: Mapping[str, Any]) -> dict[str, Any]:
    """A GRU of any input size n and hidden size m (PyTorch's equations) run over the T rows of x from h_0
    (default 0): the gates, candidates and states of every step, one row per step."""
    b_i, b_h = _vec(p["b_i"]), _vec(p["b_h"])
    w, u = _matrix(p["w"], b_i.size), _matrix(p["u"], b_h.size)
    h = _vec(p["h0"]) if "h0" in p else np.zeros(b_h.size // 3)
    rows: dict[str, list[np.ndarray]] = {"R": [], "Z": [], "N": [], "H": []}
    for x_t in _sequence(p["x"], w.shape[1]):
        step = gru_cell(x_t, h, w, u, b_i, b_h)
        h = step["h"]
        for name in rows:
            rows[name].append(step[name.lower()])
    out = {name: np.array(stacked) for name, stacked in rows.items()}
    out["h"] = out["H"][-1].copy()
    return out


@register("rnn_forward")
def rnn_forward(p: Mapping[str, Any]) -> dict[str, Any]:
    """A real torch.nn.RNN (tanh, one layer) of input size n and hidden size m, loaded with W = weight_ih,
    U = weight_hh, b = bias_ih (bias_hh = 0), run over the rows of x from h_0; the pre-activations
    a_t = W x_t + U h_{t-1} + b from its states."""
    import torch

    b = _vec(p["b"])
    w, u = _matrix(p["w"], b.size), _matrix(p["u"], b.size)
    x = _sequence(p["x"], w.shape[1])
    h0 = _vec(p["h0"])
    with single_thread(), torch.no_grad():
        rnn = torch.nn.RNN(w.shape[1], b.size, dtype=torch.float64)
        for name, value in (("weight_ih_l0", w), ("weight_hh_l0", u), ("bias_ih_l0", b), ("bias_hh_l0", np.zeros(b.size))):
            getattr(rnn, name).copy_(torch.as_tensor(value))
        states, _ = rnn(torch.as_tensor(x)[:, None, :], torch.as_tensor(h0)[None, None, :])
    H = states[:, 0, :].numpy()
    previous = np.vstack([h0, H[:-1]])
    return {"A": x @ w.T + previous @ u.T + b, "H": H, "h": H[-1].copy()}


@register("rnn_bptt_gradient")
def rnn_bptt_gradient(p: Mapping[str, Any]) -> dict[str, Any]:
    """h_t = tanh(W h_{t-1} + U x_t) unrolled in torch from h_0; backpropagation through time by torch.autograd:
    delta_t = dL/dh_t for L = dh . h_T (each state's gradient kept with retain_grad), back to dL/dh_0."""
    import torch

    h0 = _vec(p["h0"])
    w, u = _matrix(p["w"], h0.size), _matrix(p["u"], h0.size)
    xs = _sequence(p["x"], u.shape[1])
    upstream = _vec(p["dh"]) if "dh" in p else np.ones(h0.size)
    with single_thread():
        W, U = torch.as_tensor(w), torch.as_tensor(u)
        states = [torch.as_tensor(h0).requires_grad_(True)]
        slopes = []
        for x_t in xs:
            a = (W @ states[-1] + U @ torch.as_tensor(x_t)).detach().requires_grad_(True)
            h = torch.tanh(a)
            (slope,) = torch.autograd.grad(h.sum(), a)  # tanh' at a_t, entry by entry
            slopes.append(slope.numpy())
            states.append(torch.tanh(W @ states[-1] + U @ torch.as_tensor(x_t)))
            states[-1].retain_grad()
        loss = torch.dot(torch.as_tensor(upstream), states[-1])
        loss.backward()
    H = np.array([h.detach().numpy() for h in states[1:]])
    deltas = np.array([h.grad.numpy() for h in reversed(states[:-1])])  # dL/dh_{T-1}, ..., dL/dh_0
    return {"S": np.array([h.detach().numpy() for h in states[:-1]]), "H": H, "D": np.array(slopes),
            "delta": deltas, "g": deltas[-1].copy()}


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

    module = meta_module(getattr(torch.nn, cell), n, m, num_layers=layers, bias=bias, bidirectional=bidirectional,
                         dtype=torch.float8_e4m3fn)
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
def _birnn(cell: str, n_in: int, hidden: int, layers: int, batch_first: bool = False):
    """A real bidirectional torch.nn.RNN / GRU / LSTM on the meta device: no storage at any size (float8 keeps
    its byte sizes below 2^63 up to widths of 10^9), no initialisation drawn from torch's generator."""
    import torch

    return meta_module(getattr(torch.nn, cell), n_in, hidden, num_layers=layers, bidirectional=True,
                       batch_first=batch_first, dtype=torch.float8_e4m3fn)


@register("birnn_output_shape")
def birnn_output_shape(p: Mapping[str, Any]) -> dict[str, Any]:
    """The output shape of a real bidirectional torch.nn.RNN / GRU / LSTM, read off the module: its directions
    (the *_reverse weights), the last layer's hidden size, and batch_first for the order of L and N.

    A forward pass would allocate L x N x D H values (and a meta-device forward imports sympy); the tests run
    real CPU modules forward at small sizes and compare."""
    L, N, n_in, hidden, layers = (int(p[k]) for k in ("L", "N", "H_in", "H", "layers"))
    module = _birnn(str(p["cell"]), n_in, hidden, layers, bool(p.get("batch_first", False)))
    last = layers - 1
    directions = 1 + hasattr(module, f"weight_hh_l{last}_reverse")
    features = directions * getattr(module, f"weight_hh_l{last}").shape[1]
    shape = (N, L, features) if module.batch_first else (L, N, features)
    return {"D": directions, "feat": features, "out": shape}


@register("rnn_stack_param_count")
def rnn_stack_param_count(p: Mapping[str, Any]) -> dict[str, Any]:
    """A real torch.nn.RNN / GRU / LSTM with num_layers and bidirectional, built on the meta device; 'one' bias
    per block (Keras, textbooks) is the module without its bias_hh_* vectors, 'none' the module with bias=False."""
    cell, biases = str(p["cell"]), str(p.get("biases", "two"))
    n, m, layers, bidirectional = int(p["n"]), int(p["m"]), int(p["layers"]), bool(p.get("bidirectional", False))
    numels = dict(_recurrent_numels(cell, n, m, biases != "none", layers, bidirectional))
    if biases == "one":
        numels = {name: count for name, count in numels.items() if not name.startswith("bias_hh")}
    forward = {name: count for name, count in numels.items() if not name.endswith("_reverse")}
    first = sum(count for name, count in forward.items() if name.endswith("_l0"))
    gates = numels["weight_ih_l0"] // (n * m)
    return {
        "G": gates,
        "B": sum(1 for name in forward if name.startswith("bias") and name.endswith("_l0")),
        "D": 2 if bidirectional else 1,
        "first": first,
        "rest": sum(forward.values()) - first,
        "total": sum(numels.values()),
    }


# ---------------------------------------------------------------------------
# CTC (Graves et al. 2006)


@register("ctc_collapse")
def ctc_collapse(p: Mapping[str, Any]) -> dict[str, Any]:
    """The CTC map B of a frame-level path: torch.unique_consecutive merges runs of a symbol, then the blanks go."""
    import torch

    path = torch.as_tensor(_vec(p["y"]))
    merged = torch.unique_consecutive(path)
    return {"merged": merged.numpy(), "label": merged[merged != float(p.get("blank", 0))].numpy()}


def ctc_alpha(probs: np.ndarray, label: list[int], blank: int) -> tuple[np.ndarray, np.ndarray]:
    """Graves et al. (2006), eq. 6-8: the extended label l' (blanks around every label) and the forward variables
    alpha_t(s), written as the paper's case analysis, one frame at a time."""
    extended = [blank]
    for symbol in label:
        extended += [symbol, blank]
    alpha = np.zeros((len(probs), len(extended)))
    alpha[0, 0] = probs[0, blank]
    if len(extended) > 1:
        alpha[0, 1] = probs[0, extended[1]]
    for t in range(1, len(probs)):
        for s, symbol in enumerate(extended):
            total = alpha[t - 1, s] + (alpha[t - 1, s - 1] if s >= 1 else 0.0)
            if s >= 2 and symbol != blank and symbol != extended[s - 2]:
                total += alpha[t - 1, s - 2]
            alpha[t, s] = total * probs[t, symbol]
    return np.array(extended, dtype=float), alpha


@register("ctc_probability")
def ctc_probability(p: Mapping[str, Any]) -> dict[str, Any]:
    """p(l | x) by the CTC forward pass; the loss -ln p(l | x) from torch.nn.functional.ctc_loss, which must agree.
    The blank is the last class (its probability is the rest of each frame's)."""
    import torch
    import torch.nn.functional as F

    given = np.atleast_2d(np.asarray(p["P"], dtype=float))
    probs = np.hstack([given, 1.0 - given.sum(axis=1, keepdims=True)])
    blank = probs.shape[1] - 1
    label = [int(round(v)) - 1 for v in _vec(p["l"])]  # the template numbers labels from 1
    extended, alpha = ctc_alpha(probs, label, blank)
    with single_thread():
        loss = F.ctc_loss(torch.log(torch.as_tensor(probs))[:, None, :], torch.as_tensor([label]),
                          torch.as_tensor([len(probs)]), torch.as_tensor([len(label)]), blank=blank, reduction="sum")
    emissions = probs[:, extended.astype(int)]
    return {"Y": probs, "lext": extended + 1, "E": emissions, "alpha": alpha,
            "p": float(alpha[-1, -1] + alpha[-1, -2]), "loss": float(loss)}
