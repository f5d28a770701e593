"""Which notes give each other away: a note's family.

A note's family is the note itself, the notes it names in ``related``, the
notes that name it, and the notes that name one of the same notes (two cards
``related`` to the sigmoid's formula are about the same idea). Its cards are
siblings too (a reversed card, the other gaps of a cloze). The quiz shows one
card of a family per study day, as Anki buries siblings; the exam planner
keeps a family's reviews on different days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Iterable, Mapping, Sequence

from dlstudy.cards.model import Note


def families(notes: Iterable[Note]) -> dict[str, frozenset[str]]:
    """Note id -> the ids of its family (itself included). Related ids of notes not given are kept as they are."""
    notes = list(notes)
    named_by: dict[str, set[str]] = defaultdict(set)
    for note in notes:
        for other in note.related:
            named_by[other].add(note.id)
    result = {}
    for note in notes:
        family = {note.id, *note.related, *named_by[note.id]}
        for other in note.related:
            family |= named_by[other]
        result[note.id] = frozenset(family)
    return result


def held_back(note_id: str, card_id: str, seen: Mapping[str, set[str]], family: Mapping[str, frozenset[str]]) -> bool:
    """Whether a card gives away, or is given away by, a card already seen: ``seen`` maps note ids to the ids of
    their cards shown (today, or this session). The card itself having been seen does not count: a learning
    step brings a card back the same day."""
    for other in family.get(note_id, frozenset((note_id,))):
        shown = seen.get(other)
        if shown and (other != note_id or shown - {card_id}):
            return True
    return False


def spread_out(card_ids: Sequence[str], note_of: Callable[[str], str], family: Mapping[str, frozenset[str]]) -> list[str]:
    """The cards with each family's members spread out: first one card of every family, then the second..."""
    count: Counter[str] = Counter()
    ranked = []
    for index, card_id in enumerate(card_ids):
        note = note_of(card_id)
        members = family.get(note, frozenset((note,)))
        ranked.append((max((count[n] for n in members), default=0), index, card_id))
        count[note] += 1
    return [card_id for _, _, card_id in sorted(ranked)]


class Relations:
    """The families of every loaded note, and which cards each note has (for the quiz and the exam planner)."""

    def __init__(self, notes: Iterable[Note], cards: Iterable[tuple[str, str]]) -> None:
        """``cards``: (card id, note id) of every card."""
        self.family = families(notes)
        self.note_of: dict[str, str] = {}
        self.cards_of: dict[str, list[str]] = defaultdict(list)
        for card_id, note_id in cards:
            self.note_of[card_id] = note_id
            self.cards_of[note_id].append(card_id)

    @classmethod
    def of(cls, decks) -> "Relations":
        return cls((n for d in decks for n in d.notes), ((c.id, c.note.id) for d in decks for c in d.cards))

    def kin(self, note_id: str, card_id: str) -> list[str]:
        """The other cards of the note's family (siblings and related notes' cards)."""
        return [c for n in self.family.get(note_id, (note_id,)) for c in self.cards_of.get(n, ()) if c != card_id]
