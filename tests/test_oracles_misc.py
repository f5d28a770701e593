"""Theory, GNN and compression oracles against Monte Carlo, torch and published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get

# ---------------------------------------------------------------------------
# Curse of dimensionality


def test_edge_length_by_monte_carlo():
    rng = np.random.default_rng(5)
    n = 100_000
    for d in (1, 2, 3, 5, 10):
        points = rng.uniform(size=(n, d))
        for r in (0.05, 0.1, 0.3):
            e = get("curse_edge_length")({"r": r, "d": d})["e"]
            inside = np.mean(np.all(points <= e, axis=1))
            assert abs(inside - r) < 5 * math.sqrt(r * (1 - r) / n), (d, r, e, inside)


def test_edge_length_closed_form():
    for d in (1, 2, 3, 7, 10, 50, 100, 1000):
        for r in (0.001, 0.01, 0.1, 0.5, 0.9, 1.0):
            assert get("curse_edge_length")({"r": r, "d": d})["e"] == pytest.approx(r ** (1 / d), rel=1e-12)


def test_edge_length_golden():
    # Hastie, Tibshirani & Friedman, The Elements of Statistical Learning (2nd ed.), section 2.5:
    # in ten dimensions, capturing 1% or 10% of the data needs 63% or 80% of the range of each input.
    # (0.1^(1/10) = 0.794, which the book rounds to 80%.)
    assert get("curse_edge_length")({"r": 0.01, "d": 10})["e"] == pytest.approx(0.63, abs=0.01)
    assert get("curse_edge_length")({"r": 0.1, "d": 10})["e"] == pytest.approx(0.80, abs=0.01)
    # Course notes (Imperial 70010, week 2): 20% of 2-D data needs about 0.45 of each axis.
    assert get("curse_edge_length")({"r": 0.2, "d": 2})["e"] == pytest.approx(0.45, abs=0.005)


def test_ball_cube_ratio_by_monte_carlo():
    rng = np.random.default_rng(6)
    n = 200_000
    for d in (2, 3, 4, 5, 6):
        points = rng.uniform(-1, 1, size=(n, d))
        inside = np.mean(np.sum(points**2, axis=1) <= 1)
        ratio = get("ball_cube_ratio")({"d": d})["ratio"]
        assert abs(inside - ratio) < 5 * math.sqrt(ratio * (1 - ratio) / n), (d, ratio, inside)


def test_ball_volume_closed_form_and_golden():
    for d in range(1, 61):
        got = get("ball_cube_ratio")({"d": d})
        assert got["V_ball"] == pytest.approx(math.pi ** (d / 2) / math.gamma(d / 2 + 1), rel=1e-10)
        assert got["V_cube"] == 2.0**d
    # Classical volumes (Archimedes for d = 3; see the table in Wikipedia's "Volume of an n-ball"):
    # V_2 = pi, V_3 = 4 pi / 3, V_4 = pi^2 / 2, V_10 = pi^5 / 120 = 2.5502.
    assert get("ball_cube_ratio")({"d": 2})["V_ball"] == pytest.approx(math.pi)
    assert get("ball_cube_ratio")({"d": 3})["V_ball"] == pytest.approx(4 * math.pi / 3)
    assert get("ball_cube_ratio")({"d": 4})["V_ball"] == pytest.approx(math.pi**2 / 2)
    assert get("ball_cube_ratio")({"d": 10})["V_ball"] == pytest.approx(2.5502, abs=1e-4)
    assert get("ball_cube_ratio")({"d": 3})["ratio"] == pytest.approx(math.pi / 6)


# ---------------------------------------------------------------------------
# k nearest neighbours


def _knn_params(points, targets, query, k, target_name):
    return {"px": points[:, 0], "py": points[:, 1], target_name: targets, "qx": query[0], "qy": query[1], "k": k}


def test_knn_matches_torch_topk():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(300):
        points = rng.integers(0, 7, size=(5, 2)).astype(float)
        query = rng.integers(1, 6, size=2).astype(float)
        k = int(rng.choice([1, 2, 3, 4]))
        dist = torch.cdist(torch.tensor(query)[None], torch.tensor(points))[0]
        ranked = torch.sort(dist).values
        if ranked[k - 1] == ranked[k]:
            continue  # the k-th neighbour is ambiguous
        nearest = torch.topk(dist, k, largest=False).indices
        labels = rng.integers(0, 2, 5).astype(float)
        targets = rng.integers(0, 10, 5).astype(float)
        reg = get("knn_regress")(_knn_params(points, targets, query, k, "t"))
        np.testing.assert_allclose(reg["dist"], dist.numpy())
        assert set(np.flatnonzero(reg["nb"])) == set(nearest.tolist())
        assert reg["pred"] == pytest.approx(float(torch.tensor(targets)[nearest].mean()))
        if k % 2 == 1:
            cls = get("knn_classify")(_knn_params(points, labels, query, k, "c"))
            neighbour_labels = torch.tensor(labels)[nearest]
            assert cls["votes"] == int(neighbour_labels.sum())
            assert cls["pred"] == int(torch.mode(neighbour_labels).values)
        checked += 1
    assert checked > 200


def test_knn_manhattan_reals_and_distance_weights_match_torch():
    rng = np.random.default_rng(12)
    checked = 0
    for _ in range(300):
        n = int(rng.integers(2, 9))
        points = rng.uniform(-3, 3, size=(n, 2))
        query = rng.uniform(-3, 3, size=2)
        k = int(rng.integers(1, n + 1))
        targets, labels = rng.normal(size=n), rng.integers(0, 2, n).astype(float)
        for metric, p_norm in (("euclidean", 2.0), ("manhattan", 1.0)):
            dist = torch.cdist(torch.tensor(query)[None], torch.tensor(points), p=p_norm)[0]
            nearest = torch.topk(dist, k, largest=False).indices
            params = {**_knn_params(points, labels, query, k, "c"), "t": targets, "metric": metric}
            cls = get("knn_classify")(params)
            np.testing.assert_allclose(cls["dist"], dist.numpy())
            votes = int(torch.tensor(labels)[nearest].sum())
            assert cls["pred"] == (1 if votes > k / 2 else 0)  # a tied vote goes to class 0
        dist = torch.cdist(torch.tensor(query)[None], torch.tensor(points))[0]
        nearest = torch.topk(dist, k, largest=False).indices
        weights = 1 / dist[nearest]
        expected = float((weights * torch.tensor(targets)[nearest]).sum() / weights.sum())
        params = {**_knn_params(points, targets, query, k, "t"), "weights": "distance"}
        assert get("knn_regress")(params)["pred"] == pytest.approx(expected)
        checked += 1
    assert checked == 300


def test_knn_golden_scikit_learn_docs():
    # scikit-learn's KNeighborsClassifier / KNeighborsRegressor docstring examples: X = [[0], [1], [2], [3]],
    # y = [0, 0, 1, 1]; 3-NN classifies 1.1 as class 0, 2-NN regression predicts 0.5 at 1.5.
    points = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    labels = np.array([0.0, 0, 1, 1])
    assert get("knn_classify")(_knn_params(points, labels, (1.1, 0.0), 3, "c"))["pred"] == 0
    assert get("knn_regress")(_knn_params(points, labels, (1.5, 0.0), 2, "t"))["pred"] == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# Graph convolution


def _dense_gcn(adjacency, features, weights, loops=True, norm="symmetric"):
    """Kipf & Welling (ICLR 2017), eq. 2: H' = sigma(D^-1/2 (A + I) D^-1/2 H W), as dense torch algebra
    (W stored as nn.Linear stores it, one row per output feature)."""
    a_tilde = torch.tensor(adjacency) + (torch.eye(len(adjacency), dtype=torch.float64) if loops else 0)
    degree = a_tilde.sum(dim=1)
    if norm == "symmetric":
        a_hat = torch.diag(degree**-0.5) @ a_tilde @ torch.diag(degree**-0.5)
    else:
        a_hat = torch.diag(1 / degree) @ a_tilde
    z = a_hat @ torch.tensor(features) @ torch.tensor(weights).T
    return a_tilde, a_hat, z, torch.relu(z)


def _gcn_params(n, features, weights, A=None, e=None, edges=None, **conventions):
    return {
        "n": n,
        "A": np.zeros((n, n)) if A is None else A,
        "e": np.zeros(n * (n - 1) // 2) if e is None else e,
        "edges": np.zeros((1, 2)) if edges is None else edges,
        "H": features,
        "w": weights,
        **conventions,
    }


def test_gcn_message_passing_matches_dense_rule():
    rng = np.random.default_rng(8)
    checked = 0
    for case in range(300):
        n, f, k = int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        upper = np.triu(rng.integers(0, 2, size=(n, n)), 1).astype(float)
        adjacency = upper + upper.T
        loops, norm = bool(case % 2), ("symmetric", "mean")[case % 3 == 0]
        if not loops and np.any(adjacency.sum(axis=1) == 0):
            continue  # an isolated node without a self-loop has degree 0
        features = rng.normal(size=(n, f))
        weights = rng.normal(size=(k, f))
        # the same graph three ways: adjacency, pair flags, edge list
        flags = upper[np.triu_indices(n, 1)]
        edge_list = np.argwhere(upper) + 1.0
        given = [dict(A=adjacency), dict(e=flags)] + ([dict(edges=edge_list)] if len(edge_list) else [])
        a_tilde, a_hat, z, out = _dense_gcn(adjacency, features, weights, loops, norm)
        for graph in given:
            got = get("gcn_layer")(_gcn_params(n, features, weights, **graph, loops=loops, norm=norm, relu=True))
            np.testing.assert_allclose(got["Adj"], adjacency)
            np.testing.assert_allclose(got["At"], a_tilde.numpy())
            np.testing.assert_allclose(got["Ahat"], a_hat.numpy(), atol=1e-12)
            np.testing.assert_allclose(got["Z"], z.numpy(), atol=1e-12)
            np.testing.assert_allclose(got["Hout"], out.numpy(), atol=1e-12)
        checked += 1
    assert checked > 200


def test_gcn_golden_complete_graph_and_spectrum():
    # Kipf & Welling (2017), renormalisation trick: on the triangle K3 every node has degree 3 with its
    # self-loop, so D^-1/2 (A + I) D^-1/2 is the all-1/3 matrix and each output is the mean of H w.
    features, weights = np.array([[1.0, 2], [0, -1], [3, 1]]), np.array([[1.0, -1]])
    got = get("gcn_layer")(_gcn_params(3, features, weights, e=np.ones(3)))
    np.testing.assert_allclose(got["Ahat"], np.full((3, 3), 1 / 3))
    np.testing.assert_allclose(got["Z"], np.full((3, 1), np.mean(features @ weights.T)))
    # The normalised matrix has largest eigenvalue 1 with eigenvector sqrt(degrees) (path graph 1-2-3).
    path = get("gcn_layer")(_gcn_params(3, features, weights, edges=np.array([[1.0, 2], [2, 3]])))
    values, vectors = np.linalg.eigh(path["Ahat"])
    assert values[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(np.abs(vectors[:, -1]), np.sqrt(path["deg"]) / np.linalg.norm(np.sqrt(path["deg"])))


def test_gcn_golden_path_graph_by_hand():
    # Path graph 1-2-3 with self-loops: degrees (2, 3, 2), so A_hat has 1/2 on the end diagonals, 1/3 in the
    # middle and 1/sqrt(6) between neighbours (Kipf & Welling's D^-1/2 (A + I) D^-1/2, worked by hand).
    got = get("gcn_layer")(_gcn_params(3, np.eye(3), np.eye(3), A=np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])))
    s = 1 / np.sqrt(6)
    np.testing.assert_allclose(got["Ahat"], [[1 / 2, s, 0], [s, 1 / 3, s], [0, s, 1 / 2]])
    np.testing.assert_allclose(got["deg"], [2, 3, 2])


# ---------------------------------------------------------------------------
# Knowledge distillation


def test_soft_targets_match_numpy():
    rng = np.random.default_rng(9)
    for _ in range(200):
        z = rng.integers(-3, 6, 3).astype(float)
        T = float(rng.choice([1, 2, 3, 4, 5, 10]))
        got = get("distill_soft_targets")({"z": z, "T": T})
        expected = np.exp(z / T) / np.sum(np.exp(z / T))
        np.testing.assert_allclose(got["q"], expected)
        np.testing.assert_allclose(got["zT"], z / T)


def test_soft_targets_golden():
    # Wikipedia, "Softmax function", example: softmax([1, 2, 3, 4, 1, 2, 3]) =
    # [0.024, 0.064, 0.175, 0.475, 0.024, 0.064, 0.175] (T = 1).
    got = get("distill_soft_targets")({"z": np.array([1.0, 2, 3, 4, 1, 2, 3]), "T": 1})
    np.testing.assert_allclose(got["q"], [0.024, 0.064, 0.175, 0.475, 0.024, 0.064, 0.175], atol=5e-4)
    # Hinton, Vinyals & Dean (2015), section 2: raising T softens the distribution (entropy grows).
    entropies = []
    for T in (1, 2, 5, 20):
        q = get("distill_soft_targets")({"z": np.array([5.0, 1, -2]), "T": T})["q"]
        entropies.append(-np.sum(q * np.log(q)))
    assert entropies == sorted(entropies)


def test_distill_loss_matches_numpy_and_hinton_gradient():
    rng = np.random.default_rng(10)
    for _ in range(100):
        zt, zs = rng.integers(-2, 6, size=(2, 3)).astype(float)
        T = float(rng.choice([1, 2, 3, 4]))
        got = get("distill_loss")({"zt": zt, "zs": zs, "T": T})
        q = np.exp(zt / T) / np.sum(np.exp(zt / T))
        p = np.exp(zs / T) / np.sum(np.exp(zs / T))
        assert got["H"] == pytest.approx(-np.sum(q * np.log(p)))
        assert got["L"] == pytest.approx(T**2 * got["H"])
        # Hinton et al. (2015), eq. 2: dC/dz_i = (p_i - q_i) / T for the soft cross-entropy C.
        h = 1e-6
        for i in range(3):
            bump = np.eye(3)[i] * h
            up = get("distill_loss")({"zt": zt, "zs": zs + bump, "T": T})["H"]
            down = get("distill_loss")({"zt": zt, "zs": zs - bump, "T": T})["H"]
            assert (up - down) / (2 * h) == pytest.approx((got["p"][i] - got["q"][i]) / T, abs=1e-6)


def test_distill_high_temperature_limit_golden():
    # Hinton et al. (2015), section 2.1: at high temperature, with zero-mean logits, distillation is logit
    # matching: T^2 * KL(q || p) -> sum (z_i - v_i)^2 / (2N).
    zt, zs = np.array([2.0, -1, -1]), np.array([0.5, 1.5, -2])
    T = 1000.0
    got = get("distill_loss")({"zt": zt, "zs": zs, "T": T})
    teacher_entropy = -np.sum(got["q"] * np.log(got["q"]))
    kl_scaled = got["L"] - T**2 * teacher_entropy
    assert kl_scaled == pytest.approx(np.sum((zt - zs) ** 2) / (2 * 3), rel=1e-3)


# ---------------------------------------------------------------------------
# Quantisation


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_quantize_matches_torch():
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(300):
        bits = int(rng.integers(2, 9))
        lo, hi = -float(rng.integers(1, 5)) / 2, float(rng.integers(1, 7)) / 2
        x = np.round(rng.uniform(lo - 0.5, hi + 0.5, 3), 2)
        got = get("quantize_error")({"b": bits, "lo": lo, "hi": hi, "x": x})
        levels = 2**bits - 1
        # torch's own min/max observer gives the quantisation parameters
        observer = torch.ao.quantization.MinMaxObserver(quant_min=0, quant_max=levels, dtype=torch.quint8)
        observer(torch.tensor([lo, hi]))
        scale, zero_point = observer.calculate_qparams()
        assert got["s"] == pytest.approx(float(scale), rel=1e-6)
        if abs(-lo / got["s"] - math.floor(-lo / got["s"]) - 0.5) > 1e-3:  # float32 may break a .5 tie the other way
            assert got["z"] == int(zero_point)
        ratio = x / got["s"]
        if np.any(np.abs(ratio - np.floor(ratio) - 0.5) < 1e-3):
            continue  # float32 (torch) and float64 may round a near-tie differently
        restored = torch.fake_quantize_per_tensor_affine(torch.tensor(x, dtype=torch.float32), got["s"], got["z"], 0, levels)
        np.testing.assert_allclose(got["xhat"], restored.numpy(), atol=1e-5)
        if bits == 8:
            codes = torch.quantize_per_tensor(torch.tensor(x, dtype=torch.float32), got["s"], got["z"], torch.quint8)
            np.testing.assert_array_equal(got["q"], codes.int_repr().numpy())
        np.testing.assert_allclose(got["err"], np.abs(x - got["xhat"]))
        checked += 1
    assert checked > 200


def test_quantize_golden_pytorch_docs():
    # PyTorch docs, torch.quantize_per_tensor: [-1, 0, 1, 2] with scale 0.1 and zero point 10 (quint8)
    # has int_repr [0, 10, 20, 30]. An 8-bit range [-1, 24.5] gives exactly that scale and zero point.
    got = get("quantize_error")({"b": 8, "lo": -1.0, "hi": 24.5, "x": np.array([-1.0, 0.0, 1.0, 2.0])})
    assert got["s"] == pytest.approx(0.1) and got["z"] == 10
    np.testing.assert_array_equal(got["q"], [0, 10, 20, 30])
    np.testing.assert_allclose(got["xhat"], [-1, 0, 1, 2], atol=1e-12)
