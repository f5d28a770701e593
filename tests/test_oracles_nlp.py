"""NLP oracles against independent computations and published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlstudy.mathtext import expr
from dlstudy.mathtext import functions
from dlstudy.mathtext import parsing
from dlstudy.engine.oracles import get
from dlstudy.engine.model import Sentence
from dlstudy.engine.oracles.nlp import beam_search, bigram_factors, clipped_matches, closest_reference_length, sentence_bleu

rng = np.random.default_rng(7)


def _one_decimal(*shape):
    return np.round(rng.uniform(-1, 1, shape), 1)


# ---------------------------------------------------------------------------
# word2vec


def test_skipgram_softmax_matches_numpy():
    for _ in range(300):
        V, d = int(rng.integers(2, 6)), int(rng.integers(1, 4))
        U, v, o = _one_decimal(V, d), _one_decimal(d), int(rng.integers(1, V + 1))
        got = get("skipgram_softmax")({"U": U, "v": v, "o": o, "V": V, "d": d})
        scores = np.array([sum(U[w, i] * v[i] for i in range(d)) for w in range(V)])
        expected = math.exp(scores[o - 1]) / sum(math.exp(s) for s in scores)
        np.testing.assert_allclose(got["s"], scores, atol=1e-12)
        assert got["p"] == pytest.approx(expected, rel=1e-12)
        assert got["Z"] == pytest.approx(np.exp(scores).sum(), rel=1e-12)


def test_negative_sampling_loss_matches_bce_with_logits_and_numpy():
    for _ in range(300):
        d = int(rng.integers(1, 4))
        v, u, N = _one_decimal(d), _one_decimal(d), _one_decimal(2, d)
        got = get("negative_sampling_loss")({"v": v, "u": u, "N": N, "d": d})
        # torch's binary cross-entropy with logits: label 1 for the observed pair, 0 for the noise words
        logits = torch.as_tensor(np.concatenate([[u @ v], N @ v]))
        bce = F.binary_cross_entropy_with_logits(logits, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), reduction="sum")
        sigma = lambda z: 1 / (1 + math.exp(-z))
        direct = -math.log(sigma(u @ v)) - sum(math.log(sigma(-(row @ v))) for row in N)
        assert got["J"] == pytest.approx(float(bce), rel=1e-12)
        assert got["J"] == pytest.approx(direct, rel=1e-12)
        np.testing.assert_allclose(got["s_neg"], N @ v, atol=1e-12)


def _word2vec_unigram_table(counts, table_size):
    """InitUnigramTable from Mikolov's word2vec.c, line for line: word i fills a share of the table."""
    power = 0.75
    train_words_pow = sum(c**power for c in counts)
    table = np.empty(table_size, dtype=np.int64)
    i = 0
    d1 = counts[i] ** power / train_words_pow
    for a in range(table_size):
        table[a] = i
        if a / table_size > d1:
            i += 1
            d1 += counts[i] ** power / train_words_pow if i < len(counts) else 0.0
        if i >= len(counts):
            i = len(counts) - 1
    return table


def test_noise_distribution_matches_word2vec_unigram_table():
    table_size = 200_000
    for _ in range(8):
        counts = rng.integers(1, 101, int(rng.integers(2, 5))).astype(float)
        got = get("unigram_noise_distribution")({"c": counts, "V": len(counts)})
        table = _word2vec_unigram_table(list(counts), table_size)
        shares = np.bincount(table, minlength=len(counts)) / table_size
        np.testing.assert_allclose(got["P"], shares, atol=3 / table_size)
        assert got["P"].sum() == pytest.approx(1.0)


def test_noise_distribution_golden_cs224n():
    # Mikolov et al. (2013), "Distributed Representations of Words and Phrases", sec. 2.2: noise
    # distribution U(w)^(3/4)/Z.  Stanford CS224n lecture notes, part I (negative sampling), worked
    # numbers: is 0.9^(3/4) = 0.92, Constitution 0.09^(3/4) = 0.16, bombastic 0.01^(3/4) = 0.032.
    got = get("unigram_noise_distribution")({"c": np.array([0.9, 0.09, 0.01]), "V": 3})
    np.testing.assert_allclose(got["w"], [0.92, 0.16, 0.032], rtol=0.03)


# ---------------------------------------------------------------------------
# Bigram language model


def _numpy_bigram_factors(C, q, k, next_types):
    """Independent count: ids padded with 0 = <s> and -1 = </s>, bigrams as rows of a window array."""
    padded = np.hstack([np.zeros((len(C), 1)), C, np.full((len(C), 1), -1.0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2, axis=1).reshape(-1, 2)
    sentence = np.concatenate([[0.0], q, [-1.0]])
    factors = []
    for h, w in zip(sentence[:-1], sentence[1:]):
        pair = np.sum((windows[:, 0] == h) & (windows[:, 1] == w))
        history = np.sum(windows[:, 0] == h)
        with np.errstate(invalid="ignore"):
            factors.append(np.float64(pair + k) / (history + k * next_types))
    return np.array(factors)


def test_bigram_probability_matches_numpy_count():
    for _ in range(200):
        S, L, T = (int(v) for v in rng.integers(2, 5, 3))
        C = rng.integers(1, 5, (S, L)).astype(float)
        q = rng.integers(1, 5, T).astype(float)
        V = int(max(C.max(), q.max()))  # ids 1..V are the vocabulary
        for smoothing, k in (("mle", 0.0), ("laplace", 1.0), ("add-k", 0.25)):
            for eos in (True, False):
                got = get("bigram_sentence_probability")({"C": C, "q": q, "smoothing": smoothing, "k": k, "eos": eos})
                expected = _numpy_bigram_factors(C, q, k, next_types=V + eos)
                # an unseen history word makes its MLE factor 0/0 (the template's constraint refuses that)
                np.testing.assert_allclose(got["probs"], expected[:-1], rtol=1e-12)
                end = expected[-1] if eos else 1.0
                np.testing.assert_allclose(got["p_end"], end, rtol=1e-12)
                np.testing.assert_allclose(got["P"], np.prod(expected[:-1]) * end, rtol=1e-12, atol=1e-15)
                assert got["V"] == V


def test_bigram_end_token_convention():
    # Course notes 004 L126 stop at P(w_n | w_{n-1}); Jurafsky & Martin pad </s> and multiply P(</s> | w_n).
    # Corpus <s> 1 2 3 / <s> 1 3 2 / <s> 2 3 3, sentence 1 3 2: P(1|<s>) = 2/3, P(3|1) = 1/2, P(2|3) = 1/4
    # (3 occurs 4 times), P(</s>|2) = 1/3 (2 occurs 3 times, once sentence-final).
    C, q = np.array([[1, 2, 3], [1, 3, 2], [2, 3, 3]], dtype=float), np.array([1, 3, 2], dtype=float)
    without = get("bigram_sentence_probability")({"C": C, "q": q, "smoothing": "mle", "eos": False})
    assert without["P"] == pytest.approx(1 / 12, abs=1e-15)
    assert get("bigram_sentence_probability")({"C": C, "q": q, "smoothing": "mle", "eos": True})["P"] == pytest.approx(1 / 36)


def test_bigram_golden_jurafsky_martin():
    # Jurafsky & Martin, Speech and Language Processing (3rd ed. draft), ch. 3, sec. 3.1: from the
    # corpus "<s> I am Sam </s> / <s> Sam I am </s> / <s> I do not like green eggs and ham </s>",
    # P(I|<s>) = 2/3, P(Sam|<s>) = 1/3, P(am|I) = 2/3, P(</s>|Sam) = 1/2, P(Sam|am) = 1/2, P(do|I) = 1/3.
    corpus = [s.split() for s in ("I am Sam", "Sam I am", "I do not like green eggs and ham")]
    _, _, factors = bigram_factors(corpus, "I am Sam".split())
    np.testing.assert_allclose(factors, [2 / 3, 2 / 3, 1 / 2, 1 / 2])  # <s> I, I am, am Sam, Sam </s>
    assert bigram_factors(corpus, ["Sam"])[2][0] == pytest.approx(1 / 3)
    assert bigram_factors(corpus, ["I", "do"])[2][1] == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------
# Beam search


def _torch_beam(first, table, width):
    """Two steps of beam search with torch.topk over the flattened (beam x token) scores."""
    scores, tokens = torch.topk(torch.log(first), width)
    candidates = scores[:, None] + torch.log(table[tokens])  # row b: beam b extended by each token
    return scores, tokens, candidates.reshape(-1), torch.topk(candidates.reshape(-1), width).values


def test_beam_search_matches_torch_topk():
    for _ in range(300):
        # continuous probabilities: no ties, so topk and the stable sort agree on the order
        p0 = rng.uniform(0.05, 0.45, 2)
        T = rng.uniform(0.05, 0.45, (3, 2))
        got = get("beam_search_width2")({"p0": p0, "T": T})
        first = torch.as_tensor(np.append(p0, 1 - p0.sum()))
        table = torch.as_tensor(np.hstack([T, 1 - T.sum(axis=1, keepdims=True)]))
        k1, y1, s2, k2 = _torch_beam(first, table, 2)
        np.testing.assert_allclose(got["s1"], torch.log(first).numpy(), rtol=1e-12)
        np.testing.assert_array_equal(got["y1"], y1.numpy() + 1)
        np.testing.assert_allclose(got["k1"], k1.numpy(), rtol=1e-12)
        np.testing.assert_allclose(got["s2"], s2.numpy(), rtol=1e-12)
        np.testing.assert_allclose(got["k2"], k2.numpy(), rtol=1e-12)


def test_beam_search_golden_hugging_face_example():
    # von Platen, "How to generate text" (Hugging Face blog, 2020), beam search with num_beams=2 on its
    # toy tree (branch probabilities as in the blog's figure): greedy decoding returns "The nice woman"
    # with 0.5 * 0.4 = 0.2, beam search finds "The dog has" with 0.4 * 0.9 = 0.36.
    tree = {
        (): {"nice": 0.5, "dog": 0.4, "car": 0.1},
        ("nice",): {"woman": 0.4, "house": 0.3, "guy": 0.3},
        ("dog",): {"and": 0.05, "runs": 0.05, "has": 0.9},
        ("car",): {"is": 0.3, "drives": 0.5, "turns": 0.2},
    }
    step = lambda prefix: {token: math.log(p) for token, p in tree[prefix].items()}
    (best, score), (second, score2) = beam_search(step, steps=2, width=2)[-1][1]
    assert best == ("dog", "has") and math.exp(score) == pytest.approx(0.36)
    assert second == ("nice", "woman") and math.exp(score2) == pytest.approx(0.2)
    ((greedy, greedy_score),) = beam_search(step, steps=2, width=1)[-1][1]
    assert greedy == ("nice", "woman") and math.exp(greedy_score) == pytest.approx(0.2)


# ---------------------------------------------------------------------------
# BLEU


def _numpy_clipped(candidate, references, n):
    """Independent modified precision: unique n-gram rows with np.unique, max over references, min with the candidate."""
    windows = lambda s: np.lib.stride_tricks.sliding_window_view(np.asarray(s, dtype=float), n)
    grams, counts = np.unique(windows(candidate), axis=0, return_counts=True)
    best = np.zeros(len(grams))
    for reference in references:
        ref = windows(reference)
        best = np.maximum(best, [(ref == g).all(axis=1).sum() for g in grams])
    return np.minimum(counts, best).sum(), counts.sum()


def test_bleu_matches_numpy():
    for _ in range(300):
        x, r1, r2 = (rng.integers(1, 5, int(rng.integers(3, 8))).astype(float) for _ in range(3))
        got = get("bleu_2")({"x": x, "r1": r1, "r2": r2, "n": len(x), "m1": len(r1), "m2": len(r2)})
        (m1, t1), (m2, t2) = (_numpy_clipped(x, [r1, r2], n) for n in (1, 2))
        lengths = np.array([len(r1), len(r2)])
        gaps = np.abs(lengths - len(x))
        r = lengths[gaps == gaps.min()].min()
        bp = 1.0 if len(x) > r else np.exp(1 - r / len(x))
        assert (got["match1"], got["match2"], got["r"]) == (m1, m2, r)
        assert got["bleu"] == pytest.approx(bp * np.sqrt(m1 / t1 * m2 / t2), rel=1e-12, abs=1e-15)


PAPINENI_REFERENCES = [
    "It is a guide to action that ensures that the military will forever heed Party commands".split(),
    "It is the guiding principle which guarantees the military forces always being under the command of the Party".split(),
    "It is the practical guide for the army always to heed the directions of the party".split(),
]


def test_bleu_golden_papineni():
    # Papineni et al. (2002), "BLEU", sec. 2.1 and 2.1.1: modified unigram precision 2/7 for
    # "the the the the the the the" (plain precision would be 7/7); for Example 1, Candidate 1 has
    # modified unigram precision 17/18 and bigram precision 10/17, Candidate 2 has 8/14 and 1/13.
    the_refs = ["the cat is on the mat".split(), "there is a cat on the mat".split()]
    assert clipped_matches(["the"] * 7, the_refs, 1) == (2, 7)
    candidate1 = "It is a guide to action which ensures that the military always obeys the commands of the party".split()
    candidate2 = "It is to insure the troops forever hearing the activity guidebook that party direct".split()
    assert clipped_matches(candidate1, PAPINENI_REFERENCES, 1) == (17, 18)
    assert clipped_matches(candidate1, PAPINENI_REFERENCES, 2) == (10, 17)
    assert clipped_matches(candidate2, PAPINENI_REFERENCES, 1) == (8, 14)
    assert clipped_matches(candidate2, PAPINENI_REFERENCES, 2) == (1, 13)


def test_brevity_penalty_golden():
    # Papineni et al. (2002), sec. 2.2.2: BP = 1 if c > r, else exp(1 - r/c); NLTK's documented
    # example (nltk.translate.bleu_score.brevity_penalty): r = 28, c = 12 gives 0.2635971381157267.
    got = sentence_bleu(["a"] * 12, [["a"] * 28, ["a"] * 28])
    assert got["BP"] == pytest.approx(0.2635971381157267, rel=1e-12)
    assert sentence_bleu(["a"] * 12, [["a"] * 12, ["a"] * 15, ["a"] * 17])["BP"] == 1.0


def test_ngram_counts_refuses_bad_arguments():
    for text in ("ngram_counts([1, 5], 1, 3)", "ngram_counts([1, 2], 2, 1e9)", "ngram_counts([1, 2], 0, 3)",
                 "ngram_counts([1, 2], 3, 3)", "ngram_counts([1.5, 2], 1, 3)", "ngram_counts([1, 2], 4, 3)"):
        with pytest.raises(expr.ExprError):
            functions.evaluate(parsing.parse(text))
    counts = functions.evaluate(parsing.parse("ngram_counts([1, 2, 1; 2, 2, 3], 2, 3)"))
    np.testing.assert_array_equal(counts, [[0, 1, 0], [1, 1, 1], [0, 0, 0]])  # rows are separate sentences


def test_bleu_tie_rule_and_words():
    # Candidate of 5 words, references of 4 and 6: equally close. NLTK's closest_ref_length and sacreBLEU
    # take the shorter (4); the template's other convention takes the longer (6).
    refs = [["a"] * 4, ["a"] * 6]
    assert closest_reference_length(refs, 5) == 4
    assert closest_reference_length(refs, 5, "longer") == 6
    # Sentences typed as words: Papineni et al. (2002) sec. 2.1.1's "the the the the the the the" against
    # "the cat is on the mat" / "there is a cat on the mat" has modified unigram precision 2/7.
    out = get("bleu_2")({"x": Sentence(tuple("the the the the the the the".split())),
                         "r1": Sentence(tuple("the cat is on the mat".split())),
                         "r2": Sentence(tuple("there is a cat on the mat".split()))})
    assert out["p1"] == pytest.approx(2 / 7)
