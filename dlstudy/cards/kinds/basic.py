"""``basic``: a front and a back; with ``reverse: true`` a second card asks back -> front."""

from __future__ import annotations

from typing import Any

from dlstudy.cards.content import Content, Formula, Sides, Text
from dlstudy.cards.kinds.base import Asking, CardKind, NoteReader
from dlstudy.cards.model import Card, Note
from dlstudy.cards.prompts import Prompt


class Basic(CardKind):
    name = "basic"
    keys = ("front", "back", "reverse")
    required = ("front", "back")

    def read(self, note: NoteReader) -> dict[str, Any]:
        return {"front": note.text("front", math=True), "back": note.text("back", math=True), "reverse": note.flag("reverse")}

    def cards(self, note: Note) -> list[Card]:
        if note.fields["reverse"]:
            return [Card(note.id, note), Card(f"{note.id}::reverse", note, reversed=True)]
        return [Card(note.id, note)]

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        front, back = card.note.fields["front"], card.note.fields["back"]
        return Prompt(card, back, front) if card.reversed else Prompt(card, front, back)

    def content(self, note: Note) -> Content:
        return Sides((Text(note.fields["front"]),), (Text(note.fields["back"]),), reverse=note.fields["reverse"])

    def formula(self, note: Note) -> Formula | None:
        return Formula(note.fields["front"], (note.fields["back"],)) if "formula" in note.tags else None


KIND = Basic()
