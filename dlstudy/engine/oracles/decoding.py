"""Oracles for decoding from a language model: beam search (width 2 and 3 steps), ranking finished hypotheses by
length-normalised scores, and sampling with temperature, top-k and top-p.

Beam search is run step by step on the sampled probability table; the tests
also run it on published examples' words.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, Mapping

import numpy as np

from dlstudy.engine.oracles import register
from dlstudy.engine.oracles.tensors import single_thread


# ---------------------------------------------------------------------------
# Beam search


Beam = list[tuple[tuple[Hashable, ...], float]]


def beam_search(
    next_logprobs: Callable[[tuple[Hashable, ...]], Mapping[Hashable, float]], steps: int, width: int
) -> list[tuple[Beam, Beam]]:
    """Beam search; per step, the scored candidates (in expansion order) and the beam kept.

    Candidates are the kept sequences (best first) each extended by every next
    token; a sequence's score is its total log-probability.  The sort is
    stable, so on a tie the candidate expanded first stays.
    """
    beam: Beam = [((), 0.0)]
    history = []
    for _ in range(steps):
        candidates = [
            (sequence + (token,), score + logprob)
            for sequence, score in beam
            for token, logprob in next_logprobs(sequence).items()
        ]
        beam = sorted(candidates, key=lambda item: -item[1])[:width]
        history.append((candidates, beam))
    return history


def _with_rest(probabilities: Any) -> np.ndarray:
    """Probabilities given without the last token's, which takes the rest (each row of a table)."""
    given = np.atleast_2d(np.asarray(probabilities, dtype=float))
    return np.hstack([given, 1.0 - given.sum(axis=1, keepdims=True)])


def _beam_search_on_table(p: Mapping[str, Any], steps: int) -> dict[str, Any]:
    """Beam search of width B over tokens 1..V: p0 gives P(y_1), row t of T gives P(y | previous token t), the last
    token taking the rest in each.  Per step t: the scores of all candidates (a matrix, one row per kept sequence,
    one column per next token), the kept scores k_t and (but for the last step) the kept sequences' last tokens y_t."""
    first = np.log(_with_rest(p["p0"])[0])
    table = np.log(_with_rest(p["T"]))
    tokens = range(1, len(first) + 1)
    width = int(p.get("B", 2))

    def next_logprobs(sequence: tuple[Hashable, ...]) -> dict[Hashable, float]:
        return dict(zip(tokens, first if not sequence else table[int(sequence[-1]) - 1]))

    out: dict[str, Any] = {}
    for t, (candidates, beam) in enumerate(beam_search(next_logprobs, steps=steps, width=width), 1):
        scores = np.array([score for _, score in candidates])
        out[f"s{t}"] = scores if t == 1 else scores.reshape(-1, len(first))
        out[f"k{t}"] = np.array([score for _, score in beam])
        if t < steps:
            out[f"y{t}"] = np.array([float(sequence[-1]) for sequence, _ in beam])
    return out


@register("beam_search_width2")
def beam_search_width2(p: Mapping[str, Any]) -> dict[str, Any]:
    """Two steps of beam search of any width B over any number of tokens (the id dates from width 2)."""
    return _beam_search_on_table(p, steps=2)


@register("beam_search_3")
def beam_search_3(p: Mapping[str, Any]) -> dict[str, Any]:
    """Three steps of beam search of any width B over any number of tokens."""
    return _beam_search_on_table(p, steps=3)


# ---------------------------------------------------------------------------
# Beam search: ranking finished hypotheses by length-normalised scores


def length_penalty(length: int, alpha: float, kind: str) -> float:
    """The divisor of a finished hypothesis's log-probability: |Y|^alpha (Ng's course, D2L, Hugging Face's
    length_penalty) or GNMT's lp(Y) = (5 + |Y|)^alpha / (5 + 1)^alpha (Wu et al. 2016, eq. 14)."""
    if kind == "gnmt":
        return ((5.0 + length) / 6.0) ** alpha
    return float(length) ** alpha


@register("beam_length_normalization")
def beam_length_normalization(p: Mapping[str, Any]) -> dict[str, Any]:
    """Finished hypotheses ranked as a beam-search decoder's final step ranks them: each log-probability divided
    by its length penalty, the best (first on a tie) kept."""
    kind, alpha = str(p.get("penalty", "power")), float(p.get("alpha", 1.0))
    lengths = [int(round(float(t))) for t in np.atleast_1d(p["T"])]
    penalties = [length_penalty(t, alpha, kind) for t in lengths]
    scores = [float(logp) / penalty for logp, penalty in zip(np.atleast_1d(p["logp"]), penalties)]
    best = max(range(len(scores)), key=lambda k: (scores[k], -k))
    return {"lp": np.array(penalties), "s": np.array(scores), "best": best + 1}


# ---------------------------------------------------------------------------
# Sampling from a language model: temperature, top-k, top-p (nucleus)


@register("sampling_distribution")
def sampling_distribution(p: Mapping[str, Any]) -> dict[str, Any]:
    """The distribution a sampler draws the next token from, filtered as Hugging Face's logits warpers do it:
    temperature first (logits / tau), then top-k (drop scores below the k-th largest, torch.topk; ties kept) or
    top-p (sort, cumulative softmax mass, drop the tail whose mass is at most 1 - p, keep at least one token)."""
    import torch

    with single_thread():
        logits = torch.as_tensor(np.atleast_1d(np.asarray(p["z"], dtype=float))) / float(p.get("tau", 1.0))
        method = str(p.get("method", "temperature"))
        keep = torch.ones_like(logits, dtype=torch.bool)
        if method == "top_k":
            kth = torch.topk(logits, min(int(p.get("k", 50)), logits.numel())).values[-1]
            keep = logits >= kth
        elif method == "top_p":
            probs = torch.softmax(logits, dim=0)
            ascending = torch.sort(probs).values
            mass = ascending.cumsum(dim=0)
            # each token's tail: its mass and that of every less likely token (equal ones all included, so that
            # tokens of equal probability are kept or cut together; Hugging Face's sort would split them)
            tail = mass[torch.searchsorted(ascending, probs, right=True) - 1]
            keep = (tail > 1 - float(p.get("p", 0.9))) | (probs == probs.max())  # the most likely token stays
        q = torch.softmax(logits, dim=0)
        filtered = torch.softmax(logits.masked_fill(~keep, -torch.inf), dim=0)
        tail = torch.stack([q[q <= q_i].sum() for q_i in q])  # each token's mass with the less likely ones
    return {"q": q.numpy(), "tail": tail.numpy(), "keep": keep.double().numpy(), "r": filtered.numpy()}
