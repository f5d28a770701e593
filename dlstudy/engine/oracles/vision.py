"""Oracles for computer vision: box overlap (IoU), non-max suppression, style transfer losses.

Boxes are rasterised on an integer pixel grid and their pixels counted, so IoU
is measured, not computed from the corner formula.  NMS runs the greedy loop
over those measured overlaps.  Gram matrices and the style/content losses are
computed with torch on real (1, C, H, W) feature tensors.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


def rasterize(boxes: np.ndarray) -> np.ndarray:
    """Boolean masks (n, H, W): pixel (row r, column c) covers [c, c+1) x [r, r+1); box = [x1, y1, x2, y2]."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    size = int(max(1.0, np.ceil(boxes.max())))
    grid = np.arange(size)
    cols = (grid >= boxes[:, 0:1]) & (grid < boxes[:, 2:3])  # (n, W): which pixel columns each box covers
    rows = (grid >= boxes[:, 1:2]) & (grid < boxes[:, 3:4])  # (n, H)
    return rows[:, :, None] & cols[:, None, :]


def pixel_overlap(masks: np.ndarray, i: int, j: int) -> tuple[int, int]:
    """(intersection, union) of masks i and j, by counting pixels."""
    return int(np.count_nonzero(masks[i] & masks[j])), int(np.count_nonzero(masks[i] | masks[j]))


@register("iou_boxes")
def iou_boxes(p: Mapping[str, Any]) -> dict[str, Any]:
    boxes = np.array([[p["ax1"], p["ay1"], p["ax2"], p["ay2"]], [p["bx1"], p["by1"], p["bx2"], p["by2"]]], dtype=float)
    masks = rasterize(boxes)
    inter, union = pixel_overlap(masks, 0, 1)
    return {
        "area_a": int(np.count_nonzero(masks[0])),
        "area_b": int(np.count_nonzero(masks[1])),
        "inter": inter,
        "union": union,
        "iou": inter / union,
    }


PAIRS = ((0, 1), (0, 2), (1, 2))  # the pair order the template uses: (1,2), (1,3), (2,3)


def greedy_nms(scores: np.ndarray, iou: np.ndarray, threshold: float) -> list[int]:
    """Indices kept by greedy NMS: best score first; drop a box whose IoU with a kept box is > threshold."""
    kept: list[int] = []
    for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        if all(iou[i, j] <= threshold for j in kept):
            kept.append(int(i))
    return kept


@register("nms_keep")
def nms_keep(p: Mapping[str, Any]) -> dict[str, Any]:
    side = float(p["a"])
    x, y, s = (np.asarray(p[k], dtype=float) for k in ("x", "y", "s"))
    boxes = np.stack([x, y, x + side, y + side], axis=1)
    masks = rasterize(boxes)
    n = len(boxes)
    iou = np.eye(n)
    inter = []
    for i, j in PAIRS:
        overlap, union = pixel_overlap(masks, i, j)
        inter.append(overlap)
        iou[i, j] = iou[j, i] = overlap / union
    kept = greedy_nms(s, iou, float(p["t"]))
    order = np.argsort(-s, kind="stable")
    keep = np.zeros(n)
    keep[kept] = 1.0
    return {
        "inter": np.array(inter, dtype=float),
        "iou": np.array([iou[i, j] for i, j in PAIRS]),
        "order": order.astype(float) + 1.0,
        "keep_2nd": float(keep[order[1]]),
        "keep_3rd": float(keep[order[2]]),
        "keep": keep,
    }


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
    return {
        "D": (generated - content).numpy(),
        # Gatys et al. (2016), eq. 1: L_content = 1/2 sum (F - P)^2
        "J": float(0.5 * F.mse_loss(generated, content, reduction="sum")),
    }
