"""GNN oracles (message passing with torch scatter) against dense matrix algebra and worked examples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get

rng = np.random.default_rng(21)


def _random_graph(n, directed=True):
    A = rng.integers(0, 2, size=(n, n)).astype(float)
    np.fill_diagonal(A, 0.0)
    return A if directed else np.triu(A, 1) + np.triu(A, 1).T


def test_aggregation_matches_dense_algebra():
    for case in range(300):
        n, f, k = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        A, H, W = _random_graph(n), rng.normal(size=(n, f)), rng.normal(size=(k, 2 * f))
        deg = A.sum(axis=1)
        dense = {
            "sum": A @ H,
            "mean": (A @ H) / np.maximum(deg, 1)[:, None],
            "max": np.array([H[A[i] != 0].max(axis=0) if deg[i] else np.zeros(f) for i in range(n)]),
        }
        for agg, M in dense.items():
            out = get("gnn_aggregate")({"A": A, "H": H, "w": W, "agg": agg, "relu": bool(case % 2)})
            np.testing.assert_allclose(out["M"], M, atol=1e-12)
            Z = np.hstack([H, M]) @ W.T
            np.testing.assert_allclose(out["Z"], Z, atol=1e-12)
            np.testing.assert_allclose(out["Hout"], np.maximum(Z, 0) if case % 2 else Z, atol=1e-12)


def test_graphsage_mean_by_hand_golden():
    """Hamilton, Ying & Leskovec (2017), Algorithm 1 with the mean aggregator and concatenation (the
    GraphSAGE-mean variant), worked by hand on the path 1 - 2 - 3 with h = (1, 2, 4) and W = [1, 1]:
    m = (2, 2.5, 2), [h || m] W^T = (3, 4.5, 6)."""
    A = np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    out = get("gnn_aggregate")({"A": A, "H": np.array([[1.0], [2], [4]]), "w": np.array([[1.0, 1]]), "agg": "mean", "relu": True})
    np.testing.assert_allclose(out["M"], [[2], [2.5], [2]])
    np.testing.assert_allclose(out["Hout"], [[3], [4.5], [6]])


def test_diffusion_matches_matrix_power():
    for _ in range(200):
        n, f, K = int(rng.integers(2, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 5))
        A = _random_graph(n)
        if np.any(A.sum(axis=1) == 0):
            continue
        X = rng.normal(size=(n, f))
        P = A / A.sum(axis=1, keepdims=True)
        out = get("graph_diffusion")({"A": A, "X": X, "K": K})
        np.testing.assert_allclose(out["P"], P)
        np.testing.assert_allclose(out["Z"], torch.linalg.matrix_power(torch.tensor(P), K).numpy() @ X, atol=1e-12)


def test_diffusion_two_hops_on_a_path_golden():
    """Atwood & Towsley (2016) diffuse with powers of P = D^-1 A. On the path 1 - 2 - 3 a random walker in
    node 1 is, after two steps, in node 1 or node 3 with probability 1/2 each (worked by hand)."""
    A = np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    out = get("graph_diffusion")({"A": A, "X": np.eye(3), "K": 2})
    np.testing.assert_allclose(out["PK"], [[0.5, 0, 0.5], [0, 1, 0], [0.5, 0, 0.5]])
    np.testing.assert_allclose(out["Z"], out["PK"])


def _dense_gat(A, H, W, att, slope, loops):
    z = H @ W.T
    k = z.shape[1]
    E = z @ att[:k]
    E = E[:, None] + (z @ att[k:])[None, :]
    E = np.where(E > 0, E, slope * E)
    mask = (A != 0) | (np.eye(len(A), dtype=bool) if loops else False)
    weights = np.where(mask, np.exp(E - np.where(mask, E, -np.inf).max(axis=1, keepdims=True)), 0.0)
    alpha = weights / weights.sum(axis=1, keepdims=True)
    return E, alpha, alpha @ z


def test_gat_matches_dense_masked_softmax():
    for case in range(300):
        n, f, k = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        A, H, W, att = _random_graph(n), rng.normal(size=(n, f)), rng.normal(size=(k, f)), rng.normal(size=2 * k)
        loops, slope = bool(case % 3), float(rng.choice([0.2, 0.01, 0.5]))
        if not loops and np.any(A.sum(axis=1) == 0):
            continue
        out = get("gat_attention")({"n": n, "A": A, "H": H, "w": W, "att": att, "slope": slope, "loops": loops})
        E, alpha, new = _dense_gat(A, H, W, att, slope, loops)
        np.testing.assert_allclose(out["E"], E, atol=1e-12)
        np.testing.assert_allclose(out["alpha"], alpha, atol=1e-12)
        np.testing.assert_allclose(out["Hout"], new, atol=1e-12)


def test_gat_equal_scores_give_the_neighbourhood_mean_golden():
    """Velickovic et al. (2018), eq. 3: the coefficients are a softmax over N(i) (the node included). With an
    attention vector of zeros every score is LeakyReLU(0) = 0, so alpha_ij = 1/|N(i)|: on the star with centre
    1 and leaves 2, 3 the centre weighs each node 1/3 and each leaf weighs itself and the centre 1/2."""
    A = np.array([[0.0, 1, 1], [1, 0, 0], [1, 0, 0]])
    out = get("gat_attention")({"n": 3, "A": A, "H": np.eye(3), "w": np.eye(3), "att": np.zeros(6), "slope": 0.2, "loops": True})
    np.testing.assert_allclose(out["alpha"], [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0], [0.5, 0, 0.5]])
    # and the LeakyReLU slope of the paper: a negative score -1 becomes -0.2
    out = get("gat_attention")({"n": 2, "A": np.array([[0.0, 1], [1, 0]]), "H": np.array([[1.0], [0]]), "w": np.array([[1.0]]),
                                "att": np.array([-1.0, 0.0]), "slope": 0.2, "loops": True})
    assert out["E"][0, 1] == pytest.approx(-0.2)
