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
from dlstudy.engine.oracles.decoding import beam_search
from dlstudy.engine.oracles.nlp import bigram_factors, clipped_matches, closest_reference_length, sentence_bleu

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


def _torch_beam(first, table, width, steps):
    """Beam search with torch.topk over the flattened (beam x token) scores; returns each step's candidate
    matrix, kept scores and kept last tokens (1-based)."""
    scores, tokens = torch.topk(torch.log(first), min(width, len(first)))
    history = [(torch.log(first), scores, tokens + 1)]
    for _ in range(steps - 1):
        candidates = scores[:, None] + torch.log(table[tokens])  # row b: beam b extended by each token
        scores, positions = torch.topk(candidates.reshape(-1), min(width, candidates.numel()))
        tokens = positions % table.shape[1]
        history.append((candidates, scores, tokens + 1))
    return history


def test_beam_search_matches_torch_topk_any_width_and_vocabulary():
    for _ in range(300):
        V, B, steps = int(rng.integers(2, 6)), int(rng.integers(1, 5)), int(rng.integers(2, 4))
        # continuous probabilities: no ties, so topk and the stable sort agree on the order
        full = rng.dirichlet(np.ones(V), size=V + 1)
        p0, T = full[0, :-1], full[1:, :-1]
        got = get("beam_search_width2" if steps == 2 else "beam_search_3")({"p0": p0, "T": T, "B": B})
        history = _torch_beam(torch.as_tensor(full[0]), torch.as_tensor(full[1:]), B, steps)
        for t, (candidates, kept, last) in enumerate(history, 1):
            np.testing.assert_allclose(got[f"s{t}"], candidates.numpy(), rtol=1e-12)
            np.testing.assert_allclose(got[f"k{t}"], kept.numpy(), rtol=1e-12)
            if t < steps:
                np.testing.assert_array_equal(got[f"y{t}"], last.numpy())


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


# ---------------------------------------------------------------------------
# BLEU-N with any number of references


def test_bleu_n_matches_numpy_for_any_order_and_number_of_references():
    from dlstudy.engine.model import Sentence

    for _ in range(300):
        N, K = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        x = [str(w) for w in rng.integers(1, 4, int(rng.integers(N, 9)))]
        refs = [[str(w) for w in rng.integers(1, 5, int(rng.integers(1, 9)))] for _ in range(K)]
        tie = ("shorter", "longer")[int(rng.integers(2))]
        got = get("bleu")({"x": Sentence(tuple(x)), "R": Sentence.joined(refs), "N": N, "tie": tie})
        ids = lambda s: [float(w) for w in s]
        counts = [_numpy_clipped(ids(x), [ids(r) for r in refs if len(r) >= n] or [[-1.0] * n], n) for n in range(1, N + 1)]
        lengths = np.array([len(r) for r in refs])
        gaps = np.abs(lengths - len(x))
        closest = lengths[gaps == gaps.min()]
        r = closest.min() if tie == "shorter" else closest.max()
        bp = 1.0 if len(x) > r else np.exp(1 - r / len(x))
        precisions = np.array([m / t for m, t in counts])
        np.testing.assert_array_equal(got["match"], [m for m, _ in counts])
        np.testing.assert_array_equal(got["total"], [t for _, t in counts])
        assert got["r"] == r and got["lens"].tolist() == lengths.tolist()
        assert got["bleu"] == pytest.approx(bp * np.prod(precisions) ** (1 / N), rel=1e-12, abs=1e-15)


def test_ngram_matches_function_matches_counter():
    """The formula language's ngram_matches (NumPy, rows padded with 0) against collections.Counter clipping."""
    for _ in range(300):
        N = int(rng.integers(1, 5))
        x = rng.integers(1, 4, int(rng.integers(1, 9))).astype(float)
        refs = [rng.integers(1, 5, int(rng.integers(1, 9))).astype(float) for _ in range(int(rng.integers(1, 5)))]
        width = max(len(r) for r in refs)
        R = np.array([np.pad(r, (0, width - len(r))) for r in refs])
        got = functions.FUNCTIONS["ngram_matches"][0](x, R, N)
        unclipped = functions.FUNCTIONS["ngram_matches"][0](x, R, N, 0)
        for n in range(1, N + 1):
            assert got[n - 1] == clipped_matches(list(x), [list(r) for r in refs], n)[0]
            grams = [tuple(x[i:i + n]) for i in range(len(x) - n + 1)]
            in_refs = {tuple(r[i:i + n]) for r in refs for i in range(len(r) - n + 1)}
            assert unclipped[n - 1] == sum(g in in_refs for g in grams)
        np.testing.assert_array_equal(functions.FUNCTIONS["lengths"][0](R), [len(r) for r in refs])


NLTK_HYPOTHESIS_1 = "It is a guide to action which ensures that the military always obeys the commands of the party".split()
NLTK_REFERENCES = [
    "It is a guide to action that ensures that the military will forever heed Party commands".split(),
    "It is the guiding principle which guarantees the military forces always being under the command of the Party".split(),
    "It is the practical guide for the army always to heed the directions of the party".split(),
]


def test_bleu_4_golden_nltk_papineni_example():
    # NLTK's documented example (nltk.translate.bleu_score.sentence_bleu docstring), Papineni et al. (2002)
    # Example 1, Candidate 1 against its three references with the default BLEU-4 weights: 0.5045...;
    # the full value 0.5045666840058485 as NLTK prints it. Modified precisions 17/18 and 10/17 (Papineni sec. 2.1).
    from dlstudy.engine.model import Sentence

    got = get("bleu")({"x": Sentence(tuple(NLTK_HYPOTHESIS_1)), "R": Sentence.joined(NLTK_REFERENCES)})
    assert got["bleu"] == pytest.approx(0.5045666840058485, rel=1e-12)
    assert got["p"][:2] == pytest.approx([17 / 18, 10 / 17]) and got["BP"] == 1.0


def test_bleu_template_reads_references_one_per_alias_or_separated():
    # r1= and r2= (the first BLEU template's parameters) are collected into R in the order of the aliases;
    # m1, m2 (their lengths) are still accepted and checked.
    from dlstudy.engine.params import coerce_params
    from dlstudy.engine.templates import get_template
    from dlstudy.errors import DlstudyError

    template = get_template("bleu-score")
    one = coerce_params(template, {"x": "the cat sat", "r2": "a cat sat", "r1": "the cat sat on the mat", "N": "2"})
    two = coerce_params(template, {"x": "the cat sat", "R": "the cat sat on the mat | a cat sat", "N": "2", "m1": "6", "m2": "3"})
    assert one["R"] == two["R"] and (one["K"], one["L"], one["n"]) == (2, 6, 3)
    with pytest.raises(DlstudyError, match="length of reference 2"):
        coerce_params(template, {"x": "the cat sat", "R": "the cat sat on the mat | a cat sat", "N": "2", "m2": "4"})
    with pytest.raises(DlstudyError, match="separated by"):
        coerce_params(template, {"x": "the cat sat", "R": "the cat | | a cat"})
    with pytest.raises(DlstudyError, match="one sentence"):
        coerce_params(template, {"x": "the cat | sat", "R": "a cat"})


# ---------------------------------------------------------------------------
# Word vectors: cosine and analogies


def _sentence(text):
    from dlstudy.engine.model import Sentence

    return Sentence(tuple(text.split()))


def test_word_analogy_matches_numpy_3cosadd():
    for _ in range(200):
        V, d = int(rng.integers(4, 8)), int(rng.integers(1, 5))
        E = rng.integers(-3, 4, (V, d)).astype(float)
        if np.any(np.all(E == 0, axis=1)):
            continue
        words = [f"w{i}" for i in range(V)]
        a, b, c = rng.choice(V, 3, replace=False)
        target = E[a] - E[b] + E[c]
        if not target.any():
            continue
        got = get("word_analogy")({"W": _sentence(" ".join(words)), "E": E, "q": _sentence(f"w{a} w{b} w{c}")})
        cos = np.array([row @ target / math.sqrt(row @ row) / math.sqrt(target @ target) for row in E])
        best = max((w for w in range(V) if w not in (a, b, c)), key=lambda w: cos[w])  # first of equals, as argmax
        np.testing.assert_allclose(got["cos"], cos, atol=1e-12)
        assert got["best"] == best + 1 and got["sim"] == pytest.approx(cos[best])


def test_cosine_golden_jurafsky_martin():
    # Jurafsky & Martin, Speech and Language Processing (3rd ed. draft), ch. 6, sec. 6.4: co-occurrence counts
    # with pie, data, computer: cherry (442, 8, 2), digital (5, 1683, 1670), information (5, 3982, 3325);
    # cos(cherry, information) = .018 and cos(digital, information) = .996. With a = information and b, c two
    # copies of digital's row, t = e_a - e_b + e_c = e_information, so the oracle's cosines are those of the book.
    E = np.array([[442, 8, 2], [5, 1683, 1670], [5, 3982, 3325], [5, 1683, 1670]], dtype=float)
    got = get("word_analogy")({"W": _sentence("cherry digital information digital2"), "E": E,
                               "q": _sentence("information digital digital2")})
    assert round(float(got["cos"][0]), 3) == 0.018 and round(float(got["cos"][1]), 3) == 0.996
    assert got["best"] == 1  # cherry: the only word left


def test_analogy_excludes_the_query_words():
    # Mikolov et al. (2013) and gensim's most_similar leave a, b, c out: here e_c itself is the nearest to t.
    E = np.array([[3.0, 1.0], [1.0, 0.0], [1.0, 1.0], [3.0, 2.0], [0.0, 5.0]])  # king, man, woman, queen, apple
    got = get("word_analogy")({"W": _sentence("king man woman queen apple"), "E": E, "q": _sentence("king man woman")})
    assert got["t"].tolist() == [3.0, 2.0] and got["best"] == 4  # queen


# ---------------------------------------------------------------------------
# Length normalisation


def test_beam_length_normalization_matches_torch():
    for _ in range(200):
        K = int(rng.integers(1, 6))
        T = rng.integers(1, 20, K).astype(float)
        logp = -rng.uniform(0.1, 20, K)
        alpha = float(rng.uniform(0, 2))
        for kind in ("power", "gnmt"):
            got = get("beam_length_normalization")({"T": T, "logp": logp, "alpha": alpha, "penalty": kind})
            t = torch.as_tensor(T)
            lp = torch.pow((5 + t) / 6, alpha) if kind == "gnmt" else torch.pow(t, alpha)
            scores = torch.as_tensor(logp) / lp
            np.testing.assert_allclose(got["s"], scores.numpy(), rtol=1e-12)
            assert got["best"] == int(torch.argmax(scores)) + 1


def test_length_penalty_golden_definitions():
    from dlstudy.engine.oracles.decoding import length_penalty

    # Wu et al. (2016), GNMT, eq. 14: lp(Y) = (5 + |Y|)^alpha / (5 + 1)^alpha: 1 for a one-token output,
    # and alpha = 0 turns length normalisation off (their Table 2 baseline); (5 + 7)/6 = 2 at alpha = 1.
    assert length_penalty(1, 0.6, "gnmt") == 1.0 and length_penalty(9, 0.0, "gnmt") == 1.0
    assert length_penalty(7, 1.0, "gnmt") == 2.0
    # Ng's course (notes 001 L461) and D2L sec. 10.8 (eq. 10.8.4): (1 / T^alpha) log P; alpha = 1 is the average
    # log-probability per token: -6 over 3 tokens scores -2, and beats -3 over 1 token.
    got = get("beam_length_normalization")({"T": np.array([1.0, 3.0]), "logp": np.array([-3.0, -6.0]), "alpha": 1.0})
    assert got["s"].tolist() == [-3.0, -2.0] and got["best"] == 2


# ---------------------------------------------------------------------------
# Sampling: temperature, top-k, top-p


def _numpy_sampler(z, tau, method, k, p):
    """Written from the definitions: softmax(z / tau); top-k keeps the k largest; top-p keeps the smallest set of
    most likely tokens whose mass reaches p (Holtzman et al. 2020, eq. 2-3); then renormalise."""
    q = np.exp(z / tau - np.max(z / tau))
    q /= q.sum()
    order = np.argsort(-q, kind="stable")
    keep = np.zeros(len(q), dtype=bool)
    if method == "top_k":
        keep[order[:k]] = True
    elif method == "top_p":
        mass = 0.0
        for i in order:
            keep[i] = True
            mass += q[i]
            if mass >= p:
                break
    else:
        keep[:] = True
    return q, keep, np.where(keep, q, 0) / q[keep].sum()


def test_sampling_distribution_matches_numpy_definitions():
    for _ in range(300):
        V = int(rng.integers(2, 7))
        z = rng.normal(size=V) * 2
        tau, k, p = float(rng.uniform(0.3, 3)), int(rng.integers(1, V + 1)), float(rng.uniform(0.05, 0.99))
        for method in ("temperature", "top_k", "top_p"):
            got = get("sampling_distribution")({"z": z, "tau": tau, "method": method, "k": k, "p": p})
            q, keep, r = _numpy_sampler(z, tau, method, k, p)
            np.testing.assert_allclose(got["q"], q, atol=1e-12)
            np.testing.assert_array_equal(got["keep"].astype(bool), keep)
            np.testing.assert_allclose(got["r"], r, atol=1e-12)


def test_sampling_golden_definitions():
    # Holtzman et al. (2020), sec. 3.1: the nucleus V(p) is the smallest set with sum of P(x) >= p, rescaled by its
    # mass. For P = (0.5, 0.3, 0.1, 0.1) (logits log P) and p = 0.75: V(p) = {x1, x2}, P' = (0.625, 0.375, 0, 0).
    got = get("sampling_distribution")({"z": np.log([0.5, 0.3, 0.1, 0.1]), "method": "top_p", "p": 0.75})
    np.testing.assert_allclose(got["r"], [0.625, 0.375, 0, 0], atol=1e-12)
    # Fan et al. (2018) top-k: k = 1 is greedy decoding; a temperature of 1 leaves the softmax as it is.
    got = get("sampling_distribution")({"z": np.array([0.1, 2.0, -1.0]), "method": "top_k", "k": 1})
    assert got["r"].tolist() == [0.0, 1.0, 0.0]


# ---------------------------------------------------------------------------
# Byte-pair encoding


def test_bpe_golden_sennrich_algorithm_1():
    # Sennrich, Haddow & Birch (2016), Algorithm 1, its dictionary {'l o w </w>': 5, 'l o w e r </w>': 2,
    # 'n e w e s t </w>': 6, 'w i d e s t </w>': 3} and 10 merges; run as printed (Python >= 3.7 dictionaries keep
    # insertion order, so a tie goes to the pair seen first), it learns the merges below, the first three of count 9.
    from dlstudy.engine.oracles.nlp import bpe_learn

    vocab = {"l o w </w>": 5, "l o w e r </w>": 2, "n e w e s t </w>": 6, "w i d e s t </w>": 3}
    learned = bpe_learn(vocab, 10)
    assert [pair for pair, *_ in learned] == [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"),
                                             ("n", "e"), ("ne", "w"), ("new", "est</w>"), ("low", "</w>"), ("w", "i")]
    assert [count for _, count, *_ in learned] == [9, 9, 9, 7, 7, 6, 6, 6, 5, 3]


def test_bpe_golden_hugging_face_course():
    # Hugging Face NLP course, chapter 6, "Byte-Pair Encoding tokenization": corpus ("hug", 10), ("pug", 5),
    # ("pun", 12), ("bun", 4), ("hugs", 5); the merges ("u", "g") -> "ug" (20 times), ("u", "n") -> "un" (16),
    # ("h", "ug") -> "hug" (15); the corpus is then "hug", "p" "ug", "p" "un", "b" "un", "hug" "s".
    from dlstudy.engine.model import Sentence

    got = get("bpe_merges")({"R": Sentence.joined([list("hug"), list("pug"), list("pun"), list("bun"), list("hugs")]),
                             "c": np.array([10.0, 5, 12, 4, 5]), "k": 3})
    assert got["counts"].tolist() == [20, 16, 15] and got["lengths"].tolist() == [1, 2, 2, 2, 2]
    # symbols h=1 u=2 g=3 p=4 n=5 b=6 s=7; ug = 8, un = 9, hug = 10
    assert got["P"][:, :2].tolist() == [[2, 3], [2, 5], [1, 8]]


def test_bpe_formula_functions_match_the_oracle():
    from dlstudy.engine.model import Sentence
    from dlstudy.mathtext.functions import FUNCTIONS

    pair, merge = FUNCTIONS["bpe_pair"][0], FUNCTIONS["bpe_merge"][0]
    for _ in range(100):
        words = [list(rng.choice(list("abcd"), int(rng.integers(2, 6)))) for _ in range(int(rng.integers(1, 5)))]
        counts = rng.integers(1, 7, len(words)).astype(float)
        k = int(rng.integers(1, 4))
        if k > sum(len(w) - 1 for w in words):
            continue
        got = get("bpe_merges")({"R": Sentence.joined(words), "c": counts, "k": k})
        ids = {s: i + 1 for i, s in enumerate(dict.fromkeys(s for w in words for s in w))}
        width = max(len(w) for w in words)
        state = np.array([[ids[s] for s in w] + [0] * (width - len(w)) for w in words], dtype=float).reshape(-1)
        for t in range(len(got["counts"])):
            row = pair(state, counts, width)
            np.testing.assert_array_equal(row, got["P"][t])
            state = merge(state, row[0], row[1], len(ids) + t + 1, width)
            np.testing.assert_array_equal(state, got["S"][t])


def test_top_p_keeps_or_cuts_equal_probabilities_together():
    # (0.4, 0.2, 0.2, 0.2) with p = 0.5: the nucleus reaches 0.5 inside the three equal tokens; none of them is
    # more likely than another, so all three stay (as top-k keeps ties at its boundary).
    got = get("sampling_distribution")({"z": np.log([0.4, 0.2, 0.2, 0.2]), "method": "top_p", "p": 0.5})
    assert got["keep"].tolist() == [1, 1, 1, 1]
    got = get("sampling_distribution")({"z": np.log([0.4, 0.2, 0.2, 0.2]), "method": "top_p", "p": 0.35})
    assert got["keep"].tolist() == [1, 0, 0, 0]
