"""``near-duplicate``: no two notes of different decks ask and answer nearly the same thing.

Similarity is the Jaccard index of the character trigrams of two notes'
normalised question and answer text. The threshold was measured on the
built-in decks before they were merged (936 notes, about 400,000 cross-deck
pairs): every pair at 0.40 or above was a real duplicate (gradient clipping
0.56, d/dx log sigma 0.49, triplet loss 0.47 and 0.44, perplexity 0.46, CE vs
MSE 0.43, triplet mining 0.41, feature scaling 0.41), and the best-scoring pair
that is not one (softmax with two classes vs a distillation exercise with two
classes) scored 0.38. Fronts alone separate worse: reworded copies share their
answers more than their questions, while sibling exercises ("derivative of log
sigma(x)" vs "derivative of sigma(x)") share their questions. Duplicates worded
apart (two "deep vs wide" cards at 0.33) are below any safe threshold; they
were merged by hand and are linked with ``related``. Notes of one deck may be
siblings on purpose and are not compared.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from dlstudy.cards.model import Note
from dlstudy.cards.rules import Finding, rule

DUPLICATE_THRESHOLD = 0.40
DUPLICATE_MIN_CHARS = 25  # shorter notes have too few trigrams for a meaningful score
TEXT_KEYS = ("front", "text", "back", "answer", "extra")

_FILLER = set(
    "what is are the a an of in on for to and or does do why how which when with by its it this that be give write "
    "define describe name type as from at into than each per".split()
)


def normalise(text: str) -> str:
    """Lower-case words of the text, LaTeX commands kept as words, filler words dropped."""
    text = text.replace("\\$", "")
    text = re.sub(r"\{\{c\d+::(.*?)(::[^}]*)?\}\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", r" \1 ", text)
    found = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(w for w in found if w not in _FILLER)


def trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character trigrams of two normalised texts (0..1)."""
    ta, tb = trigrams(normalise(a)), trigrams(normalise(b))
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def text_of(note: Note) -> str:
    """What a note asks and answers: front or cloze text, back, typed answer, extra, steps."""
    fields = note.fields
    return " ".join([*(str(fields.get(key) or "") for key in TEXT_KEYS), *(fields.get("steps") or ())])


def similar_pairs(notes: Sequence[Note], threshold: float = DUPLICATE_THRESHOLD) -> list[tuple[Note, Note, float]]:
    """(earlier, later, score) for notes of different decks at or above ``threshold``.

    Each note's trigrams are a row of bits, so one note is compared with all the
    later ones at once (a few hundred milliseconds for every pair of ~1,200 notes).
    """
    import numpy as np

    items: list[tuple[Note, frozenset[str]]] = []
    for note in notes:
        text = normalise(text_of(note))
        if len(text) >= DUPLICATE_MIN_CHARS:
            items.append((note, trigrams(text)))
    if len(items) < 2:
        return []
    ids: dict[str, int] = {}
    for _, grams in items:
        for gram in grams:
            ids.setdefault(gram, len(ids))
    bits = np.zeros((len(items), (len(ids) + 63) // 64 * 64), dtype=bool)
    for row, (_, grams) in enumerate(items):
        bits[row, [ids[gram] for gram in grams]] = True
    words = np.packbits(bits, axis=1).view(np.uint64)
    sizes = bits.sum(axis=1)
    decks = np.array([note.deck for note, _ in items])
    pairs = []
    for i in range(len(items) - 1):
        common = _popcount(words[i] & words[i + 1 :])
        score = common / (sizes[i] + sizes[i + 1 :] - common)
        for k in np.flatnonzero((score >= threshold) & (decks[i + 1 :] != decks[i])):
            pairs.append((items[i][0], items[i + 1 + k][0], float(score[k])))
    return sorted(pairs, key=lambda pair: (pair[1].id, pair[0].id))


def _popcount(words):
    """Set bits per row of a uint64 matrix."""
    import numpy as np

    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(words).sum(axis=1)
    return np.unpackbits(words.view(np.uint8), axis=1).sum(axis=1)


@rule("near-duplicate")
def near_duplicate(notes: Sequence[Note], threshold: float = DUPLICATE_THRESHOLD) -> Iterable[Finding]:
    """No two notes of different decks ask and answer nearly the same thing."""
    for a, b, score in similar_pairs(notes, threshold):
        yield Finding(
            b, None,
            f"'{b.id}' nearly repeats '{a.id}' at {a.source} (similarity {score:.2f}); "
            "merge them into one card and link the cards that remain with `related: [...]`",
        )
