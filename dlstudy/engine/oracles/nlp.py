"""Oracles for NLP: word2vec, n-gram language models, BLEU, word analogies and byte-pair encoding (decoding
from a language model is ``oracles.decoding``).

Word2vec quantities come from torch: a real softmax over the dot products, the
negative-sampling loss as torch's logistic loss (label +1 for the observed pair,
-1 for each noise word), the 3/4-power noise distribution as a
``torch.distributions.Categorical``.  The counting oracles turn the sampled word
ids into token lists and count n-grams with ``collections.Counter``.  The helpers take any
hashable tokens, so the tests also run them on the published examples' words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Hashable, Iterable, Mapping, Sequence

import numpy as np

from dlstudy.engine.oracles import register

BOS, EOS = "<s>", "</s>"


def _ids(values: Any) -> list[int]:
    """A sampled vector of word ids as a token list."""
    return [int(round(float(v))) for v in np.asarray(values, dtype=float).reshape(-1)]


# ---------------------------------------------------------------------------
# word2vec


@register("skipgram_softmax")
def skipgram_softmax(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    U = torch.as_tensor(np.asarray(p["U"], dtype=float))  # output ("context") vectors, one row per word
    v = torch.as_tensor(np.asarray(p["v"], dtype=float))  # input vector of the center word
    scores = torch.mv(U, v)
    probs = torch.softmax(scores, dim=0)
    return {
        "s": scores.numpy(),
        "Z": float(torch.logsumexp(scores, dim=0).exp()),
        "p": float(probs[int(p["o"]) - 1]),
    }


@register("negative_sampling_loss")
def negative_sampling_loss(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    v = torch.as_tensor(np.asarray(p["v"], dtype=float))
    outputs = torch.vstack([torch.as_tensor(np.asarray(p["u"], dtype=float)), torch.as_tensor(np.asarray(p["N"], dtype=float))])
    logits = outputs @ v  # the observed context word first, then the k noise words
    # The logistic loss log(1 + exp(-y x)) with y = +1 for the observed pair and -1 for noise
    # is -log sigma(u_o.v_c) - sum_k log sigma(-u_k.v_c).  (Same value as binary cross-entropy
    # with logits, which the tests also check; its log-sigmoid kernel is slow on a busy CPU.)
    labels = -torch.ones_like(logits)
    labels[0] = 1.0
    loss = F.soft_margin_loss(logits, labels, reduction="sum")
    # the course notes' J_t is the objective to maximise, the negative of this loss
    value = -loss if str(p.get("sign", "loss")) == "objective" else loss
    return {"s_pos": float(logits[0]), "s_neg": logits[1:].numpy(), "J": float(value)}


@register("unigram_noise_distribution")
def unigram_noise_distribution(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    counts = torch.as_tensor(np.asarray(p["c"], dtype=float))
    weights = counts.pow(0.75)
    noise = torch.distributions.Categorical(probs=weights)  # normalizes the weights
    return {"w": weights.numpy(), "Z": float(weights.sum()), "P": noise.probs.numpy()}


# ---------------------------------------------------------------------------
# n-gram language model


def ngrams(tokens: Sequence[Hashable], n: int) -> list[tuple[Hashable, ...]]:
    return list(zip(*(tokens[i:] for i in range(n))))


def bigram_factors(
    corpus: Iterable[Sequence[Hashable]], sentence: Sequence[Hashable], k: float = 0.0, next_types: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each factor P(w | h) of ``<s> sentence </s>`` under a bigram model with add-k smoothing.

    Returns the bigram counts c(h w), the history counts c(h) and the factors
    (c(h w) + k) / (c(h) + k * next_types), counted on the padded corpus.
    """
    pairs: Counter = Counter()
    histories: Counter = Counter()
    for words in corpus:
        tokens = [BOS, *words, EOS]
        pairs.update(ngrams(tokens, 2))
        histories.update(tokens[:-1])  # every token but </s> is followed by one more
    wanted = ngrams([BOS, *sentence, EOS], 2)
    n_big = np.array([pairs[bigram] for bigram in wanted], dtype=float)
    n_hist = np.array([histories[h] for h, _ in wanted], dtype=float)
    with np.errstate(invalid="ignore"):  # an unseen history under MLE: 0/0, undefined
        return n_big, n_hist, (n_big + k) / (n_hist + k * next_types)


SMOOTHING_K = {"mle": 0.0, "laplace": 1.0}  # add-k takes the template's k


@register("bigram_sentence_probability")
def bigram_sentence_probability(p: Mapping[str, Any]) -> dict[str, Any]:
    """The bigram model counted on the padded corpus; without the end-of-sentence token the last factor
    P(</s> | q_T) is not part of the product (and </s> is not a possible next token for smoothing)."""
    corpus = [_ids(row) for row in np.atleast_2d(p["C"])]
    sentence = _ids(p["q"])
    eos = bool(p.get("eos", True))
    vocabulary = {token for words in (*corpus, sentence) for token in words}  # ids 1..V: every id a word
    vocabulary = set(range(1, max(vocabulary) + 1))
    next_types = len(vocabulary | ({EOS} if eos else set()))  # any word, or the end of the sentence
    smoothing = str(p["smoothing"])
    k = SMOOTHING_K.get(smoothing, float(p.get("k", 1.0)))
    n_big, n_hist, probs = bigram_factors(corpus, sentence, k, next_types)
    # The padded sentence <s> q_1 ... q_T </s> has T + 1 bigrams; the last one is the end factor.
    p_end = float(probs[-1]) if eos else 1.0
    return {"V": len(vocabulary), "n_big": n_big[:-1], "n_hist": n_hist[:-1], "probs": probs[:-1], "p_end": p_end,
            "P": float(np.prod(probs[:-1])) * p_end}


# ---------------------------------------------------------------------------
# BLEU (Papineni et al., 2002)


def clipped_matches(candidate: Sequence[Hashable], references: Sequence[Sequence[Hashable]], n: int) -> tuple[int, int]:
    """Modified n-gram precision as (clipped matches, candidate n-grams).

    Each candidate n-gram counts at most as often as it occurs in any single
    reference: Counter ``|`` takes the maximum over references, ``&`` the minimum.
    """
    counts = Counter(ngrams(candidate, n))
    max_ref: Counter = Counter()
    for reference in references:
        max_ref |= Counter(ngrams(reference, n))
    return sum((counts & max_ref).values()), sum(counts.values())


def closest_reference_length(references: Sequence[Sequence[Hashable]], length: int, tie: str = "shorter") -> int:
    """The reference length closest to the candidate's; the shorter one on a tie (NLTK, sacreBLEU), or the longer."""
    sign = 1 if tie == "shorter" else -1
    return min((len(reference) for reference in references), key=lambda r: (abs(r - length), sign * r))


def brevity_penalty(candidate_length: int, reference_length: int) -> float:
    if candidate_length > reference_length:
        return 1.0
    return math.exp(1.0 - reference_length / candidate_length)


def sentence_bleu(
    candidate: Sequence[Hashable], references: Sequence[Sequence[Hashable]], max_n: int = 2, tie: str = "shorter"
) -> dict[str, float]:
    """BLEU with uniform weights 1/max_n and no smoothing, plus every intermediate quantity."""
    out: dict[str, float] = {}
    log_precision = 0.0
    for n in range(1, max_n + 1):
        matches, total = clipped_matches(candidate, references, n)
        out[f"match{n}"] = float(matches)
        out[f"p{n}"] = matches / total
        log_precision += math.log(matches / total) / max_n if matches else -math.inf
    out["r"] = float(closest_reference_length(references, len(candidate), tie))
    out["BP"] = brevity_penalty(len(candidate), int(out["r"]))
    out["geo"] = math.exp(log_precision)  # the precisions' geometric mean
    out["bleu"] = out["BP"] * out["geo"]
    return out


def _words(value: Any) -> list[Hashable]:
    """A sentence parameter (words) as its tokens; a vector of word ids as ints."""
    return list(value.words) if hasattr(value, "words") else _ids(value)


def _references(value: Any) -> list[list[Hashable]]:
    """Several sentences (a Sentence with | separators) as token lists; word-id rows padded with 0 likewise."""
    if hasattr(value, "sentences"):
        return [list(sentence) for sentence in value.sentences]
    return [[token for token in _ids(row) if token] for row in np.atleast_2d(value)]


@register("bleu")
def bleu(p: Mapping[str, Any]) -> dict[str, Any]:
    """Sentence BLEU-N (Papineni et al. 2002): clipped n-gram counts with collections.Counter for n = 1..N,
    uniform weights 1/N, the brevity penalty against the closest reference length (tie rule as given)."""
    candidate, references = _words(p["x"]), _references(p["R"])
    max_n = int(p.get("N", 4))
    scores = sentence_bleu(candidate, references, max_n=max_n, tie=str(p.get("tie", "shorter")))
    orders = range(1, max_n + 1)
    precisions = np.array([scores[f"p{n}"] for n in orders])
    return {
        "match": np.array([scores[f"match{n}"] for n in orders]),
        "total": np.array([float(clipped_matches(candidate, references, n)[1]) for n in orders]),
        "p": precisions,
        "lens": np.array([float(len(reference)) for reference in references]),
        "r": scores["r"],
        "BP": scores["BP"],
        "geo": scores["geo"],
        "bleu": scores["bleu"],
    }


@register("bleu_2")
def bleu_2(p: Mapping[str, Any]) -> dict[str, Any]:
    """BLEU-2 with two references r1, r2 (the oracle of the first BLEU template; kept for templates that name it)."""
    return sentence_bleu(_words(p["x"]), [_words(p["r1"]), _words(p["r2"])], max_n=2, tie=str(p.get("tie", "shorter")))


# ---------------------------------------------------------------------------
# Word vectors: cosine similarity and analogies


@register("word_analogy")
def word_analogy(p: Mapping[str, Any]) -> dict[str, Any]:
    """3CosAdd (Mikolov et al. 2013): t = e_a - e_b + e_c, the cosine of t with every row of E by
    torch.nn.functional.cosine_similarity, and the best word other than a, b, c (as gensim's most_similar
    excludes the query words)."""
    import torch
    import torch.nn.functional as F

    E = torch.as_tensor(np.asarray(p["E"], dtype=float))
    ids = {word: i for i, word in enumerate(p["W"].words)}
    a, b, c = (ids[word] for word in p["q"].words)
    target = E[a] - E[b] + E[c]
    cos = F.cosine_similarity(E, target[None, :], dim=1, eps=0.0)
    candidates = cos.clone()
    candidates[[a, b, c]] = -torch.inf
    best = int(torch.argmax(candidates))
    return {"t": target.numpy(), "cos": cos.numpy(), "best": best + 1, "sim": float(cos[best])}


# ---------------------------------------------------------------------------
# Byte-pair encoding (Sennrich et al. 2016)


def bpe_learn(vocab: dict[str, int], merges: int) -> list[tuple[tuple[str, str], int, int, dict[str, int]]]:
    """Algorithm 1 of Sennrich et al. (2016): count the adjacent symbol pairs of the space-separated words
    (weighted by frequency), merge the most frequent one everywhere (a regex on whole symbols), repeat.
    Per merge: the pair, its count, the runner-up's count and the vocabulary after it."""
    import re
    from collections import defaultdict

    history = []
    for _ in range(merges):
        pairs: dict[tuple[str, str], int] = defaultdict(int)
        for word, freq in vocab.items():
            symbols = word.split()
            for i in range(len(symbols) - 1):
                pairs[symbols[i], symbols[i + 1]] += freq
        if not pairs:
            break
        best = max(pairs, key=pairs.get)
        runner_up = max((n for pair, n in pairs.items() if pair != best), default=0)
        pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(best)) + r"(?!\S)")
        vocab = {pattern.sub("".join(best), word): freq for word, freq in vocab.items()}
        history.append((best, pairs[best], runner_up, dict(vocab)))
    return history


@register("bpe_merges")
def bpe_merges(p: Mapping[str, Any]) -> dict[str, Any]:
    """BPE merges on the corpus words (each spelled as symbols; counts c). Symbols are numbered in order of first
    appearance and merge t creates symbol V0 + t; Sennrich's algorithm runs on the words written with those
    numbers (s1 s2 ...), renamed after each merge, so that a merged symbol is new even if its letters spell an
    older one."""
    words = [list(sentence) for sentence in p["R"].sentences]
    ids: dict[str, int] = {}
    for word in words:
        for symbol in word:
            ids.setdefault(symbol, len(ids) + 1)
    width, first = max(len(word) for word in words), len(ids)
    spelled = [" ".join(f"s{ids[symbol]}" for symbol in word) for word in words]
    vocab: dict[str, int] = {}
    for word, count in zip(spelled, np.atleast_1d(p["c"])):
        vocab[word] = vocab.get(word, 0) + int(round(float(count)))  # a word listed twice counts twice
    current = {word: word for word in spelled}  # each original spelling as it reads now
    pairs, states = [], []
    for t in range(1, int(p["k"]) + 1):
        history = bpe_learn({current[w]: n for w, n in vocab.items()}, 1)
        if not history:
            break
        (best, count, runner_up, _) = history[0]
        pairs.append([float(best[0][1:]), float(best[1][1:]), float(count), float(runner_up)])
        pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(best)) + r"(?!\S)")
        current = {w: pattern.sub(f"s{first + t}", form) for w, form in current.items()}
        state: list[float] = []
        for word in spelled:
            symbols = [float(symbol[1:]) for symbol in current[word].split()]
            state += symbols + [0.0] * (width - len(symbols))
        states.append(state)
    final = np.array(states[-1]).reshape(len(words), width)
    return {"V0": first, "P": np.array(pairs), "S": np.array(states), "counts": np.array(pairs)[:, 2],
            "final": final, "lengths": np.count_nonzero(final, axis=1).astype(float)}
