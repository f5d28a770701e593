"""``typed``: the student types the answer; dlstudy's checker grades it.

Numbers are judged within a relative tolerance ``rtol`` (default 0.01), or to
``sigfigs`` significant figures, or rounded to ``decimals`` decimal places;
expressions in ``variable`` are judged equal as functions.
"""

from __future__ import annotations

from typing import Any, Mapping

from dlstudy.cards.content import Content, Formula, Literal, Sides, Text
from dlstudy.cards.kinds.base import Asking, CardKind, NoteReader
from dlstudy.cards.model import Card, Note
from dlstudy.cards.prompts import Checked, Prompt, join
from dlstudy.suggest import did_you_mean

ANSWER_KINDS = ("integer", "real", "vector", "matrix", "shape", "expression")
PRECISION_KEYS = ("rtol", "sigfigs", "decimals")  # at most one; rtol 0.01 when none
ROUNDED_KINDS = ("real", "vector", "matrix")  # the kinds sigfigs and decimals apply to
MAX_DIGITS = 15  # what a float holds


class Typed(CardKind):
    name = "typed"
    keys = ("front", "answer", "answer_kind", "variable", *PRECISION_KEYS, "back")
    required = ("front", "answer", "answer_kind")

    def read(self, note: NoteReader) -> dict[str, Any]:
        from dlstudy.engine.answers import AnswerFormatError, parse_answer

        fields: dict[str, Any] = {
            "front": note.text("front", math=True),
            "answer": note.text("answer"),
            "answer_kind": note.text("answer_kind"),
            "variable": note.text("variable") or "x",
            "back": note.text("back", math=True),
        }
        kind = fields["answer_kind"]
        if kind not in ANSWER_KINDS:
            note.problem("answer_kind", f"answer_kind must be one of {', '.join(ANSWER_KINDS)}{did_you_mean(kind, ANSWER_KINDS)}")
            return fields
        fields.update(_precision(note, kind))
        if fields["answer"]:
            try:
                parse_answer(kind, fields["answer"], variables=(fields["variable"],))
            except AnswerFormatError as exc:
                note.problem("answer", f"the answer does not read as {kind}: {exc.message}")
        return fields

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        fields = card.note.fields
        answer = join(f"Answer: {fields['answer']}", fields["back"])
        return Prompt(card, fields["front"], answer, checker=lambda text: check_typed(fields, text))

    def content(self, note: Note) -> Content:
        fields = note.fields
        return Sides((Text(fields["front"]),), (Literal(fields["answer"]), Text(fields["back"])))

    def formula(self, note: Note) -> Formula | None:
        fields = note.fields
        return Formula(fields["front"], (fields["back"],)) if "formula" in note.tags and fields["back"] else None


def _precision(note: NoteReader, kind: str) -> dict[str, Any]:
    given = [key for key in PRECISION_KEYS if note.raw(key) is not None]
    if len(given) > 1:
        note.problem(given[1], f"give one of {', '.join(PRECISION_KEYS)}, not both {given[0]} and {given[1]}")
        return {}
    if not given:
        return {}
    key = given[0]
    value = note.raw(key)
    if key == "rtol":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            note.problem("rtol", "rtol must be a relative tolerance such as 0.01")
            return {}
        return {"rtol": float(value)}
    low = 1 if key == "sigfigs" else 0
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_DIGITS:
        example = "sigfigs: 3 (judge by 3 significant figures)" if key == "sigfigs" else "decimals: 2 (rounded to 0.01)"
        note.problem(key, f"{key} must be a whole number from {low} to {MAX_DIGITS}, e.g. {example}")
        return {}
    if kind not in ROUNDED_KINDS:
        note.problem(key, f"{key} applies to {', '.join(ROUNDED_KINDS)} answers, not {kind}; remove it")
        return {}
    return {key: value}


def tolerance(fields: Mapping[str, Any]):
    """The card's precision as the checker's Tolerance."""
    from dlstudy.engine.checking import Tolerance

    if "sigfigs" in fields:
        return Tolerance(sigfigs=fields["sigfigs"])
    if "decimals" in fields:
        # Correctly rounded to N decimals: within half a unit of the last place (and a hair, for binary floats).
        return Tolerance(rtol=0.0, atol=0.5 * 10.0 ** -fields["decimals"] * (1 + 1e-9))
    return Tolerance(rtol=fields.get("rtol", 0.01))


def check_typed(fields: Mapping[str, Any], text: str) -> Checked:
    """Judged by the same comparison as problem answers; AnswerFormatError when ``text`` is not of the answer's kind."""
    from dlstudy.engine.answers import parse_answer
    from dlstudy.engine.checking import compare

    kind, variable = fields["answer_kind"], fields["variable"]
    given = parse_answer(kind, text, variables=(variable,))
    key = parse_answer(kind, fields["answer"], variables=(variable,))
    return Checked(compare(kind, given, key, tolerance(fields), variable).score, fields["answer"])


KIND = Typed()
