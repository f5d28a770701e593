"""RNN oracles against torch.nn recurrent modules and against published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get
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
    """The template's layout (W rows i, f, g, o; U; b = b_ih + b_hh) loaded into a real LSTMCell(n, m), any sizes."""
    oracle = get("lstm_cell_step")
    for _ in range(100):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        p = {"n": n, "m": m, "x": rng.integers(-2, 3, n).astype(float), "h_prev": _one_decimal(m),
             "c_prev": _one_decimal(m) * 2, "W": _one_decimal(4 * m, n), "U": _one_decimal(4 * m, m), "b": _one_decimal(4 * m)}
        cell = torch.nn.LSTMCell(n, m, dtype=torch.float64)
        _load(cell, weight_ih=p["W"], weight_hh=p["U"], bias_ih=p["b"], bias_hh=np.zeros(4 * m))
        with torch.no_grad():
            h_ref, c_ref = cell(_t(p["x"])[None], (_t(p["h_prev"])[None], _t(p["c_prev"])[None]))
        out = oracle(p)
        np.testing.assert_allclose(out["h"], h_ref[0].numpy(), atol=1e-12)
        np.testing.assert_allclose(out["c"], c_ref[0].numpy(), atol=1e-12)
        # the gates, from torch's own stacked pre-activations
        z = _t(p["W"]) @ _t(p["x"]) + _t(p["U"]) @ _t(p["h_prev"]) + _t(p["b"])
        np.testing.assert_allclose(out["z"], z.numpy(), atol=1e-12)
        zi, zf, zg, zo = z.split(m)
        for gate, ref in (("i", torch.sigmoid(zi)), ("f", torch.sigmoid(zf)), ("g", torch.tanh(zg)), ("o", torch.sigmoid(zo))):
            np.testing.assert_allclose(out[gate], ref.numpy(), atol=1e-12)


def test_lstm_cell_step_issue_example_input_3_hidden_2():
    # The issue's example: input size 3, hidden size 2; the one-unit layout (a flat u of 4) also still works.
    out = get("lstm_cell_step")({"x": np.array([1.0, -1.0, 0.5]), "h_prev": np.array([0.2, -0.3]), "c_prev": np.array([0.5, 1.0]),
                                 "W": np.full((8, 3), 0.1), "U": np.tile(np.eye(2), (4, 1)), "b": np.zeros(8)})
    assert out["h"].shape == (2,) and out["z"].shape == (8,)
    flat = get("lstm_cell_step")({"x": np.array([1.0, 2.0]), "h_prev": 0.5, "c_prev": 1.0, "W": np.ones((4, 2)),
                                  "U": np.array([0.1, 0.2, 0.3, 0.4]), "b": np.zeros(4)})
    assert flat["z"] == pytest.approx([3.05, 3.1, 3.15, 3.2])


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


def _keras_gru_reset_before(x, h, w_ih, w_hh, b_ih, b_hh):
    """Cho et al. (2014) eq. 5-8 / Keras GRU(reset_after=False), written out per unit with torch ops:
    h~ = tanh(W x + U (r * h)), biases added outside the reset gate."""
    m = h.shape[0]
    gi, hr_hz = w_ih @ x + b_ih, w_hh[: 2 * m] @ h + b_hh[: 2 * m]
    r = torch.sigmoid(gi[:m] + hr_hz[:m])
    z = torch.sigmoid(gi[m : 2 * m] + hr_hz[m:])
    cand = torch.tanh(gi[2 * m :] + w_hh[2 * m :] @ (r * h) + b_hh[2 * m :])
    return (1 - z) * cand + z * h


def test_gru_cell_step_oracle_matches_torch():
    oracle = get("gru_cell_step")
    for _ in range(100):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        p = {"n": n, "m": m, "x": rng.integers(-2, 3, n).astype(float), "h_prev": _one_decimal(m), "W": _one_decimal(3 * m, n),
             "b_i": _one_decimal(3 * m), "U": _one_decimal(3 * m, m), "b_h": _one_decimal(3 * m), "reset_after": "true"}
        cell = torch.nn.GRUCell(n, m, dtype=torch.float64)
        _load(cell, weight_ih=p["W"], weight_hh=p["U"], bias_ih=p["b_i"], bias_hh=p["b_h"])
        with torch.no_grad():
            h_ref = cell(_t(p["x"])[None], _t(p["h_prev"])[None])
        out = oracle(p)
        np.testing.assert_allclose(out["h"], h_ref[0].numpy(), atol=1e-12)
        # torch's own gate split: r and z from the summed parts, n with r inside the hidden part
        gi = _t(p["W"]) @ _t(p["x"]) + _t(p["b_i"])
        gh = _t(p["U"]) @ _t(p["h_prev"]) + _t(p["b_h"])
        np.testing.assert_allclose(out["r"], torch.sigmoid(gi[:m] + gh[:m]).numpy(), atol=1e-12)
        np.testing.assert_allclose(out["z"], torch.sigmoid(gi[m : 2 * m] + gh[m : 2 * m]).numpy(), atol=1e-12)
        np.testing.assert_allclose(out["n_cand"], torch.tanh(gi[2 * m :] + _t(out["r"]) * gh[2 * m :]).numpy(), atol=1e-12)
        # reset_after = false: the reset gate scales h before the recurrent matrix
        before = oracle({**p, "reset_after": "false"})
        ref = _keras_gru_reset_before(_t(p["x"]), _t(p["h_prev"]), _t(p["W"]), _t(p["U"]), _t(p["b_i"]), _t(p["b_h"]))
        np.testing.assert_allclose(before["h"], ref.numpy(), atol=1e-12)
        if m == 1:  # one unit: r * (u h) = u (r h), so the two conventions differ only by r * b_hn vs b_hn
            assert before["n_cand"] == pytest.approx(np.tanh(gi[2].item() + p["U"][2, 0] * out["r"][0] * p["h_prev"][0] + p["b_h"][2]))


def test_lstm_cell_golden_zero_weights():
    # With all weights and biases zero every gate is sigma(0) = 1/2 and the candidate tanh(0) = 0
    # (Hochreiter & Schmidhuber 1997 / PyTorch LSTMCell equations): c_t = c_{t-1}/2, h_t = tanh(c_t)/2.
    out = get("lstm_cell_step")({"x": np.array([1.0, -2.0]), "h_prev": 0.5, "c_prev": 1.0,
                                 "W": np.zeros((4, 2)), "U": np.zeros((4, 1)), "b": np.zeros(4)})
    assert (out["i"], out["f"], out["g"], out["o"]) == (0.5, 0.5, 0.0, 0.5)
    assert out["c"] == 0.5
    assert out["h"] == pytest.approx(0.5 * math.tanh(0.5), abs=1e-15)


def test_gru_cell_golden_update_gate_convention():
    # PyTorch GRUCell docs: h' = (1 - z) * n + z * h. A huge update-gate bias gives z -> 1, so the state
    # is kept (h' = h); a huge negative one gives z -> 0, so h' = n = tanh(W_in x + b_in + r*(W_hn h + b_hn)).
    base = {"x": np.array([1.0, 1.0]), "h_prev": 0.3, "W": np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.5]]),
            "b_i": np.zeros(3), "U": np.array([[0.0], [0.0], [1.0]]), "b_h": np.array([0.0, 50.0, 0.0])}
    assert get("gru_cell_step")(base)["h"] == pytest.approx(0.3, abs=1e-12)
    base["b_h"] = np.array([0.0, -50.0, 0.0])
    # r = sigma(0) = 1/2 inside the hidden part: n = tanh(1 + 0.5*0.3)
    assert get("gru_cell_step")(base)["h"] == pytest.approx(math.tanh(1.15), abs=1e-12)


# ---------------------------------------------------------------------------
# Sequences


def test_lstm_sequence_matches_torch_lstm_any_size_and_length():
    oracle = get("lstm_sequence")
    for _ in range(60):
        n, m, T = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 5))
        p = {"x": rng.integers(-2, 3, (T, n)).astype(float), "w": _one_decimal(4 * m, n), "u": _one_decimal(4 * m, m),
             "b": _one_decimal(4 * m), "h0": _one_decimal(m), "c0": _one_decimal(m)}
        lstm = torch.nn.LSTM(n, m, dtype=torch.float64)
        _load(lstm, weight_ih_l0=p["w"], weight_hh_l0=p["u"], bias_ih_l0=p["b"], bias_hh_l0=np.zeros(4 * m))
        state = (_t(p["h0"]).reshape(1, 1, m), _t(p["c0"]).reshape(1, 1, m))
        with torch.no_grad():
            output, _ = lstm(_t(p["x"])[:, None, :], state)
            cells = [lstm(_t(p["x"][:t])[:, None, :], state)[1][1].reshape(-1).numpy() for t in range(1, T + 1)]
        out = oracle(p)
        np.testing.assert_allclose(out["H"], output[:, 0, :].numpy(), atol=1e-12)
        np.testing.assert_allclose(out["C"], np.array(cells), atol=1e-12)
        np.testing.assert_allclose(out["h"], output[-1, 0].numpy(), atol=1e-12)
        previous = np.vstack([p["h0"], out["H"][:-1]])
        np.testing.assert_allclose(out["Z"], p["x"] @ p["w"].T + previous @ p["u"].T + p["b"], atol=1e-12)


def test_gru_sequence_matches_torch_gru_any_size_and_length():
    oracle = get("gru_sequence")
    for _ in range(60):
        n, m, T = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 5))
        p = {"x": rng.integers(-2, 3, (T, n)).astype(float), "w": _one_decimal(3 * m, n), "b_i": _one_decimal(3 * m),
             "u": _one_decimal(3 * m, m), "b_h": _one_decimal(3 * m), "h0": _one_decimal(m)}
        gru = torch.nn.GRU(n, m, dtype=torch.float64)
        _load(gru, weight_ih_l0=p["w"], weight_hh_l0=p["u"], bias_ih_l0=p["b_i"], bias_hh_l0=p["b_h"])
        with torch.no_grad():
            output, _ = gru(_t(p["x"])[:, None, :], _t(p["h0"]).reshape(1, 1, m))
        out = oracle(p)
        np.testing.assert_allclose(out["H"], output[:, 0, :].numpy(), atol=1e-12)
        np.testing.assert_allclose(out["h"], output[-1, 0].numpy(), atol=1e-12)


def test_sequence_oracles_keep_the_one_unit_two_step_layout():
    # the first templates' parameters: a flat x of two inputs, flat w, u and b of one unit, h_0 = c_0 = 0
    p = {"x": np.array([1.0, -1.0]), "w": np.array([0.5, -0.3, 0.2, 0.1]), "u": np.array([0.1, 0.4, -0.6, 0.3]),
         "b": np.array([0.1, 0.2, 0.3, 0.4])}
    lstm = torch.nn.LSTM(1, 1, dtype=torch.float64)
    _load(lstm, weight_ih_l0=p["w"], weight_hh_l0=p["u"], bias_ih_l0=p["b"], bias_hh_l0=np.zeros(4))
    with torch.no_grad():
        output, _ = lstm(_t(p["x"]).reshape(2, 1, 1))
    np.testing.assert_allclose(get("lstm_sequence")(p)["H"].reshape(-1), output.reshape(-1).numpy(), atol=1e-12)


def test_rnn_forward_matches_numpy_loop_any_size_and_length():
    oracle = get("rnn_forward")
    for _ in range(100):
        n, m, T = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
        w, u, b, h0 = _one_decimal(m, n), _one_decimal(m, m), _one_decimal(m), _one_decimal(m)
        x = rng.integers(-2, 3, (T, n)).astype(float)
        h, states, pre = h0, [], []
        for x_t in x:  # h_t = tanh(W x_t + U h_{t-1} + b), written out
            pre.append([sum(w[i, j] * x_t[j] for j in range(n)) + sum(u[i, j] * h[j] for j in range(m)) + b[i] for i in range(m)])
            h = np.tanh(np.array(pre[-1]))
            states.append(h)
        out = oracle({"x": x, "w": w, "u": u, "b": b, "h0": h0})
        np.testing.assert_allclose(out["H"], np.array(states), atol=1e-12)
        np.testing.assert_allclose(out["A"], np.array(pre), atol=1e-12)
        np.testing.assert_allclose(out["h"], states[-1], atol=1e-12)


def test_rnn_forward_golden():
    # h_1 = tanh(1) = 0.7615941559557649 (value of tanh(1), e.g. Abramowitz & Stegun table 4.11), then
    # h_2 = tanh(h_1) and h_3 = tanh(h_2) when w = u = 1, b = 0 and the inputs are 1, 0, 0.
    out = get("rnn_forward")({"x": np.array([1.0, 0.0, 0.0]), "w": 1.0, "u": 1.0, "b": 0.0, "h0": 0.0})
    assert out["H"][0, 0] == pytest.approx(0.7615941559557649, abs=1e-15)
    assert out["H"][1, 0] == pytest.approx(math.tanh(0.7615941559557649), abs=1e-15)


# ---------------------------------------------------------------------------
# BPTT


def _last_state(w, u, x, h0):
    h = h0
    for x_t in x:
        h = np.tanh(w @ h + u @ x_t)
    return h


def test_bptt_gradient_matches_finite_differences_any_size_and_length():
    oracle = get("rnn_bptt_gradient")
    for _ in range(100):
        n, m, T = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
        w, u = rng.uniform(-1.5, 1.5, (m, m)), rng.uniform(-1, 1, (m, n))
        x, h0, dh = rng.integers(-2, 3, (T, n)).astype(float), rng.uniform(-0.5, 0.5, m), rng.uniform(-1, 1, m)
        out = oracle({"x": x, "w": w, "u": u, "h0": h0, "dh": dh})
        eps = 1e-6
        loss = lambda start: dh @ _last_state(w, u, x, start)
        numeric = [(loss(h0 + eps * e) - loss(h0 - eps * e)) / (2 * eps) for e in np.eye(m)]
        np.testing.assert_allclose(out["g"], numeric, rtol=1e-6, atol=1e-9)
        states = [h0]
        for x_t in x:
            states.append(np.tanh(w @ states[-1] + u @ x_t))
        np.testing.assert_allclose(out["H"], np.array(states[1:]), atol=1e-15)
        np.testing.assert_allclose(out["S"], np.array(states[:-1]), atol=1e-15)
        np.testing.assert_allclose(out["D"], 1 - np.array(states[1:]) ** 2, atol=1e-15)


def test_bptt_golden_linear_regime():
    # Pascanu, Mikolov & Bengio (2013), eq. 5: dh_t/dh_k = prod_i W^T diag(sigma'(.)). At the fixed point
    # h = 0 with zero inputs, tanh' = 1, so dh_3/dh_0 = w^3: |w| < 1 vanishes, |w| > 1 explodes.
    for w in (0.5, 1.5, -0.9):
        out = get("rnn_bptt_gradient")({"x": np.zeros(3), "w": w, "u": 0.7, "h0": 0.0})
        assert out["g"] == pytest.approx([w**3], abs=1e-15)
    # with m units the same regime gives (W^T)^3 dh: W = [[0.5, 0.1], [0, 0.5]] and dh = (1, 0)
    w = np.array([[0.5, 0.1], [0.0, 0.5]])
    out = get("rnn_bptt_gradient")({"x": np.zeros((3, 1)), "w": w, "u": np.ones((2, 1)), "h0": np.zeros(2), "dh": np.array([1.0, 0.0])})
    assert out["g"] == pytest.approx([0.125, 0.075], abs=1e-15)  # (W^T)^3 = [[0.125, 0], [0.075, 0.125]]


# ---------------------------------------------------------------------------
# Sizes


def test_rnn_param_count_matches_modules():
    oracle = get("rnn_param_count")
    for _ in range(60):
        n, m, bias = int(rng.integers(1, 300)), int(rng.integers(1, 256)), bool(rng.integers(2))
        for cell, keras in (("LSTM", "LSTM"), ("GRU", "GRU"), ("RNN", "SimpleRNN")):
            module = getattr(torch.nn, cell)(n, m, bias=bias, device="meta")
            total = sum(p.numel() for p in module.parameters())
            one_bias = module.bias_hh_l0.numel() if bias else 0
            assert oracle({"layer": f"PyTorch-{cell}", "n": n, "m": m, "bias": bias})["total"] == total
            keras_total = oracle({"layer": f"Keras-{keras}", "n": n, "m": m, "bias": bias, "reset_after": "false"})["total"]
            assert keras_total == total - one_bias
        gru_after = oracle({"layer": "Keras-GRU", "n": n, "m": m, "bias": bias, "reset_after": "true"})["total"]
        assert gru_after == sum(p.numel() for p in torch.nn.GRU(n, m, bias=bias, device="meta").parameters())


def test_rnn_param_count_huge_sizes_do_not_allocate():
    # The issue's example n = m = 10^9: 4(n m + m^2 + 2m) = 8,000,000,008,000,000,000, counted on meta tensors.
    out = get("rnn_param_count")({"layer": "PyTorch-LSTM", "n": 10**9, "m": 10**9, "bias": True})
    assert out["total"] == 8_000_000_008_000_000_000


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
    # Same guide: GRU(256) with the TF2 default reset_after=True (two bias vectors, as PyTorch) has 247,296,
    # and SimpleRNN(128) on the GRU's 256-dim output 49,280.
    assert oracle({"layer": "PyTorch-GRU", "n": 64, "m": 256})["total"] == 247296
    assert oracle({"layer": "Keras-GRU", "n": 64, "m": 256, "reset_after": "true"})["total"] == 247296
    assert oracle({"layer": "Keras-SimpleRNN", "n": 256, "m": 128})["total"] == 49280


def test_birnn_output_shape_matches_a_real_forward_pass():
    # Real CPU modules run forward on zero inputs at small sizes; the oracle reads the meta-built module.
    oracle = get("birnn_output_shape")
    for _ in range(60):
        cell = str(rng.choice(["RNN", "GRU", "LSTM"]))
        L, N, n_in, hidden, layers = (int(v) for v in (rng.integers(1, 7), rng.integers(1, 17), rng.integers(1, 49),
                                                        rng.integers(1, 49), rng.integers(1, 4)))
        batch_first = bool(rng.integers(2))
        module = getattr(torch.nn, cell)(n_in, hidden, num_layers=layers, bidirectional=True, batch_first=batch_first)
        with torch.no_grad():
            output, state = module(torch.zeros((N, L, n_in) if batch_first else (L, N, n_in)))
        h_n = state[0] if isinstance(state, tuple) else state
        out = oracle({"cell": cell, "L": L, "N": N, "H_in": n_in, "H": hidden, "layers": layers, "batch_first": batch_first})
        assert out["out"] == tuple(output.shape)
        assert out["D"] == h_n.shape[0] // layers and out["feat"] == output.shape[2]


def test_birnn_oracle_allocates_nothing_at_huge_sizes():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    out = get("birnn_output_shape")({"cell": "LSTM", "L": 10**9, "N": 10**9, "H_in": 10**9, "H": 10**9, "layers": 3})
    assert out["out"] == (10**9, 10**9, 2 * 10**9)
    assert torch.equal(torch.rand(3), expected)  # no initialisation drawn from torch's generator


def test_birnn_output_shape_matches_torch_and_docs():
    oracle = get("birnn_output_shape")
    for _ in range(15):
        cell = str(rng.choice(["RNN", "GRU", "LSTM"]))
        L, N, n_in, hidden, layers = (int(v) for v in (rng.integers(1, 6), rng.integers(1, 5), rng.integers(1, 10),
                                                        rng.integers(1, 10), rng.integers(1, 4)))
        out = oracle({"cell": cell, "L": L, "N": N, "H_in": n_in, "H": hidden, "layers": layers})
        # PyTorch docs (nn.RNN / nn.GRU / nn.LSTM): output is (L, N, D * H_out) with D = 2 when bidirectional,
        # (N, L, D * H_out) when batch_first=True.
        assert out["out"] == (L, N, 2 * hidden)
        assert out["D"] == 2 and out["feat"] == 2 * hidden
        assert oracle({"cell": cell, "L": L, "N": N, "H_in": n_in, "H": hidden, "layers": layers, "batch_first": True})["out"] == (N, L, 2 * hidden)
    # Keras RNN guide: Bidirectional(LSTM(64, return_sequences=True)) on (5, 10) inputs gives (None, 5, 128)
    # (Keras puts the batch first, as batch_first=True).
    assert oracle({"cell": "LSTM", "L": 5, "N": 1, "H_in": 10, "H": 64, "layers": 1, "batch_first": True})["out"] == (1, 5, 128)


# ---------------------------------------------------------------------------
# Stacked and bidirectional layers


def test_rnn_stack_param_count_matches_cpu_modules():
    oracle = get("rnn_stack_param_count")
    for _ in range(40):
        cell = str(rng.choice(["RNN", "GRU", "LSTM"]))
        n, m, layers, bidirectional = int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 4)), bool(rng.integers(2))
        for biases in ("two", "one", "none"):
            module = getattr(torch.nn, cell)(n, m, num_layers=layers, bidirectional=bidirectional, bias=biases != "none")
            counted = {name: p.numel() for name, p in module.named_parameters()}
            if biases == "one":  # Keras / textbook cells keep one bias vector per block
                counted = {name: c for name, c in counted.items() if not name.startswith("bias_hh")}
            out = oracle({"cell": cell, "n": n, "m": m, "layers": layers, "bidirectional": bidirectional, "biases": biases})
            assert out["total"] == sum(counted.values())
            assert out["first"] == sum(c for name, c in counted.items() if name.endswith("_l0"))


def test_rnn_stack_param_count_golden_keras_guide():
    # Keras guide "Working with RNNs" (keras-team/keras-io, guides/md/working_with_rnns.md), section
    # "Bidirectional RNNs", model.summary(): Bidirectional(LSTM(64)) on (5, 10) inputs has 38,400 parameters and
    # Bidirectional(LSTM(32)) on its 128 outputs 41,216 (Keras: one bias vector per block).
    oracle = get("rnn_stack_param_count")
    assert oracle({"cell": "LSTM", "n": 10, "m": 64, "layers": 1, "bidirectional": True, "biases": "one"})["total"] == 38400
    assert oracle({"cell": "LSTM", "n": 128, "m": 32, "layers": 1, "bidirectional": True, "biases": "one"})["total"] == 41216


def test_rnn_stack_param_count_huge_sizes_do_not_allocate():
    out = get("rnn_stack_param_count")({"cell": "LSTM", "n": 10**9, "m": 10**9, "layers": 2, "bidirectional": True})
    m = 10**9
    assert out["total"] == 2 * (4 * (m * m + m * m + 2 * m) + 4 * (2 * m * m + m * m + 2 * m))


# ---------------------------------------------------------------------------
# CTC


def _collapse(path, blank):
    """The CTC map written out: merge runs, then drop blanks."""
    merged = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
    return [s for s in merged if s != blank]


def test_ctc_collapse_matches_python_and_the_formula_functions():
    from dlstudy.mathtext import functions, parsing

    for _ in range(300):
        path = [float(v) for v in rng.integers(0, 4, int(rng.integers(1, 12)))]
        got = get("ctc_collapse")({"y": np.array(path), "blank": 0})
        assert got["label"].tolist() == _collapse(path, 0)
        text = f"drop(merge_repeats({path}), 0)"
        assert functions.evaluate(parsing.parse(text)).tolist() == _collapse(path, 0)


def test_ctc_collapse_golden_graves():
    # Graves et al. (2006), "Connectionist Temporal Classification", sec. 3.1: B(a-ab-) = B(-aa--abb) = aab
    # (- the blank); with a = 1, b = 2 and the blank 0.
    for path in ([1, 0, 1, 2, 0], [0, 1, 1, 0, 0, 1, 2, 2]):
        assert get("ctc_collapse")({"y": np.array(path, dtype=float), "blank": 0})["label"].tolist() == [1, 1, 2]


def test_ctc_probability_matches_path_enumeration_and_torch():
    import itertools

    oracle = get("ctc_probability")
    for _ in range(100):
        T, C, U = int(rng.integers(1, 5)), int(rng.integers(2, 4)), int(rng.integers(1, 3))
        probs = rng.dirichlet(np.ones(C), size=T)
        label = [int(v) for v in rng.integers(1, C, U)]
        # every path of T frames that collapses to the label (blank = class C, the last)
        brute = sum(np.prod([probs[t, s - 1] for t, s in enumerate(path)])
                    for path in itertools.product(range(1, C + 1), repeat=T) if _collapse(list(path), C) == label)
        if brute == 0:
            continue
        got = oracle({"P": probs[:, :-1], "l": np.array(label, dtype=float)})
        assert got["p"] == pytest.approx(brute, rel=1e-10)
        assert got["loss"] == pytest.approx(-math.log(brute), rel=1e-6)  # torch's ctc_loss (float64)


def test_ctc_probability_golden_scheidl_mini_example():
    # Scheidl, CTCDecoder (github.com/githubharald/CTCDecoder), README "Mini example": two frames over a, b and
    # the blank, each frame (0.4, 0, 0.6): the label "a" sums the paths -a, a- and aa, 0.6*0.4 + 0.4*0.6 + 0.4*0.4 = 0.64.
    got = get("ctc_probability")({"P": np.array([[0.4, 0.0], [0.4, 0.0]]), "l": np.array([1.0])})
    assert got["p"] == pytest.approx(0.64, abs=1e-15)
