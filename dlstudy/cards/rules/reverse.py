"""``reversed-giveaway``: ``reverse: true`` only when the reversed card is a fair question.

The reversed card shows the back and asks for the front, so the back must not
name the front's key term, must not be a list (no single answer) nor a
question, and the front must be a term, not a question or an instruction.
"""

from __future__ import annotations

import re
from typing import Iterable

from dlstudy.cards.model import Note
from dlstudy.cards.rules import note_rule
from dlstudy.cards.rules.text import PAREN, QUESTION_START, is_list, prose

_STOPWORDS = set(
    "the a an of and or in on to for with by from as at is are be its it this that what which why how when does do "
    "vs versus between into than over under each per one two three four five formula value type give name define "
    "describe write term network networks layer layers model models learning function functions using use used".split()
)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def _content_words(text: str) -> list[str]:
    plain = _LATEX_COMMAND.sub(" ", text.replace("\\mathrm", " ").replace("\\text", " "))
    plain = re.sub(r"[{}_^$\\]", " ", plain)
    return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", plain) if w.lower() not in _STOPWORDS]


def _stem(word: str) -> str:
    return word.lower().rstrip("s")[:6]


def why_unfair(front: str, back: str) -> str | None:
    """Why the reversed card (back -> front) is not a fair question, or None."""
    if "?" in prose(front) or QUESTION_START.match(prose(front).strip()):
        return "the reversed card would ask the student to produce a question or an instruction"
    if "?" in prose(back):
        return "the back is itself a question"
    if is_list(back):
        return "the back is a list, so the reversed card has no single answer"
    key = {_stem(w) for w in _content_words(PAREN.sub(" ", front))}  # "(n-gram smoothing)" is context
    named = sorted({w for w in _content_words(back) if _stem(w) in key})
    if named:
        return f"the back names the answer ({', '.join(named)})"
    return None


@note_rule("reversed-giveaway")
def reversed_giveaway(note: Note) -> Iterable[tuple[str | None, str]]:
    """A reversed card is a fair question."""
    if not note.fields.get("reverse"):
        return
    why = why_unfair(note.fields.get("front") or "", note.fields.get("back") or "")
    if why:
        yield "reverse", (
            f"reversed card gives itself away or is ill-posed: {why}; remove `reverse: true`, "
            "or make the front a bare term and the back a definition or formula that does not name it"
        )
