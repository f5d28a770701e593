"""Whitelisted functions on token sequences (the rnn, nlp and attention templates): CTC's collapsing and
extended labels, n-gram counts and BLEU's matches, BPE merges, beam search's top k, a probability vector's
last entry, the causal mask.  Words and symbols are 1-based ids; 0 pads a row after its end.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.fn_checks import check_elements


def _merge_repeats(x: Any) -> np.ndarray:
    flat = np.asarray(x, dtype=float).reshape(-1)
    keep = np.ones(flat.size, dtype=bool)
    keep[1:] = flat[1:] != flat[:-1]
    return flat[keep]


def _shift(v: Any, k: Any) -> np.ndarray:
    flat = np.asarray(v, dtype=float).reshape(-1)
    if not float(k).is_integer() or k < 0:
        raise ValueError(f"shift by a whole number >= 0, not {k:g}")
    k = min(int(k), flat.size)
    return np.concatenate([np.zeros(k), flat[: flat.size - k]])


def _bpe_words(s: Any, L: Any) -> list[list[float]]:
    flat = np.asarray(s, dtype=float).reshape(-1)
    if not float(L).is_integer() or L < 1 or flat.size % int(L):
        raise ValueError(f"a vector of {flat.size} entries is not rows of {L:g}")
    return [[v for v in row if v != 0] for row in flat.reshape(-1, int(L))]


def _bpe_pair(s: Any, c: Any, L: Any) -> np.ndarray:
    counts: dict[tuple[float, float], float] = {}  # insertion order: the pair seen first wins a tie
    for word, weight in zip(_bpe_words(s, L), np.atleast_1d(np.asarray(c, dtype=float))):
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0.0) + float(weight)
    if not counts:
        raise ValueError("no adjacent pair is left to merge")
    best = max(counts, key=lambda pair: counts[pair])
    others = [n for pair, n in counts.items() if pair != best]
    return np.array([best[0], best[1], counts[best], max(others, default=0.0)])


def _bpe_merge(s: Any, a: Any, b: Any, new: Any, L: Any) -> np.ndarray:
    rows = []
    for word in _bpe_words(s, L):
        merged: list[float] = []
        i = 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                merged.append(float(new))
                i += 2
            else:
                merged.append(word[i])
                i += 1
        rows.append(merged + [0.0] * (int(L) - len(merged)))
    return np.array(rows).reshape(-1)


def _top_positions(v: Any, k: Any) -> np.ndarray:
    flat = np.asarray(v, dtype=float).reshape(-1)
    if not float(k).is_integer() or k < 1:
        raise ValueError(f"k must be a whole number >= 1, not {k:g}")
    return np.argsort(-flat, kind="stable")[: int(k)]


def _ngram_matches(x: Any, R: Any, N: Any, clipped: bool) -> np.ndarray:
    """BLEU's modified n-gram precision numerators for n = 1..N (Papineni et al. 2002, sec. 2.1): the distinct
    n-grams of x, their counts in x and in each reference."""
    x = np.asarray(x, dtype=float).reshape(-1)
    R = np.atleast_2d(np.asarray(R, dtype=float))
    if not (float(N).is_integer() and 1 <= N <= 9) or R.ndim != 2 or not np.all(x % 1 == 0) or not np.all(R % 1 == 0):
        raise ValueError("ngram_matches(x, R, N) takes word ids x, a matrix R of them (0 = padding) and N = 1..9")
    check_elements(x.size * R.size * int(N))
    words = x.tolist()
    references = [row[: np.count_nonzero(row)].tolist() for row in R]
    matches = []
    for n in range(1, int(N) + 1):
        in_x = _ngrams(words, n)
        most: Counter[tuple[float, ...]] = Counter()  # the most times each n-gram occurs in one reference
        for reference in references:
            for gram, count in _ngrams(reference, n).items():
                most[gram] = max(most[gram], count)
        if clipped:
            matches.append(float(sum(min(count, most[gram]) for gram, count in in_x.items())))
        else:
            matches.append(float(sum(count for gram, count in in_x.items() if most[gram] > 0)))
    return np.array(matches)


def _ngrams(words: list[float], n: int) -> Counter[tuple[float, ...]]:
    """How often each n-gram occurs in a sentence (none when it is shorter than n): sentences are a few words
    long, where Python's tuples and counts cost a fraction of np.unique over sliding windows."""
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


SEQUENCE_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # CTC (Graves et al. 2006): merge_repeats(x) keeps the first of each run of equal entries; drop(x, v) removes
    # every entry equal to v; ctc_extend(l, b) puts the blank b around every label (2U + 1 entries);
    # shift(v, k) moves v k places to the right, zeros coming in (the alpha recursion's alpha_{t-1}(s - k))
    "merge_repeats": (lambda x: _merge_repeats(x), 1, 1),
    "drop": (lambda x, v: np.asarray(x, dtype=float).reshape(-1)[np.asarray(x, dtype=float).reshape(-1) != v], 2, 2),
    "ctc_extend": (lambda l, b: np.insert(np.atleast_1d(np.asarray(l, dtype=float)), np.arange(np.size(l) + 1), float(b)), 2, 2),
    "shift": (lambda v, k: _shift(v, k), 2, 2),
    # ngram_counts(x, n, V): table of n-gram counts (n = 1..4) of word ids 1..V (V^n <= 10^6) in the
    # sentence x, or in each row of a matrix x separately; entry [a, b] counts the bigram "a b".
    # (With onehot(x, V), the one-hot rows of word ids x, onehot(q, V) @ counts picks each word's count
    # and onehot(a, V) @ B @ onehot(b, V)' the bigram counts.)
    "ngram_counts": (
        lambda x, n, V: np.bincount(
            ((np.lib.stride_tricks.sliding_window_view(np.atleast_2d(x), int(n), axis=-1).reshape(-1, int(n)) - 1)
             @ (int(V) ** np.arange(int(n) - 1, -1, -1))).astype(int),
            minlength=int(V) ** int(n)
            if n in (1, 2, 3, 4) and 1 <= V and V ** n <= 10**6 and np.all((np.asarray(x) >= 1) & (np.asarray(x) <= V) & (np.asarray(x) % 1 == 0))
            else -1,  # bad arguments: a ValueError, reported as an expression error
        ).astype(float).reshape((int(V),) * int(n)),
        3,
        3,
    ),
    # ngram_matches(x, R, N): BLEU's clipped n-gram matches of the sentence x (word ids) against the rows of R
    # (one reference per row, 0 after its end), for n = 1..N: the sum over x's n-grams g of
    # min(count of g in x, the most times g occurs in one row of R); ngram_matches(x, R, N, 0) does not clip
    # (each n-gram of x found in some row counts every time it occurs in x).
    "ngram_matches": (lambda x, R, N, clipped=1: _ngram_matches(x, R, N, bool(clipped)), 3, 4),
    # lengths(R): the number of words in each row of R (the entries before its 0 padding)
    "lengths": (lambda R: np.count_nonzero(np.atleast_2d(R), axis=-1).astype(float), 1, 1),
    # with_rest(P): a probability vector given without its last entry, completed with 1 - sum (a matrix: each row)
    "with_rest": (lambda P: np.concatenate([np.asarray(P, dtype=float), 1.0 - np.sum(P, axis=-1, keepdims=True)], axis=-1), 1, 1),
    # topk(v, k) / argtopk(v, k): the k largest entries of v, largest first, and their 1-based positions (a matrix
    # is read row by row: position (i - 1)·cols + j); equal entries keep their order, as a stable sort (all of v if
    # it has fewer than k entries)
    "topk": (lambda v, k: np.asarray(v, dtype=float).reshape(-1)[_top_positions(v, k)], 2, 2),
    "argtopk": (lambda v, k: _top_positions(v, k) + 1.0, 2, 2),
    # BPE (Sennrich et al. 2016) on words spelled as symbol ids, one word per row of width L flattened into one
    # vector (0 after a word's end): bpe_pair(s, c, L) is [a, b, count, runner-up count] of the most frequent
    # adjacent pair, each word counted c times (ties: the pair seen first, word by word, left to right);
    # bpe_merge(s, a, b, new, L) replaces each a b by the symbol new, left to right
    "bpe_pair": (lambda s, c, L: _bpe_pair(s, c, L), 3, 3),
    "bpe_merge": (lambda s, a, b, new, L: _bpe_merge(s, a, b, new, L), 5, 5),
    # causal_mask(n): the n x n matrix with 1 above the diagonal (key k after query t), 0 elsewhere
    "causal_mask": (lambda n: np.triu(np.ones((int(n), int(n))), 1) if 1 <= n <= 4096 else np.ones(-1), 1, 1),
}
