"""Vision oracles (IoU, NMS, style transfer losses) against torch and published numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get


def _torch_box_iou(a, b):
    """Pairwise IoU of (n, 4) and (m, 4) boxes [x1, y1, x2, y2] from corner arithmetic (no pixels)."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    return inter, area_a[:, None] + area_b[None, :] - inter


def _iou_params(box_a, box_b):
    return dict(zip(("ax1", "ay1", "ax2", "ay2", "bx1", "by1", "bx2", "by2"), (*box_a, *box_b)))


def test_iou_matches_torch_corner_arithmetic():
    rng = np.random.default_rng(1)
    for _ in range(400):
        corners = rng.integers(0, 12, size=(2, 2, 2))  # box, corner, coordinate
        boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1) + 1], axis=1)  # x1 < x2, y1 < y2
        inter, union = _torch_box_iou(boxes[:1], boxes[1:])
        got = get("iou_boxes")(_iou_params(boxes[0], boxes[1]))
        assert got["inter"] == int(inter) and got["union"] == int(union)
        assert got["iou"] == pytest.approx(float(inter / union))
        assert got["area_a"] == (boxes[0, 2] - boxes[0, 0]) * (boxes[0, 3] - boxes[0, 1])


def test_iou_golden_yolo_assignment():
    # deeplearning.ai Convolutional Neural Networks, week 3 "Car detection with YOLO": iou((2,1,4,3), (1,2,3,4))
    # = 0.14285714 (= 1/7); non-intersecting boxes and boxes touching at a vertex or an edge give 0.
    assert get("iou_boxes")(_iou_params((2, 1, 4, 3), (1, 2, 3, 4)))["iou"] == pytest.approx(0.14285714)
    for a, b in [((1, 2, 3, 4), (5, 6, 7, 8)), ((1, 1, 2, 2), (2, 2, 3, 3)), ((1, 1, 3, 3), (2, 3, 3, 4))]:
        assert get("iou_boxes")(_iou_params(a, b))["iou"] == 0


def _torch_nms(boxes, scores, threshold):
    """Greedy NMS the torchvision way: sort once, then mark boxes suppressed by each surviving box."""
    inter, union = _torch_box_iou(boxes, boxes)
    iou = inter / union
    order = torch.argsort(torch.as_tensor(scores), descending=True, stable=True)
    suppressed = torch.zeros(len(scores), dtype=torch.bool)
    keep = torch.zeros(len(scores))
    for i in order:
        if suppressed[i]:
            continue
        keep[i] = 1
        suppressed |= iou[i] > threshold
    return keep, iou


def test_iou_with_real_corners_matches_torch_corner_arithmetic():
    rng = np.random.default_rng(7)
    for _ in range(400):
        corners = rng.uniform(-5, 5, size=(2, 2, 2))
        boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1) + 0.01], axis=1)
        inter, union = _torch_box_iou(boxes[:1], boxes[1:])
        got = get("iou_boxes")(_iou_params(boxes[0], boxes[1]))
        assert got["inter"] == pytest.approx(float(inter), abs=1e-12)
        assert got["iou"] == pytest.approx(float(inter / union), rel=1e-12, abs=1e-12)


def _nms_params(boxes, scores, threshold):
    boxes = np.asarray(boxes, dtype=float)
    return {"x": boxes[:, 0], "y": boxes[:, 1], "w": boxes[:, 2] - boxes[:, 0], "h": boxes[:, 3] - boxes[:, 1],
            "s": np.asarray(scores, dtype=float), "t": threshold}


def test_nms_matches_independent_torch_nms():
    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(400):
        n = int(rng.integers(1, 8))
        top_left = rng.uniform(0, 6, size=(n, 2))
        boxes = np.concatenate([top_left, top_left + rng.uniform(0.5, 4, size=(n, 2))], axis=1)
        scores = rng.permutation(np.arange(1, 20))[:n] / 20
        threshold = float(rng.choice([0.1, 0.2, 0.3, 0.5, 0.7]))
        keep, iou = _torch_nms(boxes, scores, threshold)
        if np.any(np.isclose(iou.numpy(), threshold)):
            continue  # a tie with the threshold: > versus >= would matter
        got = get("nms_keep")(_nms_params(boxes, scores, threshold))
        np.testing.assert_allclose(got["iou"], iou.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(got["keep"], keep.numpy())
        np.testing.assert_array_equal(got["order"], np.argsort(-scores) + 1)
        checked += 1
    assert checked > 300


def test_nms_worked_example():
    # Worked by hand: 2x2 boxes at (0,0), (1,0), (2,0) with scores 0.9, 0.8, 0.7 and t = 0.3.
    # IoU(1,2) = IoU(2,3) = 2/6 = 1/3 > 0.3, IoU(1,3) = 0: box 2 is suppressed by box 1, and box 3
    # survives because the suppressed box 2 cannot suppress it.
    boxes = [[0, 0, 2, 2], [1, 0, 3, 2], [2, 0, 4, 2]]
    got = get("nms_keep")(_nms_params(boxes, [0.9, 0.8, 0.7], 0.3))
    np.testing.assert_allclose(got["iou"], [[1, 1 / 3, 0], [1 / 3, 1, 1 / 3], [0, 1 / 3, 1]])
    np.testing.assert_array_equal(got["keep"], [1, 0, 1])


def test_nms_template_accepts_the_old_equal_squares_form():
    # The template's first form gave one side a for three equal squares; a still fills in w and h.
    from dlstudy.engine import exercises

    solution = exercises.solve_numbers("nms-keep", ["a=2", "x=[0,1,2]", "y=[0,0,0]", "s=[0.9,0.8,0.7]", "t=0.3"])
    np.testing.assert_array_equal(solution.answer, [1, 0, 1])


def test_style_loss_matches_both_published_normalisations():
    # Gatys, Ecker & Bethge (CVPR 2016), eq. 3-4: G_kl = sum_p F_kp F_lp and E = sum (G - A)^2 / (4 N^2 M^2).
    # The course notes (deeplearning.ai) write the same layer cost as ||G(S) - G(G)||_F^2 / (2 n_H n_W n_C)^2.
    rng = np.random.default_rng(3)
    for _ in range(200):
        style, generated = rng.integers(-2, 4, size=(2, 2, 2, 2)).astype(float)  # (C, H, W) each
        got = get("style_gram_loss")({"S1": style[0], "S2": style[1], "F1": generated[0], "F2": generated[1]})
        a = np.einsum("chw,dhw->cd", style, style)
        g = np.einsum("chw,dhw->cd", generated, generated)
        n_c, n_h, n_w = style.shape
        np.testing.assert_allclose(got["A"], a)
        np.testing.assert_allclose(got["G"], g)
        assert got["E"] == pytest.approx(np.sum((a - g) ** 2) / (2 * n_h * n_w * n_c) ** 2)


def test_content_loss_and_its_gradient():
    # Gatys et al. (2016), eq. 1-2: L = 1/2 sum (F - P)^2 and dL/dF = F - P (for positive activations).
    rng = np.random.default_rng(4)
    for _ in range(200):
        f, p = rng.uniform(0.1, 3, size=(2, 2, 3))
        got = get("content_loss")({"F": f, "P": p})
        features = torch.tensor(f, requires_grad=True)
        loss = 0.5 * ((features - torch.tensor(p)) ** 2).sum()
        loss.backward()
        assert got["J"] == pytest.approx(loss.item())
        np.testing.assert_allclose(got["D"], features.grad.numpy())
