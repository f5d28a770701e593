"""``multi-question``: a front asks one thing.

One question per card (one '?', no "... and why?", no "Sigmoid: formula,
range, derivative?" list of things asked), so a review tests one memory and
its grade means one thing.
"""

from __future__ import annotations

import re
from typing import Iterable

from dlstudy.cards.model import Note
from dlstudy.cards.rules import note_rule
from dlstudy.cards.rules.text import IMPERATIVE_START, PAREN, QUESTION_START, precision_instruction, prose

# Things a front asks for, as in "Sigmoid: formula, range, derivative?".
_ASKED = (
    r"formulas?|range|derivatives?|definition|defin\w*|value(?: at \w+)?|constants?|purpose|intuition|idea|effect"
    r"|pros|cons|advantages?|disadvantages?|drawbacks?|benefits?|cost|costs|size|sizes|depth|result|results|structure"
    r"|layers|input|inputs|outputs?|shape|procedure|behaviou?r|approximation|where used|uses?|examples?|relation\b.*"
    r"|ingredients|connectivity pattern|design rule|building block|knobs|numbers|parameters|head|what \w+.*|why.*"
    r"|how.*|when.*|which.*|typical constants|sizes|and why.*|limitations?|properties"
)
_ASKED_ITEM = re.compile(rf"^(?:the |its |their |and |or )*(?:{_ASKED})$", re.I)
_SECOND_QUESTION = re.compile(
    r"(?:,|;|\band\b|\bor\b)\s+(?:why|how|what|when|where|which|who|whose|is it|are they|does it|do they"
    r"|is (?:lower|higher)|name|give|list|state|say|explain|describe|define|derive|write)\b",
    re.I,
)
_AND_ITS = re.compile(rf"\band (?:its|their) (?:{_ASKED})\b", re.I)
_PAIRED_LISTS = re.compile(
    r"\b(?:pros and cons|advantages and disadvantages|strengths and weaknesses|benefits and drawbacks)\b", re.I
)


def _second_question(text: str) -> str | None:
    """'and why' / ', what' joining a second question to a sentence that is already a question."""
    for match in _SECOND_QUESTION.finditer(text):
        sentence = re.split(r"[.?:;](?=\s)", text[: match.start()])[-1].strip()
        if match.group(0).lower().lstrip(", ").startswith("and") or QUESTION_START.match(sentence):
            return match.group(0).strip()
    return None


def _question_sentences(text: str) -> list[str]:
    """Sentences that ask something: ending in '?' or starting with an imperative such as 'Give'."""
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s.strip()]
    return [s for s in sentences if not precision_instruction(s) and (s.endswith("?") or IMPERATIVE_START.match(s))]


def _asked_items(segment: str) -> list[str]:
    items = re.split(r",|;|\band\b|\bor\b", segment)
    return [i.strip(" ?.!") for i in items if i.strip(" ?.!")]


def why_several(front: str) -> str | None:
    """Why ``front`` asks several things, or None when it asks one."""
    text = PAREN.sub(" ", prose(front))
    asked = _question_sentences(text)
    if len(asked) > 1:
        return f"it asks {len(asked)} questions: " + " / ".join(a[:30] for a in asked)
    if second := _second_question(text):
        return f"'{second} ...' adds a second question"
    if and_its := _AND_ITS.search(text):
        return f"'{and_its.group(0)}' adds a second question"
    if paired := _PAIRED_LISTS.search(text):
        return f"'{paired.group(0)}' asks for two lists"
    if ":" in text:
        items = [i for i in _asked_items(text.rsplit(":", 1)[1]) if _ASKED_ITEM.match(i)]
        if len(items) >= 2:
            return f"it asks for {len(items)} things ({', '.join(items)})"
    return None


@note_rule("multi-question")
def multi_question(note: Note) -> Iterable[tuple[str | None, str]]:
    """A front asks one thing."""
    front = note.fields.get("front") or ""
    why = why_several(front) if front else None
    if why:
        yield "front", (
            f"front asks several things at once ({why}); split it into one card per question, "
            "each with a short answer, and link them with `related: [...]`"
        )
