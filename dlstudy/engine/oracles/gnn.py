"""Oracles for graph neural networks beyond the GCN layer: message passing as graph libraries run it.

Every oracle turns the adjacency matrix into an edge index (source j -> target i where A_ij != 0) and
scatters messages along it with torch (``index_add_``, ``scatter_reduce_``), the way PyTorch Geometric
implements aggregation, GraphSAGE, diffusion (DCNN) and graph attention (GAT). The templates' formulas
use dense matrix algebra instead, so the two must agree.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


def edge_index(adjacency: Any) -> tuple[Any, Any]:
    """(source, target) tensors of the edges j -> i where A_ij != 0."""
    import torch

    target, source = np.nonzero(np.asarray(adjacency, dtype=float))
    return torch.tensor(source, dtype=torch.long), torch.tensor(target, dtype=torch.long)


def aggregate(features: Any, adjacency: Any, reduce: str) -> Any:
    """Each node's aggregate of its in-neighbours' feature rows; a node without neighbours gets 0
    (``scatter_reduce_`` with ``include_self=False`` leaves its zero row alone)."""
    import torch

    source, target = edge_index(adjacency)
    out = torch.zeros_like(features)
    index = target[:, None].expand(-1, features.shape[1])
    return out.scatter_reduce_(0, index, features[source], reduce=reduce, include_self=False)


@register("gnn_aggregate")
def gnn_aggregate(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    features = torch.tensor(np.asarray(p["H"], dtype=float))
    adjacency = np.asarray(p["A"], dtype=float)
    reduce = {"sum": "sum", "mean": "mean", "max": "amax"}[p["agg"]]
    messages = aggregate(features, adjacency, reduce)
    combined = torch.cat([features, messages], dim=1)  # GraphSAGE: the node's own row, then its neighbours'
    pre = torch.nn.functional.linear(combined, torch.tensor(np.asarray(p["w"], dtype=float)))
    out = torch.relu(pre) if p.get("relu", True) else pre
    return {
        "deg": (adjacency != 0).sum(axis=1).astype(float),
        "M": messages.numpy(),
        "C": combined.numpy(),
        "Z": pre.numpy(),
        "Hout": out.numpy(),
    }


@register("graph_diffusion")
def graph_diffusion(p: Mapping[str, Any]) -> dict[str, Any]:
    """DCNN's diffusion features P^K X, P = D^-1 A: K rounds of passing each node the mean of its
    neighbours' current rows (a random walk of K steps)."""
    import torch

    adjacency = np.asarray(p["A"], dtype=float)
    source, target = edge_index(adjacency)
    degree = torch.zeros(len(adjacency), dtype=torch.float64).index_add_(
        0, target, torch.tensor(adjacency[target.numpy(), source.numpy()])
    )
    weight = torch.tensor(adjacency[target.numpy(), source.numpy()]) / degree[target]
    x = torch.tensor(np.asarray(p["X"], dtype=float))
    for _ in range(int(p["K"])):
        x = torch.zeros_like(x).index_add_(0, target, weight[:, None] * x[source])
    transition = np.zeros_like(adjacency)
    transition[target.numpy(), source.numpy()] = weight.numpy()
    return {"deg": degree.numpy(), "P": transition, "PK": np.linalg.matrix_power(transition, int(p["K"])), "Z": x.numpy()}


@register("gat_attention")
def gat_attention(p: Mapping[str, Any]) -> dict[str, Any]:
    """One GAT head (Velickovic et al., 2018): e_ij = LeakyReLU(a^T [W h_i || W h_j]) on the edges j -> i
    (self-loops added), a softmax over each node's incoming edges, then the weighted sum of W h_j."""
    import torch

    n = int(p["n"])
    adjacency = np.asarray(p["A"], dtype=float) != 0
    if p.get("loops", True):
        adjacency = adjacency | np.eye(n, dtype=bool)
    source, target = edge_index(adjacency.astype(float))
    z = torch.nn.functional.linear(torch.tensor(np.asarray(p["H"], dtype=float)), torch.tensor(np.asarray(p["w"], dtype=float)))
    k = z.shape[1]
    attention = torch.tensor(np.asarray(p["att"], dtype=float))
    score_target, score_source = z @ attention[:k], z @ attention[k:]
    raw = torch.nn.functional.leaky_relu(score_target[target] + score_source[source], float(p["slope"]))
    # softmax over the edges into each node (shifted by each node's largest score, as torch_scatter does)
    largest = torch.full((n,), -torch.inf, dtype=torch.float64).scatter_reduce(0, target, raw, reduce="amax")
    weights = torch.exp(raw - largest[target])
    alpha_edges = weights / torch.zeros(n, dtype=torch.float64).index_add_(0, target, weights)[target]
    out = torch.zeros_like(z).index_add_(0, target, alpha_edges[:, None] * z[source])
    # the raw score of every pair (i, j), edge or not, as the worked solution lists them
    scores = torch.nn.functional.leaky_relu(score_target[:, None] + score_source[None, :], float(p["slope"]))
    alpha = np.zeros((n, n))
    alpha[target.numpy(), source.numpy()] = alpha_edges.numpy()
    return {"Z": z.numpy(), "E": scores.numpy(), "alpha": alpha, "Hout": out.numpy()}
