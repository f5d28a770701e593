"""Oracles for computer vision: box overlap (IoU), non-max suppression, style transfer losses.

Boxes are rasterised on the grid their own edges cut the plane into and the
cells' areas added up, so IoU is measured (for real corners too), not computed
from the corner formula.  NMS runs the greedy loop over those measured overlaps.  Gram matrices and the style/content losses are
computed with torch on real (1, C, H, W) feature tensors.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


def edge_grid(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes [x1, y1, x2, y2] (n, 4) as boolean masks over the grid their own edges cut the plane into.

    Every distinct x edge and y edge cuts the plane; each cell of that grid is
    either inside a box or outside it, so region areas are sums of cell areas:
    a pixel count on an uneven grid, exact for real corners.  Returns the masks
    (n, rows, columns) and the cells' areas (rows, columns).
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    xs, ys = np.unique(boxes[:, [0, 2]]), np.unique(boxes[:, [1, 3]])
    left, right, top, bottom = xs[:-1], xs[1:], ys[:-1], ys[1:]
    cols = (left >= boxes[:, 0:1]) & (right <= boxes[:, 2:3])  # (n, columns): the cells a box spans
    rows = (top >= boxes[:, 1:2]) & (bottom <= boxes[:, 3:4])  # (n, rows)
    return rows[:, :, None] & cols[:, None, :], np.outer(bottom - top, right - left)


def region_area(mask: np.ndarray, cell_area: np.ndarray) -> float:
    return float(cell_area[mask].sum())


@register("iou_boxes")
def iou_boxes(p: Mapping[str, Any]) -> dict[str, Any]:
    boxes = np.array([[p["ax1"], p["ay1"], p["ax2"], p["ay2"]], [p["bx1"], p["by1"], p["bx2"], p["by2"]]], dtype=float)
    masks, cell_area = edge_grid(boxes)
    inter = region_area(masks[0] & masks[1], cell_area)
    union = region_area(masks[0] | masks[1], cell_area)
    return {
        "area_a": region_area(masks[0], cell_area),
        "area_b": region_area(masks[1], cell_area),
        "inter": inter,
        "union": union,
        "iou": inter / union,
    }


def pairwise_iou(boxes: np.ndarray) -> np.ndarray:
    """n x n IoUs, each pair measured on its own edge grid (1 on the diagonal)."""
    n = len(boxes)
    iou = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            masks, cell_area = edge_grid(boxes[[i, j]])
            iou[i, j] = iou[j, i] = region_area(masks[0] & masks[1], cell_area) / region_area(masks[0] | masks[1], cell_area)
    return iou


def greedy_nms(scores: np.ndarray, iou: np.ndarray, threshold: float) -> list[int]:
    """Indices kept by greedy NMS: best score first; drop a box whose IoU with a kept box is > threshold."""
    kept: list[int] = []
    for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        if all(iou[i, j] <= threshold for j in kept):
            kept.append(int(i))
    return kept


@register("nms_keep")
def nms_keep(p: Mapping[str, Any]) -> dict[str, Any]:
    x, y, w, h, s = (np.asarray(p[k], dtype=float).reshape(-1) for k in ("x", "y", "w", "h", "s"))
    boxes = np.stack([x, y, x + w, y + h], axis=1)
    iou = pairwise_iou(boxes)
    keep = np.zeros(len(s))
    keep[greedy_nms(s, iou, float(p["t"]))] = 1.0
    return {"iou": iou, "order": np.argsort(-s, kind="stable").astype(float) + 1.0, "keep": keep}


def _feature_map(*channels: Any):
    """A (1, C, H, W) float64 torch tensor from C equally-shaped H x W matrices."""
    import torch

    return torch.tensor(np.stack([np.asarray(c, dtype=float) for c in channels]), dtype=torch.float64).unsqueeze(0)


def gram(features) -> Any:
    """Gram matrix (C x C) of a (1, C, H, W) tensor: inner products of the flattened channels."""
    flat = features.reshape(features.shape[1], -1)
    return flat @ flat.T


@register("style_gram_loss")
def style_gram_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch.nn.functional as F

    style = _feature_map(p["S1"], p["S2"])
    generated = _feature_map(p["F1"], p["F2"])
    n_channels = style.shape[1]
    positions = style.shape[2] * style.shape[3]
    a, g = gram(style), gram(generated)
    squared = F.mse_loss(g, a, reduction="sum")
    return {
        "A": a.numpy(),
        "G": g.numpy(),
        "sq": float(squared),
        # Gatys, Ecker & Bethge (CVPR 2016), eq. 4: E_l = sum (G - A)^2 / (4 N_l^2 M_l^2)
        "E": float(squared / (4 * n_channels**2 * positions**2)),
    }


@register("content_loss")
def content_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    generated = torch.tensor(np.asarray(p["F"], dtype=float))
    content = torch.tensor(np.asarray(p["P"], dtype=float))
    squared = F.mse_loss(generated, content, reduction="sum")
    channels, positions = generated.shape
    if str(p.get("scale", "gatys")) == "assignment":
        # deeplearning.ai's style-transfer assignment: J = 1/(4 n_H n_W n_C) sum (a_C - a_G)^2
        loss = squared / (4 * positions * channels)
    else:
        loss = 0.5 * squared  # Gatys et al. (2016), eq. 1: L_content = 1/2 sum (F - P)^2
    return {"D": (generated - content).numpy(), "J": float(loss)}
