"""Whitelisted functions on graphs given by adjacency matrices (the gnn templates): the neighbourhood
maximum of node features, and the undirected graph built from a matrix, pair flags and an edge list.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.expr import ExprError
from dlstudy.mathtext.fn_checks import as_square, positions, whole_count


def _neighbour_max(a: Any, h: Any) -> np.ndarray:
    a, h = as_square(a), np.asarray(h, dtype=float)
    if h.ndim == 1:
        h = h[:, None]
    if h.shape[0] != a.shape[0]:
        raise ExprError(f"nbmax() needs one feature row per node: {a.shape[0]} nodes, {h.shape[0]} rows")
    masked = np.where(a[:, :, None] != 0, h[None, :, :], -np.inf)
    best = masked.max(axis=1)
    return np.where(np.isfinite(best), best, 0.0)  # a node without neighbours gets 0, as PyTorch Geometric


def _graph_adjacency(n: Any, a: Any, e: Any, edges: Any) -> np.ndarray:
    """The symmetric 0/1 adjacency of the union of: the matrix ``a`` (n x n), the flags ``e`` of the node
    pairs (1,2), (1,3), ..., (1,n), (2,3), ... (upper triangle row by row) and the edge list ``edges``
    (rows i, j; a row [0, 0] is no edge). The diagonal is always 0."""
    n = whole_count(n, "graph_adjacency")
    adjacency = (as_square(a) != 0).astype(float)
    if adjacency.shape[0] != n:
        raise ExprError(f"graph_adjacency() needs an {n} x {n} matrix")
    upper = np.zeros((n, n))
    flags = np.atleast_1d(np.asarray(e, dtype=float))
    if len(flags) != n * (n - 1) // 2:
        raise ExprError(f"graph_adjacency() needs {n * (n - 1) // 2} pair flags")
    upper[np.triu_indices(n, 1)] = flags != 0
    listed = np.zeros((n, n))
    pairs = np.atleast_2d(np.asarray(edges, dtype=float))
    pairs = pairs[np.any(pairs != 0, axis=1)]
    if len(pairs):
        i, j = positions(pairs[:, 0], n), positions(pairs[:, 1], n)
        listed[i, j] = 1.0
    union = np.maximum.reduce([adjacency, upper, listed])
    union = np.maximum(union, union.T)
    np.fill_diagonal(union, 0.0)  # a node's own loop is the layer's business (A + I), not the graph's
    return union


GRAPH_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # nbmax(A, H): row i is the entry-wise max of h_j over the j with a_ij != 0
    "nbmax": (lambda a, h: _neighbour_max(a, h), 2, 2),
    # the undirected graph given by an adjacency matrix, node-pair flags and/or an edge list (their union)
    "graph_adjacency": (lambda n, a, e, edges: _graph_adjacency(n, a, e, edges), 4, 4),
}
