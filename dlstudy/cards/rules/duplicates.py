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


def _padded(text: str) -> str:
    """A normalised text with the blanks that make its first and last letters trigrams of their own."""
    return f"  {text} "


def trigrams(text: str) -> frozenset[str]:
    padded = _padded(text)
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character trigrams of two normalised texts (0..1)."""
    ta, tb = trigrams(normalise(a)), trigrams(normalise(b))
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def text_of(note: Note) -> str:
    """What a note asks and answers: front or cloze text, back, typed answer, extra, steps."""
    fields = note.fields
    return " ".join([*(str(fields.get(key) or "") for key in TEXT_KEYS), *(fields.get("steps") or ())])


def similar_pairs(
    notes: Sequence[Note], threshold: float = DUPLICATE_THRESHOLD, known: Sequence[Note] = ()
) -> list[tuple[Note, Note, float]]:
    """(earlier, later, score) for notes of different decks at or above ``threshold``.

    ``known`` notes come before ``notes`` and only pairs whose later note is one
    of ``notes`` are scored: linting one deck compares its notes with every
    other, not every other note with every other. Each note's trigrams are a
    row of bits, so one note is compared with all the earlier ones at once (a
    few hundred milliseconds for every pair of ~1,200 notes).
    """
    import numpy as np

    items = _long_enough(known)
    first = len(items)  # where the items of ``notes`` begin
    items += _long_enough(notes)
    if len(items) < 2:
        return []
    words, sizes = _bit_rows([text for _, text in items])
    decks = np.array([note.deck for note, _ in items])
    pairs = []
    for j in range(max(first, 1), len(items)):
        common = _popcount(words[j] & words[:j])
        score = common / (sizes[j] + sizes[:j] - common)
        for i in np.flatnonzero((score >= threshold) & (decks[:j] != decks[j])):
            pairs.append((items[i][0], items[j][0], float(score[i])))
    return sorted(pairs, key=lambda pair: (pair[1].id, pair[0].id))


def _long_enough(notes: Sequence[Note]) -> list[tuple[Note, str]]:
    """(note, normalised text) for each note long enough to compare."""
    texts = [(note, normalise(text_of(note))) for note in notes]
    return [(note, text) for note, text in texts if len(text) >= DUPLICATE_MIN_CHARS]


def _bit_rows(texts: Sequence[str]):
    """Each text's ``trigrams`` as a row of bits (uint64 words), and how many there are in each row.

    A normalised text is ASCII, so a trigram is a number of 21 bits (7 a character): the trigrams of all
    the texts are found at once in NumPy, and each trigram that occurs gets a column, in numeric order.
    """
    import numpy as np

    padded = [_padded(text).encode("ascii") for text in texts]
    chars = np.frombuffer(b"".join(padded), dtype=np.uint8).astype(np.int64)
    row = np.repeat(np.arange(len(padded)), [len(p) for p in padded])
    inside = row[:-2] == row[2:]  # the trigram starting here ends in the same text
    codes = (chars[:-2] << 14 | chars[1:-1] << 7 | chars[2:])[inside]
    occurs = np.bincount(codes, minlength=1 << 21) > 0
    column = np.cumsum(occurs) - 1  # trigram code -> its column
    bits = np.zeros((len(padded), (int(occurs.sum()) + 63) // 64 * 64), dtype=bool)
    bits[row[:-2][inside], column[codes]] = True
    return np.packbits(bits, axis=1).view(np.uint64), bits.sum(axis=1)


def _popcount(words):
    """Set bits per row of a uint64 matrix."""
    import numpy as np

    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(words).sum(axis=1)
    return np.unpackbits(words.view(np.uint8), axis=1).sum(axis=1)


@rule("near-duplicate")
def near_duplicate(
    notes: Sequence[Note], known: Sequence[Note] = (), threshold: float = DUPLICATE_THRESHOLD
) -> Iterable[Finding]:
    """No two notes of different decks ask and answer nearly the same thing."""
    for a, b, score in similar_pairs(notes, threshold, known):
        yield Finding(
            b, None,
            f"'{b.id}' nearly repeats '{a.id}' at {a.source} (similarity {score:.2f}); "
            "merge them into one card and link the cards that remain with `related: [...]`",
        )
