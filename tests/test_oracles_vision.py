"""Vision oracles (IoU, NMS, style transfer losses) against torch and published numbers."""

from __future__ import annotations

import math

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


def test_content_loss_assignment_normalisation():
    # deeplearning.ai style-transfer assignment: J_content = 1/(4 n_H n_W n_C) * sum (a_C - a_G)^2.
    f, p = np.array([[1.0, 2, 3], [0, 1, 1]]), np.array([[0.0, 2, 1], [1, 1, 1]])
    got = get("content_loss")({"F": f, "P": p, "scale": "assignment"})
    assert got["J"] == pytest.approx(((f - p) ** 2).sum() / (4 * 3 * 2))


# ---------------------------------------------------------------------------
# Detection and segmentation metrics


PADILLA_HITS = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]


def test_average_precision_golden_padilla():
    # Padilla, Netto & da Silva (2020), "A Survey on Performance Metrics for Object-Detection Algorithms", and the
    # worked example of their Object-Detection-Metrics README: 24 detections ranked by confidence (R, Y, J, A, U, ...)
    # against 15 ground-truth objects give AP = 24.56% with all-point interpolation and 26.84% with 11 points.
    tp = np.array(PADILLA_HITS, dtype=float)
    all_point = get("average_precision")({"tp": tp, "G": 15, "interp": "all"})
    eleven = get("average_precision")({"tp": tp, "G": 15, "interp": "eleven"})
    # The README adds areas computed from 4-digit truncations (0.0666, 0.6666, 0.4285, 0.3043): 0.24560955.
    assert all_point["ap"] == pytest.approx(0.24560955, abs=2e-4)
    assert all_point["ap"] == pytest.approx(1 / 15 + 1 / 15 * 2 / 3 + 4 / 15 * 6 / 14 + 1 / 15 * 7 / 23)
    assert round(100 * eleven["ap"], 2) == 26.84
    # Their table: precision 0.4285 and recall 0.4 after the 14th detection (X).
    assert eleven["prec"][13] == pytest.approx(6 / 14) and eleven["rec"][13] == pytest.approx(0.4)


def _precision_recall_area(tp, ground_truths, eleven):
    """Everingham et al. (2010), sec. 4.2, directly: interpolated precision p(r) = max over r' >= r, then the mean over
    11 recall levels or the area under the step curve."""
    tp = np.asarray(tp, dtype=float)
    recall = np.cumsum(tp) / ground_truths
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)

    def interpolated(level):
        reached = recall >= level - 1e-12
        return precision[reached].max() if reached.any() else 0.0

    if eleven:
        return sum(interpolated(level / 10) for level in range(11)) / 11
    previous, area = 0.0, 0.0
    for r in recall:
        area += (r - previous) * interpolated(r)
        previous = r
    return area


def test_average_precision_matches_the_definition():
    rng = np.random.default_rng(8)
    for _ in range(300):
        n = int(rng.integers(1, 12))
        tp = rng.integers(0, 2, n).astype(float)
        g = int(tp.sum()) + int(rng.integers(0, 4)) or 1
        for eleven in (False, True):
            got = get("average_precision")({"tp": tp, "G": g, "interp": "eleven" if eleven else "all"})["ap"]
            assert got == pytest.approx(_precision_recall_area(tp, g, eleven), abs=1e-12)


def _seg(y, yhat, classes, background=True):
    y, yhat = np.atleast_2d(np.asarray(y, dtype=float)), np.atleast_2d(np.asarray(yhat, dtype=float))
    return get("segmentation_iou_dice")({"Y": y, "Yhat": yhat, "C": classes, "background": background})


def test_segmentation_golden_scikit_learn_examples():
    # scikit-learn documentation, jaccard_score: y_true = [0, 1, 2, 2], y_pred = [0, 2, 1, 2] gives per-class
    # Jaccard [1, 0, 1/3] and macro average 0.44...
    got = _seg([0, 1, 2, 2], [0, 2, 1, 2], 3)
    np.testing.assert_allclose(got["iou"], [1, 0, 1 / 3])
    assert got["miou"] == pytest.approx(4 / 9)
    # scikit-learn documentation, f1_score: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1] gives per-class
    # F1 [0.8, 0, 0] (macro 0.26...); on masks the per-class F1 is the Dice coefficient.
    got = _seg([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3)
    np.testing.assert_allclose(got["dice"], [0.8, 0, 0])
    assert got["mdice"] == pytest.approx(0.8 / 3)
    assert _seg([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3, background=False)["mdice"] == 0


def test_segmentation_matches_set_counting():
    rng = np.random.default_rng(9)
    for _ in range(200):
        classes = int(rng.integers(1, 5))
        y, yhat = rng.integers(0, classes, (3, 4)), rng.integers(0, classes, (3, 4))
        present = [c for c in range(classes) if (y == c).any() or (yhat == c).any()]
        if len(present) < classes:
            continue
        got = _seg(y, yhat, classes)
        for c in range(classes):
            a, b = y == c, yhat == c
            assert got["iou"][c] == pytest.approx((a & b).sum() / (a | b).sum())
            assert got["dice"][c] == pytest.approx(2 * (a & b).sum() / (a.sum() + b.sum()))
        np.testing.assert_array_equal(got["M"], [[((y == i) & (yhat == j)).sum() for j in range(classes)] for i in range(classes)])


# ---------------------------------------------------------------------------
# YOLO, anchors, box regression


def test_yolo_output_size_golden():
    size = get("yolo_output_size")
    # Redmon et al. (2016), sec. 2: S = 7, B = 2, C = 20 (PASCAL VOC) give a 7 x 7 x 30 tensor.
    assert list(size({"S": 7, "B": 2, "C": 20, "head": "yolov1"})["out"]) == [7, 7, 30]
    # Redmon & Farhadi (2017), sec. 2: 5 anchor boxes with 5 coordinates and 20 classes each: 125 filters on 13 x 13.
    assert list(size({"S": 13, "B": 5, "C": 20, "head": "anchors"})["out"]) == [13, 13, 125]
    # deeplearning.ai, C4W3 (YOLO): a 3 x 3 grid with 3 classes outputs 3 x 3 x 8; with 2 anchor boxes 3 x 3 x 16;
    # the car-detection assignment's 19 x 19 grid with 5 anchors and 80 classes gives 19 x 19 x 425.
    assert list(size({"S": 3, "B": 1, "C": 3, "head": "yolov1"})["out"]) == [3, 3, 8]
    assert list(size({"S": 3, "B": 2, "C": 3, "head": "anchors"})["out"]) == [3, 3, 16]
    assert list(size({"S": 19, "B": 5, "C": 80, "head": "anchors"})["out"]) == [19, 19, 425]


def test_yolo_output_size_matches_real_heads():
    # A YOLOv2-style 1 x 1 convolution head and a YOLOv1-style linear head reshaped to the grid, built and run.
    rng = np.random.default_rng(10)
    for _ in range(20):
        s, b, c = (int(v) for v in rng.integers(1, 6, 3))
        conv = torch.nn.Conv2d(8, b * (5 + c), kernel_size=1)
        features = conv(torch.zeros(1, 8, s, s)).permute(0, 2, 3, 1)[0]
        assert list(get("yolo_output_size")({"S": s, "B": b, "C": c, "head": "anchors"})["out"]) == list(features.shape)
        linear = torch.nn.Linear(16, s * s * (b * 5 + c))
        grid = linear(torch.zeros(1, 16)).reshape(s, s, -1)
        assert list(get("yolo_output_size")({"S": s, "B": b, "C": c, "head": "yolov1"})["out"]) == list(grid.shape)


def test_yolo_cell_target_golden_ng():
    # deeplearning.ai C4W3, "Bounding box predictions": a 100 x 100 image, 3 x 3 grid; the car whose midpoint is in
    # the middle-right cell gets b_x = 0.4, b_y = 0.3, b_h = 0.5, b_w = 0.9, measured in that cell's units.
    cell = 100 / 3
    got = get("yolo_cell_target")({"W": 100, "H": 100, "S": 3, "x": 2.4 * cell, "y": 1.3 * cell, "w": 0.9 * cell,
                                   "h": 0.5 * cell, "unit": "cell"})
    assert (got["row"], got["col"]) == (2, 3)
    np.testing.assert_allclose(got["target"], [0.4, 0.3, 0.5, 0.9], atol=1e-12)
    # YOLOv1 (Redmon et al. 2016, sec. 2): width and height relative to the whole image.
    got = get("yolo_cell_target")({"W": 448, "H": 448, "S": 7, "x": 100, "y": 300, "w": 224, "h": 112, "unit": "image"})
    assert (got["row"], got["col"]) == (5, 2)
    np.testing.assert_allclose(got["target"], [100 / 64 - 1, 300 / 64 - 4, 0.25, 0.5])


def test_anchor_assignment_by_shape():
    # The course's two anchors, a tall one (pedestrian) and a wide one (car): a tall object goes to the tall anchor.
    got = get("anchor_box_assignment")({"aw": np.array([1.0, 3.0]), "ah": np.array([3.0, 1.0]), "w": 1.2, "h": 2.5})
    assert got["best"] == 1
    np.testing.assert_allclose(got["iou"], [1.0 * 2.5 / (3.0 + 3.0 - 2.5), 1.2 * 1.0 / (3.0 + 3.0 - 1.2)])


def _decode(anchor, t):
    """torchvision's BoxCoder.decode_single with weights (1, 1, 1, 1), in NumPy."""
    w, h = anchor[2] - anchor[0], anchor[3] - anchor[1]
    x, y = anchor[0] + w / 2 + t[0] * w, anchor[1] + h / 2 + t[1] * h
    bw, bh = w * math.exp(t[2]), h * math.exp(t[3])
    return np.array([x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2])


def test_bbox_regression_targets_golden_and_round_trip():
    # Ren et al. (2015), eq. 2: anchor (0, 0, 10, 10) and box (5, 5, 25, 15): centres (5, 5) and (15, 10), sizes
    # 10 x 10 and 20 x 10, so t = (10/10, 5/10, ln 2, ln 1).
    got = get("bbox_regression_targets")({"a": np.array([0.0, 0, 10, 10]), "g": np.array([5.0, 5, 25, 15])})
    np.testing.assert_allclose(got["t"], [1.0, 0.5, math.log(2), 0.0], atol=1e-12)
    rng = np.random.default_rng(11)
    for _ in range(100):
        corners = rng.uniform(-20, 20, (2, 2, 2))
        anchor, box = (np.concatenate([c.min(axis=0), c.max(axis=0) + 0.1]) for c in corners)
        t = get("bbox_regression_targets")({"a": anchor, "g": box})["t"]
        np.testing.assert_allclose(_decode(anchor, t), box, rtol=1e-10, atol=1e-9)


def test_fgsm_golden_linear_explanation():
    # Goodfellow, Shlens & Szegedy (2015), sec. 3: for a linear score w^T x, the perturbation eta = eps sign(w)
    # changes the score by eps ||w||_1. Two classes with logits (0, w^T x) and true class 1: the untargeted attack
    # raises the other class's logit by exactly eps ||w||_1.
    w = np.array([0.5, -2.0, 1.0, -0.25])
    x, eps = np.array([0.2, 0.1, -0.3, 0.4]), 0.1
    got = get("fgsm_adversarial")({"W": np.stack([np.zeros(4), w]), "b": np.zeros(2), "x": x, "c": 1, "eps": eps,
                                   "mode": "untargeted"})
    np.testing.assert_allclose(got["xadv"] - x, eps * np.sign(w))
    assert w @ got["xadv"] - w @ x == pytest.approx(eps * np.abs(w).sum())
    assert got["linf"] == pytest.approx(eps) and got["l2"] == pytest.approx(eps * 2)


def test_fgsm_matches_numeric_gradient():
    rng = np.random.default_rng(12)
    for _ in range(100):
        k, n = int(rng.integers(2, 5)), int(rng.integers(1, 5))
        weights, bias, x = rng.normal(size=(k, n)), rng.normal(size=k), rng.normal(size=n)
        c, eps = int(rng.integers(1, k + 1)), 0.05

        def loss(v):
            z = weights @ v + bias
            return np.log(np.exp(z).sum()) - z[c - 1]

        numeric = np.array([(loss(x + 1e-6 * e) - loss(x - 1e-6 * e)) / 2e-6 for e in np.eye(n)])
        for mode, direction in (("untargeted", 1), ("targeted", -1)):
            got = get("fgsm_adversarial")({"W": weights, "b": bias, "x": x, "c": c, "eps": eps, "mode": mode})
            np.testing.assert_allclose(got["g"], numeric, rtol=1e-5, atol=1e-8)
            np.testing.assert_allclose(got["xadv"], x + direction * eps * np.sign(numeric))
