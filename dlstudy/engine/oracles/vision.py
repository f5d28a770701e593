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
    """n x n IoUs, each pair measured on the grid its own four x edges and four y edges cut (1 on the diagonal).

    All pairs at once: for pair (i, j) the sorted edges make 3 x 3 cells; a box covers a cell when the cell
    lies between its edges; the areas of the cells both boxes cover (either box covers) are added up.
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    n = len(boxes)
    first, second = np.repeat(boxes, n, axis=0), np.tile(boxes, (n, 1))  # row i * n + j: the pair (i, j)

    def cells(low: int, high: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        edges = np.sort(np.stack([first[:, low], first[:, high], second[:, low], second[:, high]], axis=1), axis=1)
        start, stop = edges[:, :-1], edges[:, 1:]
        covers_first = (start >= first[:, low:low + 1]) & (stop <= first[:, high:high + 1])
        covers_second = (start >= second[:, low:low + 1]) & (stop <= second[:, high:high + 1])
        return stop - start, covers_first, covers_second

    width, col_a, col_b = cells(0, 2)
    height, row_a, row_b = cells(1, 3)
    area = height[:, :, None] * width[:, None, :]  # (pairs, rows, columns)
    in_a = row_a[:, :, None] & col_a[:, None, :]
    in_b = row_b[:, :, None] & col_b[:, None, :]
    inter = (area * (in_a & in_b)).sum(axis=(1, 2))
    union = (area * (in_a | in_b)).sum(axis=(1, 2))
    iou = (inter / union).reshape(n, n)
    np.fill_diagonal(iou, 1.0)
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


def voc_ap(hits: np.ndarray, ground_truths: int, eleven_point: bool) -> dict[str, Any]:
    """Average precision as the PASCAL VOC devkit computes it (VOCevaldet.m; Everingham et al. 2010, sec. 4.2).

    Precision and recall from the accumulated true and false positives; all-point AP (VOC 2010+)
    makes precision monotone from the right and sums it over the points where recall changes,
    with sentinels recall 0 and 1; 11-point AP (VOC 2007) averages the largest precision with
    recall >= t over t = 0, 0.1, ..., 1.  The recall test rec >= t is made on whole numbers
    (10 TP >= j G), so that recall 0.3 reaches t = 0.3 (the devkit's 0:0.1:1 makes t = 0.30000000000000004).
    """
    hits = np.asarray(hits, dtype=float).reshape(-1)
    tp, fp = np.cumsum(hits), np.cumsum(1.0 - hits)
    recall, precision = tp / ground_truths, tp / (tp + fp)
    monotone = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(monotone) - 2, -1, -1):
        monotone[i] = max(monotone[i], monotone[i + 1])
    if eleven_point:
        ap = 0.0
        for level in range(11):
            reached = 10 * tp >= level * ground_truths
            ap += (precision[reached].max() if reached.any() else 0.0) / 11
    else:
        points = np.concatenate([[0.0], recall, [1.0]])
        changes = np.flatnonzero(points[1:] != points[:-1]) + 1
        ap = float(np.sum((points[changes] - points[changes - 1]) * monotone[changes]))
    return {"ctp": tp, "prec": precision, "rec": recall, "pint": monotone[1:-1], "ap": float(ap)}


@register("average_precision")
def average_precision(p: Mapping[str, Any]) -> dict[str, Any]:
    return voc_ap(np.asarray(p["tp"]), int(p["G"]), str(p.get("interp", "all")) == "eleven")


@register("segmentation_iou_dice")
def segmentation_iou_dice(p: Mapping[str, Any]) -> dict[str, Any]:
    """Per-class IoU and Dice from one-hot masks (torch): intersections and unions of the pixel sets."""
    import torch
    import torch.nn.functional as F

    classes = int(p["C"])
    truth = F.one_hot(torch.as_tensor(np.asarray(p["Y"]), dtype=torch.long).reshape(-1), classes).bool()  # (pixels, C)
    predicted = F.one_hot(torch.as_tensor(np.asarray(p["Yhat"]), dtype=torch.long).reshape(-1), classes).bool()
    inter = (truth & predicted).sum(dim=0).double()
    union = (truth | predicted).sum(dim=0).double()
    iou = inter / union
    dice = 2 * inter / (truth.sum(dim=0) + predicted.sum(dim=0)).double()
    counts = torch.zeros(classes, classes, dtype=torch.float64)
    counts.index_put_((truth.int().argmax(dim=1), predicted.int().argmax(dim=1)), torch.ones(len(truth), dtype=torch.float64), accumulate=True)
    averaged = slice(0, None) if p.get("background", True) else slice(1, None)
    return {
        "M": counts.numpy(),
        "inter": inter.numpy(),
        "union": union.numpy(),
        "iou": iou.numpy(),
        "dice": dice.numpy(),
        "miou": float(iou[averaged].mean()),
        "mdice": float(dice[averaged].mean()),
    }


def cell_layout(boxes: int, classes: int, anchors: bool) -> list[tuple[str, int]]:
    """What one grid cell predicts, in order, as (group, how many numbers): one group per box, plus the classes."""
    if anchors:  # YOLOv2 / the course notes: every anchor box has its own box numbers and class scores
        return [(f"anchor {b}: x, y, w, h, objectness, {classes} class scores", 5 + classes) for b in range(1, boxes + 1)]
    box_groups = [(f"box {b}: x, y, w, h, confidence", 5) for b in range(1, boxes + 1)]
    return box_groups + [(f"{classes} class probabilities of the cell", classes)]  # YOLOv1


@register("yolo_output_size")
def yolo_output_size(p: Mapping[str, Any]) -> dict[str, Any]:
    """The output layout listed group by group for one cell (no tensor is allocated: sizes go up to 10^5)."""
    grid = int(p["S"])
    depth = sum(count for _, count in cell_layout(int(p["B"]), int(p["C"]), str(p.get("head", "yolov1")) == "anchors"))
    return {"depth": depth, "out": np.array([grid, grid, depth], dtype=float)}


@register("yolo_cell_target")
def yolo_cell_target(p: Mapping[str, Any]) -> dict[str, Any]:
    """Encode the label into a real S x S x 5 target grid, as a YOLO data loader does, then read it back.

    The label is normalised to the image (as YOLO label files store it); the cell is the integer part
    of the centre times S; the cell stores objectness 1, the centre's offset inside the cell and the size
    (relative to the cell, as in the course notes, or to the image, as in YOLOv1).
    """
    import torch

    grid, width, height = int(p["S"]), float(p["W"]), float(p["H"])
    x_rel, y_rel = float(p["x"]) / width, float(p["y"]) / height
    w_rel, h_rel = float(p["w"]) / width, float(p["h"]) / height
    target = torch.zeros(grid, grid, 5, dtype=torch.float64)
    row, col = int(y_rel * grid), int(x_rel * grid)  # 0-based, row down the image
    size_scale = grid if str(p.get("unit", "cell")) == "cell" else 1
    target[row, col] = torch.tensor([1.0, x_rel * grid - col, y_rel * grid - row, h_rel * size_scale, w_rel * size_scale])
    (cell,) = torch.nonzero(target[..., 0])
    encoded = target[cell[0], cell[1]]
    return {
        "cw": width / grid,
        "ch": height / grid,
        "row": int(cell[0]) + 1,
        "col": int(cell[1]) + 1,
        "target": encoded[1:].numpy(),
    }


@register("anchor_box_assignment")
def anchor_box_assignment(p: Mapping[str, Any]) -> dict[str, Any]:
    """Centre every box at the origin, measure the overlaps on the edge grid, and pick the best anchor."""
    widths, heights = (np.asarray(p[k], dtype=float).reshape(-1) for k in ("aw", "ah"))
    w, h = float(p["w"]), float(p["h"])
    obj = np.array([-w / 2, -h / 2, w / 2, h / 2])
    overlaps, ious = [], []
    for aw, ah in zip(widths, heights):
        masks, cell_area = edge_grid(np.stack([obj, [-aw / 2, -ah / 2, aw / 2, ah / 2]]))
        overlaps.append(region_area(masks[0] & masks[1], cell_area))
        ious.append(overlaps[-1] / region_area(masks[0] | masks[1], cell_area))
    iou = np.array(ious)
    return {"inter": np.array(overlaps), "iou": iou, "best": int(np.argmax(iou)) + 1}


def decode_boxes(anchors, deltas):
    """Boxes (x1, y1, x2, y2) from anchors and targets (t_x, t_y, t_w, t_h), as torchvision's BoxCoder.decode_single."""
    import torch

    widths, heights = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    centre_x, centre_y = anchors[:, 0] + 0.5 * widths, anchors[:, 1] + 0.5 * heights
    x = deltas[:, 0] * widths + centre_x
    y = deltas[:, 1] * heights + centre_y
    w, h = torch.exp(deltas[:, 2]) * widths, torch.exp(deltas[:, 3]) * heights
    return torch.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], dim=1)


@register("bbox_regression_targets")
def bbox_regression_targets(p: Mapping[str, Any]) -> dict[str, Any]:
    """The targets found by inverting the decoder: Newton's method with torch autograd's Jacobian on t until
    decode(anchor, t) lands on the ground-truth box, starting from t = 0 (the anchor itself).

    Decoding is what the detector does at test time (Ren et al. 2015, eq. 2 read backwards), so the targets
    are the t the decoder maps onto the ground truth; the closed form encodes directly.  The mismatch is
    measured on the decoded box's centre (in anchor units) and log size, where Newton converges at once
    even for boxes many times larger or smaller than the anchor.
    """
    import torch

    anchor = torch.tensor(np.asarray(p["a"], dtype=float).reshape(1, 4))
    truth = torch.tensor(np.asarray(p["g"], dtype=float).reshape(1, 4))
    anchor_size = (anchor[0, 2:] - anchor[0, :2])

    def centre_and_log_size(boxes):  # one row per box
        size = boxes[:, 2:] - boxes[:, :2]
        return torch.cat([(boxes[:, :2] + boxes[:, 2:]) / 2 / anchor_size, torch.log(size)], dim=1)

    goal = centre_and_log_size(truth)

    def mismatch(deltas):  # one row of mismatches per row of deltas
        return centre_and_log_size(decode_boxes(anchor, deltas)) - goal

    def jacobian(deltas):
        # Row i of the Jacobian is the gradient of output i, taken here on copy i of the deltas (the trace adds
        # output i of copy i over i): one backward pass for all four rows, where
        # torch.autograd.functional.jacobian makes four; the same numbers, bit for bit.  (A grad_outputs
        # tensor instead of the scalar trace would import sympy.)
        copies = deltas.expand(4, 4).clone().requires_grad_()
        (rows,) = torch.autograd.grad(torch.trace(mismatch(copies)), copies)
        return rows

    deltas = torch.zeros(4, dtype=torch.float64)
    for _ in range(50):
        step = torch.linalg.solve(jacobian(deltas), mismatch(deltas.reshape(1, 4))[0])
        deltas = deltas - step
        if float(step.abs().max()) <= 1e-15 * (1.0 + float(deltas.abs().max())):
            break
    a, g = anchor[0].numpy(), truth[0].numpy()
    return {
        "wa": a[2] - a[0], "ha": a[3] - a[1], "xa": (a[0] + a[2]) / 2, "ya": (a[1] + a[3]) / 2,
        "wg": g[2] - g[0], "hg": g[3] - g[1], "xg": (g[0] + g[2]) / 2, "yg": (g[1] + g[3]) / 2,
        "t": deltas.numpy(),
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
    squared = F.mse_loss(generated, content, reduction="sum")
    channels, positions = generated.shape
    if str(p.get("scale", "gatys")) == "assignment":
        # deeplearning.ai's style-transfer assignment: J = 1/(4 n_H n_W n_C) sum (a_C - a_G)^2
        loss = squared / (4 * positions * channels)
    else:
        loss = 0.5 * squared  # Gatys et al. (2016), eq. 1: L_content = 1/2 sum (F - P)^2
    return {"D": (generated - content).numpy(), "J": float(loss)}


@register("fgsm_adversarial")
def fgsm_adversarial(p: Mapping[str, Any]) -> dict[str, Any]:
    """FGSM (Goodfellow et al. 2015): the input gradient of F.cross_entropy from torch autograd, its sign, a step."""
    import torch
    import torch.nn.functional as F

    weights = torch.tensor(np.asarray(p["W"], dtype=float))
    bias = torch.tensor(np.asarray(p["b"], dtype=float).reshape(-1))
    x = torch.tensor(np.asarray(p["x"], dtype=float).reshape(-1), requires_grad=True)
    target = torch.tensor([int(p["c"]) - 1])
    logits = F.linear(x, weights, bias)
    loss = F.cross_entropy(logits.reshape(1, -1), target)
    (gradient,) = torch.autograd.grad(loss, x)
    direction = 1.0 if str(p.get("mode", "untargeted")) == "untargeted" else -1.0  # targeted: descend
    # An entry that is zero up to rounding (p sums to 1 only up to rounding) has no sign: it does not move.
    signs = torch.where(gradient.abs() < 5e-10, torch.zeros_like(gradient), gradient.sign())
    adversarial = (x + direction * float(p["eps"]) * signs).detach()
    perturbation = adversarial - x.detach()
    return {
        "z": logits.detach().numpy(),
        "p": F.softmax(logits.detach(), dim=0).numpy(),
        "g": gradient.numpy(),
        "sg": signs.numpy(),
        "xadv": adversarial.numpy(),
        "padv": F.softmax(F.linear(adversarial, weights, bias), dim=0).numpy(),
        "linf": float(torch.linalg.vector_norm(perturbation, ord=float("inf"))),
        "l2": float(torch.linalg.vector_norm(perturbation, ord=2)),
    }
