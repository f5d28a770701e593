"""Loss and metric oracles against independent NumPy computations, torch modules and published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get

rng = np.random.default_rng(5)


def _numeric_gradient(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def test_softmax_cross_entropy_matches_numpy():
    oracle = get("softmax_cross_entropy")
    for _ in range(200):
        z, c = rng.uniform(-4, 4, 3), int(rng.integers(1, 4))
        out = oracle({"z": z, "c": c})
        shifted = z - z.max()
        assert np.allclose(out["p"], np.exp(shifted) / np.exp(shifted).sum(), rtol=1e-12)
        assert out["L"] == pytest.approx(np.log(np.exp(z).sum()) - z[c - 1], rel=1e-10)


def test_binary_cross_entropy_matches_numpy():
    oracle = get("binary_cross_entropy")
    for _ in range(200):
        yhat, y = rng.uniform(0.01, 0.99, 3), rng.integers(0, 2, 3).astype(float)
        out = oracle({"yhat": yhat, "y": y})
        each = np.where(y == 1, -np.log(yhat), -np.log(1 - yhat))
        assert np.allclose(out["l"], each, rtol=1e-10)
        assert out["L"] == pytest.approx(each.mean(), rel=1e-10)


def test_mse_gradient_matches_finite_differences():
    oracle = get("mse_gradient")
    for _ in range(200):
        yhat, y = rng.uniform(-2, 2, 3), rng.uniform(-2, 2, 3)
        out = oracle({"yhat": yhat, "y": y})
        loss = lambda v: float(np.mean((v - y) ** 2))
        assert out["L"] == pytest.approx(loss(yhat), rel=1e-12)
        assert np.allclose(out["g"], _numeric_gradient(loss, yhat), rtol=1e-6, atol=1e-9)


def _svm_loss_loop(s, c):
    """The multiclass SVM loss as a plain loop over the wrong classes (CS231n's L_i, unvectorised)."""
    terms = np.zeros(len(s))
    for j in range(len(s)):
        if j != c - 1:
            terms[j] = max(0.0, s[j] - s[c - 1] + 1.0)
    return terms


def test_multiclass_hinge_matches_loop():
    oracle = get("multiclass_hinge")
    for _ in range(300):
        s, c = np.round(rng.uniform(-3, 3, 3), 1), int(rng.integers(1, 4))
        out = oracle({"s": s, "c": c})
        terms = _svm_loss_loop(s, c)
        assert np.allclose(out["m"], terms, rtol=1e-12, atol=1e-12)
        assert out["L"] == pytest.approx(terms.sum(), rel=1e-12, abs=1e-12)


def test_triplet_loss_matches_numpy_and_torch_module():
    oracle = get("triplet_loss")
    for _ in range(200):
        A, P, N = (rng.integers(-2, 3, 2).astype(float) for _ in range(3))
        alpha = float(rng.choice([0.2, 0.5, 1.0, 2.0]))
        d_ap, d_an = np.sum((A - P) ** 2), np.sum((A - N) ** 2)
        out = oracle({"dist": "squared", "A": A, "P": P, "N": N, "alpha": alpha})
        assert (out["dAP"], out["dAN"]) == pytest.approx((d_ap, d_an), rel=1e-12)
        assert out["L"] == pytest.approx(max(0.0, d_ap - d_an + alpha), rel=1e-12, abs=1e-12)
        out = oracle({"dist": "euclidean", "A": A, "P": P, "N": N, "alpha": alpha})
        module = torch.nn.TripletMarginLoss(margin=alpha, p=2.0)  # adds eps = 1e-6 inside the distance
        expected = float(module(*(torch.tensor(v[None]) for v in (A, P, N))))
        assert out["L"] == pytest.approx(expected, abs=1e-5)
        assert out["L"] == pytest.approx(max(0.0, math.dist(A, P) - math.dist(A, N) + alpha), rel=1e-12, abs=1e-12)


def test_precision_recall_f1_matches_confusion_matrix():
    oracle = get("precision_recall_f1")
    for _ in range(300):
        yhat, y = rng.integers(0, 2, 8), rng.integers(0, 2, 8)
        if not np.any((yhat == 1) & (y == 1)):
            continue
        confusion = np.bincount(2 * y + yhat, minlength=4).reshape(2, 2)  # [true label, predicted]
        tn, fp, fn, tp = confusion.ravel()
        out = oracle({"yhat": yhat.astype(float), "y": y.astype(float)})
        assert (out["tp"], out["fp"], out["fn"]) == (tp, fp, fn)
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        assert out["precision"] == pytest.approx(precision, rel=1e-12)
        assert out["recall"] == pytest.approx(recall, rel=1e-12)
        assert out["f1"] == pytest.approx(2 * precision * recall / (precision + recall), rel=1e-12)


def test_perplexity_matches_geometric_mean():
    oracle = get("perplexity")
    for _ in range(200):
        q = rng.uniform(0.05, 1.0, 4)
        out = oracle({"q": q})
        assert out["nll"] == pytest.approx(-np.mean(np.log(q)), rel=1e-10)
        assert out["ppl"] == pytest.approx(np.prod(q) ** (-1 / len(q)), rel=1e-10)


def test_golden_values():
    # CS231n "Linear classification" notes, multiclass SVM example: scores (cat, car, frog) for a cat
    # image 3.2, 5.1, -1.7 give loss 2.9; a car image 1.3, 4.9, 2.0 gives 0; a frog image 2.2, 2.5, -3.1 gives 12.9.
    hinge = get("multiclass_hinge")
    assert hinge({"s": np.array([3.2, 5.1, -1.7]), "c": 1})["L"] == pytest.approx(2.9)
    assert hinge({"s": np.array([1.3, 4.9, 2.0]), "c": 2})["L"] == pytest.approx(0.0)
    assert hinge({"s": np.array([2.2, 2.5, -3.1]), "c": 3})["L"] == pytest.approx(12.9)
    # Cross-entropy of a uniform softmax over K classes is ln K (equal logits, K = 3).
    assert get("softmax_cross_entropy")({"z": np.zeros(3), "c": 2})["L"] == pytest.approx(math.log(3), rel=1e-12)
    # Binary cross-entropy of a coin-flip prediction 0.5 is ln 2 whatever the label.
    assert get("binary_cross_entropy")({"yhat": np.full(3, 0.5), "y": np.array([0.0, 1.0, 1.0])})["L"] == pytest.approx(math.log(2))
    # Jurafsky & Martin, Speech and Language Processing (3rd ed. draft), ch. 3: a sequence of random digits,
    # each with probability 1/10, has perplexity 10.
    assert get("perplexity")({"q": np.full(4, 0.1)})["ppl"] == pytest.approx(10.0, rel=1e-12)
    # Wikipedia, "Precision and recall": of 12 dogs and 10 cats the program calls 8 pictures dogs, 5 of them dogs:
    # precision 5/8, recall 5/12 (so F1 = 2*(5/8)*(5/12)/(5/8 + 5/12) = 1/2).
    y = np.array([1.0] * 12 + [0.0] * 10)
    yhat = np.array([1.0] * 5 + [0.0] * 7 + [1.0] * 3 + [0.0] * 7)
    out = get("precision_recall_f1")({"yhat": yhat, "y": y})
    assert (out["precision"], out["recall"], out["f1"]) == pytest.approx((5 / 8, 5 / 12, 0.5))
    # nn.MSELoss (mean reduction) by hand: errors (0, 0, -2) -> L = 4/3, gradient 2*(0, 0, -2)/3.
    out = get("mse_gradient")({"yhat": np.array([1.0, 2.0, 3.0]), "y": np.array([1.0, 2.0, 5.0])})
    assert out["L"] == pytest.approx(4 / 3) and out["g"] == pytest.approx([0.0, 0.0, -4 / 3])


# ---------------------------------------------------------------------------
# Conventions of the converted templates


def test_hinge_margin_and_pytorch_reduction():
    hinge = get("multiclass_hinge")
    for _ in range(200):
        k = int(rng.integers(2, 6))
        s, c, margin = np.round(rng.uniform(-3, 3, k), 1), int(rng.integers(1, k + 1)), float(rng.choice([0.5, 1, 2]))
        terms = np.array([0.0 if j == c - 1 else max(0.0, s[j] - s[c - 1] + margin) for j in range(k)])
        summed = hinge({"s": s, "c": c, "Delta": margin, "reduction": "sum"})
        np.testing.assert_allclose(summed["m"], terms, atol=1e-12)
        assert summed["L"] == pytest.approx(terms.sum(), abs=1e-12)
        module = torch.nn.MultiMarginLoss(margin=margin)  # PyTorch's convention: divided by the number of classes
        expected = float(module(torch.tensor(s[None]), torch.tensor([c - 1])))
        assert hinge({"s": s, "c": c, "Delta": margin, "reduction": "mean"})["L"] == pytest.approx(expected, abs=1e-12)


def test_mse_sum_reduction_and_perplexity_in_bits():
    out = get("mse_gradient")({"yhat": np.array([1.0, 2.0, 3.0]), "y": np.array([1.0, 2.0, 5.0]), "reduction": "sum"})
    assert out["L"] == pytest.approx(4.0) and out["g"] == pytest.approx([0.0, 0.0, -4.0])
    q = np.array([0.5, 0.25, 0.125, 0.5])
    bits = get("perplexity")({"q": q, "unit": "bits"})
    nats = get("perplexity")({"q": q, "unit": "nats"})
    assert bits["nll"] == pytest.approx(-np.mean(np.log2(q)))  # 1.75 bits per token
    assert bits["ppl"] == pytest.approx(nats["ppl"]) == pytest.approx(2**1.75)  # the unit does not change PPL


def test_binary_cross_entropy_takes_soft_labels():
    # One-sided label smoothing (Salimans et al. 2016): target 0.9 for a real example.
    out = get("binary_cross_entropy")({"yhat": np.array([0.8]), "y": np.array([0.9])})
    assert out["L"] == pytest.approx(-(0.9 * math.log(0.8) + 0.1 * math.log(0.2)))


# ---------------------------------------------------------------------------
# New templates


def test_label_smoothing_matches_szegedy_definition():
    # Szegedy et al. (2016), sec. 7: q'(k) = (1 - eps) delta_(k,y) + eps / K, loss = H(q', p).
    oracle = get("label_smoothing_cross_entropy")
    for _ in range(200):
        k = int(rng.integers(2, 6))
        z, c, eps = rng.uniform(-3, 3, k), int(rng.integers(1, k + 1)), float(rng.uniform(0, 0.5))
        log_p = z - np.log(np.exp(z).sum())
        smoothed = np.full(k, eps / k)
        smoothed[c - 1] += 1 - eps
        out = oracle({"z": z, "c": c, "eps": eps, "spread": "all"})
        np.testing.assert_allclose(out["q"], smoothed, rtol=1e-12)
        assert out["L"] == pytest.approx(-(smoothed * log_p).sum(), rel=1e-10)
        others = np.full(k, eps / (k - 1))
        others[c - 1] = 1 - eps
        assert oracle({"z": z, "c": c, "eps": eps, "spread": "others"})["L"] == pytest.approx(-(others * log_p).sum(), rel=1e-10)
    # Equal logits: every class has p = 1/K, so the loss is ln K whatever the smoothing.
    assert oracle({"z": np.zeros(4), "c": 2, "eps": 0.3, "spread": "all"})["L"] == pytest.approx(math.log(4))


def _clip_loss(similarity, tau):
    """Radford et al. (2021), Figure 3 pseudocode, in NumPy: symmetric cross-entropy over rows and columns."""
    logits = similarity / tau
    n = len(logits)

    def cross_entropy(rows):
        return float(np.mean([np.log(np.exp(r).sum()) - r[i] for i, r in enumerate(rows)]))

    return cross_entropy(logits), cross_entropy(logits.T), n


def test_infonce_matches_clip_pseudocode():
    oracle = get("infonce_loss")
    for _ in range(200):
        n = int(rng.integers(1, 6))
        s, tau = rng.uniform(-1, 1, (n, n)), float(rng.choice([0.07, 0.1, 0.5, 1.0]))
        image, text, _ = _clip_loss(s, tau)
        assert oracle({"S": s, "tau": tau, "direction": "one"})["L"] == pytest.approx(image, rel=1e-10)
        assert oracle({"S": s, "tau": tau, "direction": "both"})["L"] == pytest.approx((image + text) / 2, rel=1e-10)
    # van den Oord et al. (2018): with uninformative scores each of the N candidates is equally likely: L = ln N.
    assert oracle({"S": np.full((5, 5), 0.3), "tau": 0.1, "direction": "both"})["L"] == pytest.approx(math.log(5))


def _simclr_loop(z1, z2, tau):
    """Chen et al. (2020), Algorithm 1, written as loops: l(i, j) over the pairs (2k-1, 2k) and (2k, 2k-1)."""
    z = np.concatenate([z1, z2])
    n = len(z1)
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    sim = unit @ unit.T

    def pair_loss(i, j):
        denominator = sum(math.exp(sim[i, k] / tau) for k in range(2 * n) if k != i)
        return -math.log(math.exp(sim[i, j] / tau) / denominator)

    return sum(pair_loss(k, k + n) + pair_loss(k + n, k) for k in range(n)) / (2 * n)


def test_nt_xent_matches_simclr_algorithm():
    oracle = get("nt_xent_loss")
    for _ in range(100):
        n, d = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        z1, z2, tau = rng.normal(size=(n, d)), rng.normal(size=(n, d)), float(rng.choice([0.1, 0.5, 1.0]))
        assert oracle({"Z1": z1, "Z2": z2, "tau": tau})["L"] == pytest.approx(_simclr_loop(z1, z2, tau), rel=1e-10)
    # Collapse: all 2N embeddings point the same way, so the partner is one of 2N - 1 equal candidates: ln(2N - 1).
    same = np.ones((3, 2))
    assert oracle({"Z1": same, "Z2": 2 * same, "tau": 0.5})["L"] == pytest.approx(math.log(5))
