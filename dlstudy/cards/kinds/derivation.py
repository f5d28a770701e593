"""``derivation``: a chain of steps; a review asks for the next step, or for the order of shuffled steps."""

from __future__ import annotations

from typing import Any

from dlstudy.cards.content import Content, Formula, Sides, Steps, Text
from dlstudy.cards.kinds.base import Asking, CardKind, NoteReader
from dlstudy.cards.model import Card, Note
from dlstudy.cards.prompts import Checked, Prompt, join
from dlstudy.engine.answers import CHOICE_LETTERS


class Derivation(CardKind):
    name = "derivation"
    keys = ("front", "steps", "back")
    required = ("front", "steps")

    def read(self, note: NoteReader) -> dict[str, Any]:
        fields: dict[str, Any] = {"front": note.text("front", math=True), "back": note.text("back", math=True)}
        steps = note.raw("steps")
        if not isinstance(steps, list) or len(steps) < 2 or not all(isinstance(s, str) and s.strip() for s in steps):
            note.problem("steps", "steps must be a list of at least two non-empty lines, in order")
        else:
            for step in steps:
                note.math("steps", step)
            fields["steps"] = tuple(steps)
        return fields

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        """At random: put the shuffled steps in order (graded), or give the step after the first few (self-graded)."""
        note = card.note
        front, back = note.fields["front"], note.fields["back"]
        steps = list(note.fields["steps"])
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
        rng = asking.rng
        if rng.random() < 0.5:
            order = rng.permutation(len(steps))
            while list(order) == list(range(len(steps))):
                order = rng.permutation(len(steps))
            shuffled = "\n".join(f"{letter}) {steps[i]}" for letter, i in zip(CHOICE_LETTERS, order))
            key = [CHOICE_LETTERS[list(order).index(i)] for i in range(len(steps))]
            question = f"{front}\nPut these steps in order (e.g. {' '.join(sorted(key)[:3])} ...):\n{shuffled}"
            return Prompt(card, question, join(numbered, back), checker=lambda text: check_order(key, text))
        shown = int(rng.integers(1, len(steps)))
        given = "\n".join(f"{i}. {s}" for i, s in enumerate(steps[:shown], 1))
        question = f"{front}\n{given}\nWhat is step {shown + 1}?"
        return Prompt(card, question, join(f"{shown + 1}. {steps[shown]}", f"All steps:\n{numbered}"))

    def content(self, note: Note) -> Content:
        back = (Steps(tuple(note.fields["steps"])), Text(note.fields["back"]))
        return Sides((Text(note.fields["front"]),), back)

    def formula(self, note: Note) -> Formula | None:
        return Formula(note.fields["front"], (note.fields["steps"][-1],))


def check_order(key: list[str], text: str) -> Checked:
    """The fraction of steps in the right place; AnswerFormatError unless every letter is given once."""
    from dlstudy.engine.answers import AnswerFormatError

    letters = [c for c in text.lower() if c in CHOICE_LETTERS]
    if len(letters) != len(key) or sorted(letters) != sorted(key):
        raise AnswerFormatError("choice", f"give all {len(key)} letters once each, e.g. {' '.join(sorted(key))}")
    right = sum(a == b for a, b in zip(letters, key)) / len(key)
    return Checked(right, " ".join(key))


KIND = Derivation()
