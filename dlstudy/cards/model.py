"""What a deck is: notes, the cards they yield, and the deck that holds them.

A note is one entry of a deck file's ``cards:`` list; a card is one thing to
review. Most notes yield one card; a reversed basic note yields two, a cloze
note one per gap number. Card ids are stable (``note-id``,
``note-id::reverse``, ``note-id::c2``), so editing a note's text keeps its
review history. Which cards a note yields, and what its ``fields`` hold, is
up to its kind (``dlstudy.cards.kinds``); these classes are only data, and
round-trip through ``to_dict``/``from_dict`` (the deck cache is JSON).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from dlstudy.errors import Location


@dataclass(frozen=True)
class Note:
    id: str
    deck: str
    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)  # the kind's own keys, validated (front, steps, ...)
    tags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # ids of other notes, possibly in other decks
    source: Location = Location("")  # where the note starts in its deck file

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deck": self.deck,
            "kind": self.kind,
            "fields": {key: list(value) if isinstance(value, tuple) else value for key, value in self.fields.items()},
            "tags": list(self.tags),
            "related": list(self.related),
            "source": [self.source.path, self.source.line, self.source.column],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Note":
        fields = {key: tuple(value) if isinstance(value, list) else value for key, value in data["fields"].items()}
        return cls(
            id=data["id"],
            deck=data["deck"],
            kind=data["kind"],
            fields=fields,
            tags=tuple(data.get("tags", ())),
            related=tuple(data.get("related", ())),
            source=Location(*data["source"]),
        )


@dataclass(frozen=True)
class Card:
    """One reviewable card of a note."""

    id: str
    note: Note
    gap: int | None = None  # cloze gap number
    reversed: bool = False

    @property
    def deck(self) -> str:
        return self.note.deck

    @property
    def kind(self) -> str:
        return self.note.kind

    @property
    def tags(self) -> tuple[str, ...]:
        return self.note.tags

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "note": self.note.id, "gap": self.gap, "reversed": self.reversed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], note: Note) -> "Card":
        return cls(data["id"], note, data.get("gap"), bool(data.get("reversed", False)))


@dataclass(frozen=True)
class Deck:
    name: str
    title: str
    topic: str
    notes: tuple[Note, ...]
    cards: tuple[Card, ...]  # every card of every note, in note order
    source: str

    @property
    def short_title(self) -> str:
        """The title's head, for headings: "Recurrent neural networks" of "Recurrent neural networks, LSTM/GRU, ..."."""
        return re.split(r":| - |,| \(", self.title)[0].strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "topic": self.topic,
            "notes": [note.to_dict() for note in self.notes],
            "cards": [card.to_dict() for card in self.cards],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Deck":
        notes = tuple(Note.from_dict(n) for n in data["notes"])
        by_id = {note.id: note for note in notes}
        cards = tuple(Card.from_dict(c, by_id[c["note"]]) for c in data["cards"])
        return cls(data["name"], data["title"], data["topic"], notes, cards, data["source"])
