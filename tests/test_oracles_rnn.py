"""RNN oracles against torch.nn recurrent modules and against published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get
from dlstudy.engine.oracles import rnn as rnn_oracles
from dlstudy.engine.oracles.rnn import gru_cell, lstm_cell

rng = np.random.default_rng(0)


def _one_decimal(*shape):
    return np.round(rng.uniform(-1, 1, shape), 1)


def _t(value):
    return torch.tensor(np.asarray(value, dtype=float), dtype=torch.float64)


def _load(module, **tensors):
    with torch.no_grad():
        for name, value in tensors.items():
            getattr(module, name).copy_(torch.as_tensor(np.asarray(value, dtype=float)).reshape(getattr(module, name).shape))


# ---------------------------------------------------------------------------
# LSTM / GRU cells


def test_lstm_cell_matches_torch_lstmcell():
    for _ in range(60):
        n_in, hidden = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        x, h, c = rng.normal(size=n_in), rng.normal(size=hidden), rng.normal(size=hidden)
        w_ih, w_hh = rng.normal(size=(4 * hidden, n_in)), rng.normal(size=(4 * hidden, hidden))
        b_ih, b_hh = rng.normal(size=4 * hidden), rng.normal(size=4 * hidden)
        cell = torch.nn.LSTMCell(n_in, hidden, dtype=torch.float64)
        _load(cell, weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh)
        with torch.no_grad():
            h_ref, c_ref = cell(torch.tensor(x)[None], (torch.tensor(h)[None], torch.tensor(c)[None]))
        mine = lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh)
        np.testing.assert_allclose(mine["h"], h_ref[0].numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(mine["c"], c_ref[0].numpy(), rtol=1e-12, atol=1e-12)


def test_lstm_cell_step_oracle_matches_torch():
    """The template's layout (W rows i, f, g, o; u; b = b_ih + b_hh) loaded into a real LSTMCell(2, 1)."""
    oracle = get("lstm_cell_step")
    for _ in range(100):
        p = {"x": rng.integers(-2, 3, 2).astype(float), "h_prev": float(_one_decimal()), "c_prev": float(_one_decimal() * 2),
             "W": _one_decimal(4, 2), "u": _one_decimal(4), "b": _one_decimal(4)}
        cell = torch.nn.LSTMCell(2, 1, dtype=torch.float64)
        _load(cell, weight_ih=p["W"], weight_hh=p["u"], bias_ih=p["b"], bias_hh=np.zeros(4))
        with torch.no_grad():
            h_ref, c_ref = cell(torch.tensor(p["x"])[None], (_t([[p["h_prev"]]]), _t([[p["c_prev"]]])))
        out = oracle(p)
        assert out["h"] == pytest.approx(float(h_ref), abs=1e-12)
        assert out["c"] == pytest.approx(float(c_ref), abs=1e-12)
        # the gates, from torch's own stacked pre-activations
        z = torch.tensor(p["W"]) @ torch.tensor(p["x"]) + torch.tensor(p["u"]) * p["h_prev"] + torch.tensor(p["b"])
        np.testing.assert_allclose(out["z"], z.numpy(), atol=1e-12)
        assert [out[g] for g in "ifo"] == pytest.approx(torch.sigmoid(z[[0, 1, 3]]).tolist(), abs=1e-12)
        assert out["g"] == pytest.approx(math.tanh(float(z[2])), abs=1e-12)


def test_gru_cell_matches_torch_grucell():
    for _ in range(60):
        n_in, hidden = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        x, h = rng.normal(size=n_in), rng.normal(size=hidden)
        w_ih, w_hh = rng.normal(size=(3 * hidden, n_in)), rng.normal(size=(3 * hidden, hidden))
        b_ih, b_hh = rng.normal(size=3 * hidden), rng.normal(size=3 * hidden)
        cell = torch.nn.GRUCell(n_in, hidden, dtype=torch.float64)
        _load(cell, weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh)
        with torch.no_grad():
            h_ref = cell(torch.tensor(x)[None], torch.tensor(h)[None])
        np.testing.assert_allclose(gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)["h"], h_ref[0].numpy(), rtol=1e-12, atol=1e-12)


def test_gru_cell_step_oracle_matches_torch():
    oracle = get("gru_cell_step")
    for _ in range(100):
        p = {"x": rng.integers(-2, 3, 2).astype(float), "h_prev": float(_one_decimal()), "W": _one_decimal(3, 2),
             "b_i": _one_decimal(3), "u": _one_decimal(3), "b_h": _one_decimal(3)}
        cell = torch.nn.GRUCell(2, 1, dtype=torch.float64)
        _load(cell, weight_ih=p["W"], weight_hh=p["u"], bias_ih=p["b_i"], bias_hh=p["b_h"])
        with torch.no_grad():
            h_ref = cell(_t(p["x"])[None], _t([[p["h_prev"]]]))
        out = oracle(p)
        assert out["h"] == pytest.approx(float(h_ref), abs=1e-12)
        # torch's own gate split: r and z from the summed parts, n with r inside the hidden part
        gi = torch.tensor(p["W"]) @ torch.tensor(p["x"]) + torch.tensor(p["b_i"])
        gh = torch.tensor(p["u"]) * p["h_prev"] + torch.tensor(p["b_h"])
        assert out["r"] == pytest.approx(float(torch.sigmoid(gi[0] + gh[0])), abs=1e-12)
        assert out["z"] == pytest.approx(float(torch.sigmoid(gi[1] + gh[1])), abs=1e-12)
        assert out["n"] == pytest.approx(float(torch.tanh(gi[2] + out["r"] * gh[2])), abs=1e-12)


def test_lstm_cell_golden_zero_weights():
    # With all weights and biases zero every gate is sigma(0) = 1/2 and the candidate tanh(0) = 0
    # (Hochreiter & Schmidhuber 1997 / PyTorch LSTMCell equations): c_t = c_{t-1}/2, h_t = tanh(c_t)/2.
    out = get("lstm_cell_step")({"x": np.array([1.0, -2.0]), "h_prev": 0.5, "c_prev": 1.0,
                                 "W": np.zeros((4, 2)), "u": np.zeros(4), "b": np.zeros(4)})
    assert (out["i"], out["f"], out["g"], out["o"]) == (0.5, 0.5, 0.0, 0.5)
    assert out["c"] == 0.5
    assert out["h"] == pytest.approx(0.5 * math.tanh(0.5), abs=1e-15)


def test_gru_cell_golden_update_gate_convention():
    # PyTorch GRUCell docs: h' = (1 - z) * n + z * h. A huge update-gate bias gives z -> 1, so the state
    # is kept (h' = h); a huge negative one gives z -> 0, so h' = n = tanh(W_in x + b_in + r*(W_hn h + b_hn)).
    base = {"x": np.array([1.0, 1.0]), "h_prev": 0.3, "W": np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.5]]),
            "b_i": np.zeros(3), "u": np.array([0.0, 0.0, 1.0]), "b_h": np.array([0.0, 50.0, 0.0])}
    assert get("gru_cell_step")(base)["h"] == pytest.approx(0.3, abs=1e-12)
    base["b_h"] = np.array([0.0, -50.0, 0.0])
    # r = sigma(0) = 1/2 inside the hidden part: n = tanh(1 + 0.5*0.3)
    assert get("gru_cell_step")(base)["h"] == pytest.approx(math.tanh(1.15), abs=1e-12)


# ---------------------------------------------------------------------------
# Sequences


def test_lstm_sequence_matches_torch_lstm():
    oracle = get("lstm_sequence")
    for _ in range(60):
        p = {"x": rng.integers(-2, 3, 2).astype(float), "w": _one_decimal(4), "u": _one_decimal(4), "b": _one_decimal(4)}
        lstm = torch.nn.LSTM(1, 1, dtype=torch.float64)
        _load(lstm, weight_ih_l0=p["w"], weight_hh_l0=p["u"], bias_ih_l0=p["b"], bias_hh_l0=np.zeros(4))
        with torch.no_grad():
            seq = torch.tensor(p["x"]).reshape(2, 1, 1)
            output, (_, c_n) = lstm(seq)
            _, (_, c_1) = lstm(seq[:1])
        out = oracle(p)
        assert [out["h1"], out["h2"]] == pytest.approx(output.reshape(-1).tolist(), abs=1e-12)
        assert out["c1"] == pytest.approx(float(c_1), abs=1e-12)
        assert out["c2"] == pytest.approx(float(c_n), abs=1e-12)


def test_gru_sequence_matches_torch_gru():
    oracle = get("gru_sequence")
    for _ in range(60):
        p = {"x": rng.integers(-2, 3, 2).astype(float), "w": _one_decimal(3), "b_i": _one_decimal(3),
             "u": _one_decimal(3), "b_h": _one_decimal(3)}
        gru = torch.nn.GRU(1, 1, dtype=torch.float64)
        _load(gru, weight_ih_l0=p["w"], weight_hh_l0=p["u"], bias_ih_l0=p["b_i"], bias_hh_l0=p["b_h"])
        with torch.no_grad():
            output, _ = gru(torch.tensor(p["x"]).reshape(2, 1, 1))
        out = oracle(p)
        assert [out["h1"], out["h2"]] == pytest.approx(output.reshape(-1).tolist(), abs=1e-12)


def test_rnn_forward_matches_torch_rnn():
    oracle = get("rnn_forward")
    for _ in range(100):
        w, u, b, h0 = (float(v) for v in _one_decimal(4))
        x = rng.integers(-2, 3, 3).astype(float)
        rnn = torch.nn.RNN(1, 1, dtype=torch.float64)  # h_t = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
        _load(rnn, weight_ih_l0=[w], weight_hh_l0=[u], bias_ih_l0=[b], bias_hh_l0=[0.0])
        with torch.no_grad():
            output, _ = rnn(_t(x).reshape(3, 1, 1), _t([[[h0]]]))
        out = oracle({"x": x, "w": w, "u": u, "b": b, "h0": h0})
        assert [out["h1"], out["h2"], out["h3"]] == pytest.approx(output.reshape(-1).tolist(), abs=1e-12)


def test_rnn_forward_golden():
    # h_1 = tanh(1) = 0.7615941559557649 (value of tanh(1), e.g. Abramowitz & Stegun table 4.11), then
    # h_2 = tanh(h_1) and h_3 = tanh(h_2) when w = u = 1, b = 0 and the inputs are 1, 0, 0.
    out = get("rnn_forward")({"x": np.array([1.0, 0.0, 0.0]), "w": 1.0, "u": 1.0, "b": 0.0, "h0": 0.0})
    assert out["h1"] == pytest.approx(0.7615941559557649, abs=1e-15)
    assert out["h2"] == pytest.approx(math.tanh(0.7615941559557649), abs=1e-15)


# ---------------------------------------------------------------------------
# BPTT


def _h3(w, u, x, h0):
    h = h0
    for x_t in x:
        h = math.tanh(w * h + u * x_t)
    return h


def test_bptt_gradient_matches_finite_differences():
    oracle = get("rnn_bptt_gradient")
    for _ in range(100):
        w, u = float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-1, 1))
        x, h0 = rng.integers(-2, 3, 3).astype(float), float(rng.uniform(-0.5, 0.5))
        out = oracle({"x": x, "w": w, "u": u, "h0": h0})
        eps = 1e-6
        numeric = (_h3(w, u, x, h0 + eps) - _h3(w, u, x, h0 - eps)) / (2 * eps)
        assert out["g"] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
        h = h0
        for t, x_t in enumerate(x, 1):
            step = (math.tanh(w * (h + eps) + u * x_t) - math.tanh(w * (h - eps) + u * x_t)) / (2 * eps)
            assert out[f"j{t}"] == pytest.approx(step, rel=1e-6, abs=1e-9)
            h = math.tanh(w * h + u * x_t)
            assert out[f"h{t}"] == pytest.approx(h, abs=1e-15)


def test_bptt_golden_linear_regime():
    # Pascanu, Mikolov & Bengio (2013), eq. 5: dh_t/dh_k = prod_i W^T diag(sigma'(.)). At the fixed point
    # h = 0 with zero inputs, tanh' = 1, so dh_3/dh_0 = w^3: |w| < 1 vanishes, |w| > 1 explodes.
    for w in (0.5, 1.5, -0.9):
        out = get("rnn_bptt_gradient")({"x": np.zeros(3), "w": w, "u": 0.7, "h0": 0.0})
        assert out["g"] == pytest.approx(w**3, abs=1e-15)


# ---------------------------------------------------------------------------
# Sizes


def test_rnn_param_count_matches_modules():
    oracle = get("rnn_param_count")
    for _ in range(100):
        n, m = int(rng.integers(1, 300)), int(rng.integers(1, 256))
        for cell in ("LSTM", "GRU"):
            module = getattr(torch.nn, cell)(n, m, device="meta")
            total = sum(p.numel() for p in module.parameters())
            assert oracle({"layer": f"PyTorch-{cell}", "n": n, "m": m})["total"] == total
            assert oracle({"layer": f"Keras-{cell}", "n": n, "m": m})["total"] == total - module.bias_hh_l0.numel()


def test_rnn_param_count_golden():
    oracle = get("rnn_param_count")
    # PyTorch docs (torch.nn.LSTM): weight_ih_l0 (4*hidden, input), weight_hh_l0 (4*hidden, hidden),
    # bias_ih_l0 and bias_hh_l0 (4*hidden). nn.LSTM(10, 20): 4*(20*10 + 20*20 + 20 + 20) = 2,560.
    assert oracle({"layer": "PyTorch-LSTM", "n": 10, "m": 20})["total"] == 2560
    # Keras guide "Working with RNNs" (keras-team/keras-io, guides/md/working_with_rnns.md), model.summary():
    # Embedding(1000, 64) -> LSTM(128) has 98,816 parameters (one bias vector) ...
    assert oracle({"layer": "Keras-LSTM", "n": 64, "m": 128})["total"] == 98816
    # ... and the encoder LSTM(64) on 64-dim embeddings 33,024.
    assert oracle({"layer": "Keras-LSTM", "n": 64, "m": 64})["total"] == 33024
    # Same guide: GRU(256) with the TF2 default reset_after=True (two bias vectors, as PyTorch) has 247,296.
    assert oracle({"layer": "PyTorch-GRU", "n": 64, "m": 256})["total"] == 247296


def test_birnn_output_shape_matches_meta_built_module():
    # The oracle's previous method: the module built on the meta device, given CPU storage with to_empty,
    # then run on a zero input; output and h_n shapes must agree with the oracle's CPU module.
    oracle = get("birnn_output_shape")
    for _ in range(60):
        cell = str(rng.choice(["RNN", "GRU", "LSTM"]))
        L, N, n_in, hidden, layers = (int(v) for v in (rng.integers(1, 7), rng.integers(1, 17), rng.integers(1, 49),
                                                        rng.integers(1, 49), rng.integers(1, 4)))
        module = getattr(torch.nn, cell)(n_in, hidden, num_layers=layers, bidirectional=True, device="meta").to_empty(device="cpu")
        with torch.no_grad():
            output, state = module(torch.zeros(L, N, n_in))
        h_n = state[0] if isinstance(state, tuple) else state
        out = oracle({"cell": cell, "L": L, "N": N, "H_in": n_in, "H": hidden, "layers": layers})
        assert out["out"] == tuple(output.shape)
        assert out["D"] == h_n.shape[0] // layers and out["feat"] == output.shape[2]


def test_birnn_oracle_leaves_torch_random_stream_alone():
    # Building the CPU module draws its initial weights on a forked generator state.
    rnn_oracles._birnn.cache_clear()  # so the module is really built here
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    get("birnn_output_shape")({"cell": "GRU", "L": 3, "N": 2, "H_in": 37, "H": 41, "layers": 3})
    assert torch.equal(torch.rand(3), expected)


def test_birnn_output_shape_matches_torch_and_docs():
    oracle = get("birnn_output_shape")
    for _ in range(15):
        cell = str(rng.choice(["RNN", "GRU", "LSTM"]))
        L, N, n_in, hidden, layers = (int(v) for v in (rng.integers(1, 6), rng.integers(1, 5), rng.integers(1, 10),
                                                        rng.integers(1, 10), rng.integers(1, 4)))
        out = oracle({"cell": cell, "L": L, "N": N, "H_in": n_in, "H": hidden, "layers": layers})
        # PyTorch docs (nn.RNN / nn.GRU / nn.LSTM): output is (L, N, D * H_out) with D = 2 when bidirectional.
        assert out["out"] == (L, N, 2 * hidden)
        assert out["D"] == 2 and out["feat"] == 2 * hidden
    # Keras RNN guide: Bidirectional(LSTM(64, return_sequences=True)) on (5, 10) inputs gives (None, 5, 128).
    assert oracle({"cell": "LSTM", "L": 5, "N": 1, "H_in": 10, "H": 64, "layers": 1})["out"] == (5, 1, 128)
