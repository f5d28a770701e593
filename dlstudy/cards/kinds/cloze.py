"""``cloze``: text with gaps ``{{c1::...}}``; one card per gap number, the gap hidden as ``[…]`` or its hint."""

from __future__ import annotations

from typing import Any

from dlstudy.cards.content import ClozeText, Content, Formula
from dlstudy.cards.kinds.base import Asking, CardKind, NoteReader
from dlstudy.cards.markup import cloze_side, gap_numbers, revealed
from dlstudy.cards.model import Card, Note
from dlstudy.cards.prompts import Prompt, join


class Cloze(CardKind):
    name = "cloze"
    keys = ("text", "extra")
    required = ("text",)

    def read(self, note: NoteReader) -> dict[str, Any]:
        fields = {"text": note.text("text", math=True), "extra": note.text("extra", math=True)}
        if fields["text"]:
            try:
                if not gap_numbers(fields["text"]):
                    note.problem("text", "a cloze card needs at least one gap, e.g. {{c1::hidden text}}")
            except ValueError as exc:
                note.problem("text", str(exc))
        return fields

    def cards(self, note: Note) -> list[Card]:
        return [Card(f"{note.id}::c{n}", note, gap=n) for n in gap_numbers(note.fields["text"])]

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        text, gap = card.note.fields["text"], card.gap or 1
        answer = join(cloze_side(text, gap, reveal=True), card.note.fields["extra"])
        return Prompt(card, cloze_side(text, gap, reveal=False), answer)

    def content(self, note: Note) -> Content:
        return ClozeText(note.fields["text"], note.fields["extra"])

    def formula(self, note: Note) -> Formula | None:
        return Formula("", (revealed(note.fields["text"]),)) if "formula" in note.tags else None


KIND = Cloze()
