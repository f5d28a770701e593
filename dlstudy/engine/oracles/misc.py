"""Oracles for theory (curse of dimensionality, k-NN), graph networks and model compression.

- edge of the sub-cube holding a fraction r of uniform data: bisection on the
  sub-cube's volume (the product of its d side lengths);
- ball-to-cube volume ratio: the ball's volume built up slice by slice
  (V_k = V_{k-1} * integral of cos^k over [-pi/2, pi/2], by Gauss-Legendre quadrature);
- k-NN: real distances, an argsort and a vote / mean;
- GCN layer: message passing over the edge list with self-loops (torch index_add),
  the way graph libraries implement Kipf & Welling's rule;
- distillation: torch softmax and torch cross-entropy with soft targets;
- quantisation: a real round trip through uint8 codes.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register

# ---------------------------------------------------------------------------
# Curse of dimensionality


def subcube_fraction(edge: float, d: int) -> float:
    """Fraction of uniform data on [0, 1]^d inside [0, edge]^d: the product of the d side lengths."""
    return float(np.prod(np.full(d, edge)))


@register("curse_edge_length")
def curse_edge_length(p: Mapping[str, Any]) -> dict[str, Any]:
    r, d = float(p["r"]), int(p["d"])
    lo, hi = 0.0, 1.0
    for _ in range(64):  # bisection: the fraction grows with the edge
        mid = 0.5 * (lo + hi)
        if subcube_fraction(mid, d) < r:
            lo = mid
        else:
            hi = mid
    return {"e": 0.5 * (lo + hi)}


@lru_cache(maxsize=1)
def _gauss_legendre_on_half_circle() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.legendre.leggauss(96)
    return nodes * (math.pi / 2), weights * (math.pi / 2)


def unit_ball_volume(d: int) -> float:
    """Volume of the unit d-ball by slicing: V_1 = 2, V_k = V_{k-1} * int_{-pi/2}^{pi/2} cos^k(theta) d(theta).

    (A slice of the k-ball at height x is a (k-1)-ball of radius sqrt(1 - x^2); put x = sin(theta).)
    """
    theta, weights = _gauss_legendre_on_half_circle()
    powers = np.arange(2, d + 1)[:, None]
    slices = (np.cos(theta)[None, :] ** powers) @ weights
    return float(2.0 * np.prod(slices))


@register("ball_cube_ratio")
def ball_cube_ratio(p: Mapping[str, Any]) -> dict[str, Any]:
    d = int(p["d"])
    ball = unit_ball_volume(d)
    cube = float(np.prod(np.full(d, 2.0)))  # side 2 around the unit ball
    return {"V_ball": ball, "V_cube": cube, "ratio": ball / cube}


# ---------------------------------------------------------------------------
# k nearest neighbours


def _neighbours(p: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = np.stack([np.asarray(p["px"], dtype=float), np.asarray(p["py"], dtype=float)], axis=1)
    query = np.array([float(p["qx"]), float(p["qy"])])
    order = 1 if p.get("metric", "euclidean") == "manhattan" else 2
    dist = np.linalg.norm(points - query, ord=order, axis=1)
    nearest = np.argsort(dist, kind="stable")[: int(p["k"])]
    mask = np.zeros(len(dist))
    mask[nearest] = 1.0
    return dist, mask, nearest


@register("knn_classify")
def knn_classify(p: Mapping[str, Any]) -> dict[str, Any]:
    dist, mask, nearest = _neighbours(p)
    labels = np.asarray(p["c"], dtype=float).astype(int)
    counts = np.bincount(labels[nearest], minlength=2)
    # argmax takes the first of tied counts: a tied vote goes to class 0, the smaller label
    return {"dist": dist, "nb": mask, "votes": int(counts[1]), "pred": int(np.argmax(counts))}


@register("knn_regress")
def knn_regress(p: Mapping[str, Any]) -> dict[str, Any]:
    dist, mask, nearest = _neighbours(p)
    targets = np.asarray(p["t"], dtype=float)[nearest]
    if p.get("weights", "uniform") == "distance":
        prediction = float(np.average(targets, weights=1.0 / dist[nearest]))
    else:
        prediction = float(targets.mean())
    return {"dist": dist, "nb": mask, "pred": prediction}


# ---------------------------------------------------------------------------
# Graph convolution (Kipf & Welling, 2017)


def undirected_edges(p: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The graph's edges (i < j, 0-based) from whichever descriptions were given: the adjacency matrix
    (either direction counts, the diagonal is not an edge), the flags of the node pairs in
    itertools.combinations order, and the edge list (1-based rows; a row of zeros is no edge)."""
    n = int(p["n"])
    found: set[tuple[int, int]] = set()
    adjacency = np.asarray(p["A"], dtype=float)
    for i, j in zip(*np.nonzero(adjacency)):
        if i != j:
            found.add((min(i, j), max(i, j)))
    for flag, (i, j) in zip(np.asarray(p["e"], dtype=float).reshape(-1), itertools.combinations(range(n), 2)):
        if flag:
            found.add((i, j))
    for i, j in np.asarray(p["edges"], dtype=float).reshape(-1, 2).astype(int):
        if i and j and i != j:
            found.add((min(i, j) - 1, max(i, j) - 1))
    return sorted(found)


def _dense(n: int, dst, src, weight):
    import torch

    matrix = torch.zeros(n, n, dtype=torch.float64)
    matrix.index_put_((dst, src), weight, accumulate=True)
    return matrix.numpy()


@register("gcn_layer")
def gcn_layer(p: Mapping[str, Any]) -> dict[str, Any]:
    """Message passing as PyTorch Geometric's GCNConv does it: an edge index (both directions, then
    self-loops), degrees counted over incoming edges, one weight per edge, a scatter-add of the messages."""
    import torch

    n = int(p["n"])
    pairs = undirected_edges(p)
    src = [i for i, j in pairs] + [j for i, j in pairs]
    dst = [j for i, j in pairs] + [i for i, j in pairs]
    n_edges = len(src)
    if p.get("loops", True):
        src, dst = src + list(range(n)), dst + list(range(n))
    src_t, dst_t = torch.tensor(src, dtype=torch.long), torch.tensor(dst, dtype=torch.long)
    ones = torch.ones(len(src), dtype=torch.float64)
    degree = torch.zeros(n, dtype=torch.float64).index_add_(0, dst_t, ones)
    if p.get("norm", "symmetric") == "symmetric":
        edge_weight = degree[src_t].rsqrt() * degree[dst_t].rsqrt()
    else:
        edge_weight = 1.0 / degree[dst_t]  # a mean over the incoming messages
    features = torch.tensor(np.asarray(p["H"], dtype=float))
    weights = torch.tensor(np.asarray(p["w"], dtype=float))
    transformed = torch.nn.functional.linear(features, weights)  # H W^T, as nn.Linear
    messages = edge_weight[:, None] * transformed[src_t]
    aggregated = torch.zeros(n, transformed.shape[1], dtype=torch.float64).index_add_(0, dst_t, messages)
    out = torch.relu(aggregated) if p.get("relu", True) else aggregated
    return {
        "Adj": _dense(n, dst_t[:n_edges], src_t[:n_edges], ones[:n_edges]),
        "At": _dense(n, dst_t, src_t, ones),
        "deg": degree.numpy(),
        "Ahat": _dense(n, dst_t, src_t, edge_weight),
        "HW": transformed.numpy(),
        "Z": aggregated.numpy(),
        "Hout": out.numpy(),
    }


# ---------------------------------------------------------------------------
# Knowledge distillation (Hinton, Vinyals & Dean, 2015)


@register("distill_soft_targets")
def distill_soft_targets(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    logits = torch.tensor(np.asarray(p["z"], dtype=float))
    scaled = logits / float(p["T"])
    return {"zT": scaled.numpy(), "q": torch.softmax(scaled, dim=-1).numpy()}


@register("distill_loss")
def distill_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    T = float(p["T"])
    teacher = torch.tensor(np.asarray(p["zt"], dtype=float)) / T
    student = torch.tensor(np.asarray(p["zs"], dtype=float)) / T
    soft_targets = torch.softmax(teacher, dim=-1)
    # cross-entropy with probability targets: -sum q log softmax(student / T)
    cross_entropy = F.cross_entropy(student[None], soft_targets[None])
    # Hinton et al. scale the soft term by T^2 so its gradients keep their size as T changes (the default)
    scale = T**2 if p.get("scale", "squared") == "squared" else 1.0
    return {
        "q": soft_targets.numpy(),
        "p": torch.softmax(student, dim=-1).numpy(),
        "H": float(cross_entropy),
        "L": float(scale * cross_entropy),
    }


# ---------------------------------------------------------------------------
# Uniform affine quantisation


@register("quantize_error")
def quantize_error(p: Mapping[str, Any]) -> dict[str, Any]:
    bits, lo, hi = int(p["b"]), float(p["lo"]), float(p["hi"])
    x = np.asarray(p["x"], dtype=float)
    levels = 2**bits - 1
    scale = (hi - lo) / levels
    zero_point = int(np.rint(-lo / scale))
    codes = np.clip(np.rint(x / scale) + zero_point, 0, levels).astype(np.uint8 if bits <= 8 else np.uint16)
    restored = (codes.astype(float) - zero_point) * scale
    return {
        "s": scale,
        "z": zero_point,
        "q": codes.astype(float),
        "xhat": restored,
        "err": np.abs(x - restored),
    }
