"""MLP oracles (torch autograd) against NumPy finite differences and a published worked example."""

from __future__ import annotations

import numpy as np
import pytest

from dlstudy.engine.oracles import get

rng = np.random.default_rng(11)

ACT = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def _numeric_gradient(f, x, h=1e-6):
    """Central differences of a scalar function f at every entry of x."""
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def _away_from_kinks(s):
    """ReLU's derivative is undefined at 0: keep finite differences away from it."""
    return np.where(np.abs(s) < 1e-3, 0.5, s)


def test_forward_pass_matches_numpy():
    oracle = get("mlp_forward")
    for _ in range(200):
        act = str(rng.choice([*ACT, "step"]))
        n, m = (int(v) for v in rng.integers(1, 6, 2))
        fires_at_zero = bool(rng.integers(2))
        p = {
            "act": act, "x": rng.uniform(-2, 2, n), "W1": rng.uniform(-1, 1, (n, m)),
            "b1": rng.uniform(-1, 1, m), "w2": rng.uniform(-1, 1, m), "b2": float(rng.uniform(-1, 1)),
            "fires_at_zero": fires_at_zero,
        }
        s = np.array([sum(p["x"][i] * p["W1"][i, j] for i in range(n)) + p["b1"][j] for j in range(m)])
        h = (s > 0).astype(float) if act == "step" else ACT[act](s)
        out = oracle(p)
        assert np.allclose(out["s"], s, rtol=1e-12, atol=1e-12)
        assert np.allclose(out["h"], h, rtol=1e-12, atol=1e-12)
        assert out["y"] == pytest.approx(float(p["w2"] @ h + p["b2"]), rel=1e-12, abs=1e-12)


def test_threshold_units_follow_the_stated_rule_at_zero():
    oracle = get("mlp_forward")
    p = {"act": "step", "x": np.array([1.0, -1.0]), "W1": np.array([[1.0, 2.0], [1.0, 1.0]]),
         "b1": np.array([0.0, 0.0]), "w2": np.array([1.0, 1.0]), "b2": 0.0}
    assert oracle({**p, "fires_at_zero": False})["h"].tolist() == [0.0, 1.0]  # s = [0, 1]
    assert oracle({**p, "fires_at_zero": True})["h"].tolist() == [1.0, 1.0]


def test_output_delta_sigmoid_mse_matches_finite_differences():
    oracle = get("output_delta_sigmoid_mse")
    scale = {"half_sse": lambda v, K: 0.5 * np.sum(v), "sse": lambda v, K: np.sum(v), "mse": lambda v, K: np.sum(v) / K}
    for _ in range(200):
        K = int(rng.integers(1, 6))
        loss_name = str(rng.choice(list(scale)))
        s, y = rng.uniform(-3, 3, K), rng.uniform(0, 1, K)
        out = oracle({"s": s, "y": y, "loss": loss_name})
        loss_of_s = lambda v: scale[loss_name]((ACT["sigmoid"](v) - y) ** 2, K)
        loss_of_h = lambda v: scale[loss_name]((v - y) ** 2, K)
        assert np.allclose(out["delta"], _numeric_gradient(loss_of_s, s), rtol=1e-6, atol=1e-9)
        assert np.allclose(out["dJdh"], _numeric_gradient(loss_of_h, ACT["sigmoid"](s)), rtol=1e-6, atol=1e-9)
        slope = _numeric_gradient(lambda v: ACT["sigmoid"](v).sum(), s)  # element-wise, so the sum's gradient
        assert np.allclose(out["gp"], slope, rtol=1e-6, atol=1e-9)


def test_output_delta_softmax_ce_matches_finite_differences():
    oracle = get("output_delta_softmax_ce")
    for _ in range(200):
        K = int(rng.integers(2, 7))
        z, c = rng.uniform(-3, 3, K), int(rng.integers(1, K + 1))
        out = oracle({"z": z, "c": c})
        loss = lambda v: -(v[c - 1] - np.log(np.sum(np.exp(v))))
        assert np.allclose(out["delta"], _numeric_gradient(loss, z), rtol=1e-6, atol=1e-9)
        assert np.allclose(out["p"], np.exp(z) / np.exp(z).sum(), rtol=1e-12)
        assert out["y"].tolist() == [float(k == c) for k in range(1, K + 1)]


def test_hidden_layer_delta_matches_finite_differences():
    oracle = get("hidden_layer_delta")
    for _ in range(200):
        act = str(rng.choice(list(ACT)))
        m, k = (int(v) for v in rng.integers(1, 5, 2))
        s, W, d = _away_from_kinks(rng.uniform(-2, 2, m)), rng.uniform(-1, 1, (m, k)), rng.uniform(-1, 1, k)
        out = oracle({"act": act, "s": s, "W": W, "d": d})
        # A loss whose gradient at the output pre-activations o = g(s) W is exactly d.
        loss = lambda v: float(d @ (ACT[act](v) @ W))
        assert np.allclose(out["delta"], _numeric_gradient(loss, s), rtol=1e-6, atol=1e-8), act
        assert np.allclose(out["back"], _numeric_gradient(lambda hv: float(d @ (hv @ W)), ACT[act](s)), rtol=1e-6, atol=1e-8)


def test_weight_gradient_and_sgd_step_match_finite_differences():
    oracle = get("weight_gradient_sgd")
    for _ in range(200):
        n, m = (int(v) for v in rng.integers(1, 5, 2))
        x, d, W = rng.uniform(-2, 2, n), rng.uniform(-1, 1, m), rng.uniform(-1, 1, (n, m))
        lr = float(rng.choice([0.1, 0.2, 0.5]))
        out = oracle({"x": x, "d": d, "W": W, "lr": lr})
        grad = _numeric_gradient(lambda M: float(d @ (x @ M)), W)
        assert np.allclose(out["G"], grad, rtol=1e-6, atol=1e-8)
        assert np.allclose(out["W_new"], W - lr * grad, rtol=1e-6, atol=1e-8)


# Matt Mazur, "A Step by Step Backpropagation Example" (2015, mattmazur.com): inputs 0.05, 0.10;
# w1..w4 = 0.15, 0.20, 0.25, 0.30 (w1: i1->h1, w2: i2->h1, w3: i1->h2, w4: i2->h2), b1 = 0.35;
# w5..w8 = 0.40, 0.45, 0.50, 0.55 (w5: h1->o1, w6: h2->o1, w7: h1->o2, w8: h2->o2), b2 = 0.60;
# targets 0.01, 0.99; sigmoid units; E = 1/2 sum (target - out)^2; learning rate 0.5.
# Every expected number below is printed in that post.
MAZUR_W1 = np.array([[0.15, 0.25], [0.20, 0.30]])  # row = input, column = hidden unit
MAZUR_W2 = np.array([[0.40, 0.50], [0.45, 0.55]])  # row = hidden unit, column = output unit
OUT_H = np.array([0.593269992, 0.596884378])
NET_O = np.array([1.105905967, 1.224921404])
DELTA_O = np.array([0.74136507 * 0.186815602, -0.217071535 * 0.175510053])


def test_mazur_forward_pass_golden():
    # Linear output unit o1 of the 2-2-1 template: net_o1 = w5 out_h1 + w6 out_h2 + b2.
    out = get("mlp_forward")(
        {"act": "sigmoid", "x": np.array([0.05, 0.10]), "W1": MAZUR_W1, "b1": np.array([0.35, 0.35]),
         "w2": MAZUR_W2[:, 0], "b2": 0.60}
    )
    assert out["s"] == pytest.approx([0.3775, 0.3925], rel=1e-9)
    assert out["h"] == pytest.approx(OUT_H, rel=1e-8)
    assert out["y"] == pytest.approx(NET_O[0], rel=1e-8)


def test_mazur_output_delta_golden():
    out = get("output_delta_sigmoid_mse")({"s": NET_O, "y": np.array([0.01, 0.99])})
    assert out["h"] == pytest.approx([0.75136507, 0.772928465], rel=1e-8)
    assert out["dJdh"][0] == pytest.approx(0.74136507, rel=1e-7)
    assert out["gp"][0] == pytest.approx(0.186815602, rel=1e-7)
    assert out["delta"][0] * OUT_H[0] == pytest.approx(0.082167041, rel=1e-7)  # dE/dw5


def test_mazur_hidden_delta_golden():
    out = get("hidden_layer_delta")({"act": "sigmoid", "s": np.array([0.3775, 0.3925]), "W": MAZUR_W2, "d": DELTA_O})
    assert out["back"][0] == pytest.approx(0.036350306, rel=1e-7)  # dE_total/dout_h1
    assert out["gp"][0] == pytest.approx(0.241300709, rel=1e-7)  # dout_h1/dnet_h1
    assert out["delta"][0] * 0.05 == pytest.approx(0.000438568, rel=1e-5)  # dE/dw1


def test_mazur_sgd_step_golden():
    out = get("weight_gradient_sgd")({"x": OUT_H, "d": DELTA_O, "W": MAZUR_W2, "lr": 0.5})
    assert out["G"][0, 0] == pytest.approx(0.082167041, rel=1e-7)
    # w5+, w7+ / w6+, w8+
    assert out["W_new"] == pytest.approx(np.array([[0.35891648, 0.511301270], [0.408666186, 0.561370121]]), rel=1e-7)


def test_sgd_step_equals_torch_optim_sgd():
    import torch

    oracle = get("weight_gradient_sgd")
    rng = np.random.default_rng(11)
    for _ in range(100):
        p = {"x": rng.normal(size=2), "d": rng.normal(size=2), "W": rng.normal(size=(2, 2)), "lr": float(rng.uniform(0.01, 1))}
        W = torch.nn.Parameter(torch.tensor(p["W"], dtype=torch.float64))
        (torch.tensor(p["x"]) @ W).backward(torch.tensor(p["d"]))
        torch.optim.SGD([W], lr=p["lr"]).step()
        np.testing.assert_array_equal(oracle(p)["W_new"], W.detach().numpy())


def test_goodfellow_relu_xor_golden():
    # Goodfellow, Bengio and Courville, Deep Learning (2016), §6.1 "Example: Learning XOR":
    # f(x) = wᵀ max{0, Wᵀx + c} + b with W = [[1, 1], [1, 1]], c = [0, −1], w = [1, −2], b = 0 gives
    # the hidden values [0, 0], [1, 0], [1, 0], [2, 1] and the outputs 0, 1, 1, 0 on the four inputs.
    oracle = get("mlp_forward")
    hidden, outputs = [], []
    for x in ([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]):
        out = oracle({"act": "relu", "x": np.array(x), "W1": np.array([[1.0, 1.0], [1.0, 1.0]]),
                      "b1": np.array([0.0, -1.0]), "w2": np.array([1.0, -2.0]), "b2": 0.0})
        hidden.append(out["h"].tolist())
        outputs.append(out["y"])
    assert hidden == [[0, 0], [1, 0], [1, 0], [2, 1]]
    assert outputs == [0, 1, 1, 0]
