"""Finding cards: by deck, tag and kind (what a quiz covers), by words and state (``dlstudy cards``), and
cards named by id for suspend, unsuspend, bury.

Returns data (``CardInfo``); the CLI prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from dlstudy.cards import kinds
from dlstudy.cards.markup import cloze_side
from dlstudy.cards.model import Card, Deck
from dlstudy.cards.records import NEW, STATE_NAMES, CardRow
from dlstudy.errors import DlstudyError, Location
from dlstudy.suggest import did_you_mean

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CardInfo:
    id: str
    deck: str
    kind: str
    tags: tuple[str, ...]
    question: str  # what the card asks, with $...$ math
    state: str  # new, learning, review, relearning
    suspended: bool
    buried: bool
    due: datetime | None
    source: Location

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "deck": self.deck, "kind": self.kind, "tags": list(self.tags), "question": self.question,
            "state": self.state, "suspended": self.suspended, "buried": self.buried,
            "due": self.due.isoformat() if self.due else None, "source": str(self.source),
        }


def question_of(card: Card) -> str:
    """What a card asks, from its note's fields (no problem is sampled)."""
    fields = card.note.fields
    if card.reversed and fields.get("back"):
        return str(fields["back"])
    if fields.get("front"):
        return str(fields["front"])
    if fields.get("text"):
        return cloze_side(str(fields["text"]), card.gap or 1, reveal=False)
    if fields.get("template"):
        return f"Problem: {fields['template']} (a fresh variant each time)"
    return card.id


def _words_of(card: Card) -> tuple[set[str], set[str]]:
    """(id, deck and tag words; text words) a search matches."""
    names = _WORD.findall(" ".join((card.id, card.deck, *card.tags)).lower())
    texts = []
    for value in card.note.fields.values():
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, (tuple, list)):
            texts.extend(str(v) for v in value)
    return set(names), set(_WORD.findall(" ".join(texts).lower()))


def search(cards: Iterable[Card], words: Sequence[str]) -> list[Card]:
    """Cards mentioning every word (as a word or a word's start), those naming them in id, deck or tags first."""
    wanted = [w for word in words for w in _WORD.findall(word.lower())]
    if not wanted:
        return list(cards)
    scored = []
    for index, card in enumerate(cards):
        names, texts = _words_of(card)
        score = 0
        for word in wanted:
            if any(w.startswith(word) for w in names):
                score += 2
            elif any(w.startswith(word) for w in texts):
                score += 1
            else:
                break
        else:
            scored.append((-score, index, card))
    return [card for _, _, card in sorted(scored, key=lambda item: item[:2])]


def select_cards(
    decks: Sequence[Deck], words: Sequence[str] = (), kinds_: Sequence[str] = (), tags: Sequence[str] = ()
) -> list[Card]:
    """Cards of the decks or tags named by ``words`` (all cards when none), of the given kinds, with one of
    the given tags."""
    cards = [card for deck in decks for card in deck.cards]
    names = {deck.name for deck in decks}
    all_tags = {tag for card in cards for tag in card.tags}
    for word in words:
        if word not in names and word not in all_tags:
            hint = did_you_mean(word, sorted(names | all_tags))
            raise DlstudyError(f"'{word}' is neither a deck nor a tag{hint} (decks: {', '.join(sorted(names))})")
    for tag in tags:
        if tag not in all_tags:
            raise DlstudyError(f"no card has the tag '{tag}'{did_you_mean(tag, sorted(all_tags))}")
    for kind in kinds_:
        if not kinds.exists(kind):
            raise DlstudyError(f"unknown card kind '{kind}'{did_you_mean(kind, kinds.names())} (kinds: {', '.join(kinds.names())})")
    if words:
        wanted = set(words)
        cards = [card for card in cards if card.deck in wanted or wanted & set(card.tags)]
    if kinds_:
        cards = [card for card in cards if card.kind in kinds_]
    if tags:
        cards = [card for card in cards if set(tags) & set(card.tags)]
    return cards


def browse(
    decks: Sequence[Deck],
    rows: Mapping[str, CardRow],
    now: datetime,
    words: Sequence[str] = (),
    deck_names: Sequence[str] = (),
    kinds_: Sequence[str] = (),
    tags: Sequence[str] = (),
    suspended: bool = False,
    due: bool = False,
) -> list[CardInfo]:
    """The cards matching every filter given (all cards when none), best search matches first."""
    from dlstudy.cards.decks import choose_decks

    chosen = choose_decks(decks, deck_names)
    cards = search(select_cards(chosen, (), kinds_, tags), words)
    infos = [info(card, rows.get(card.id), now) for card in cards]
    if suspended:
        infos = [i for i in infos if i.suspended]
    if due:
        infos = [i for i in infos if not i.suspended and not i.buried and i.due is not None and i.due <= now]
    return infos


def info(card: Card, row: CardRow | None, now: datetime) -> CardInfo:
    row = row or CardRow(card.id, card.deck)
    return CardInfo(
        card.id, card.deck, card.kind, card.tags, question_of(card), STATE_NAMES[row.state], row.suspended,
        row.buried(now), row.due if row.state != NEW else None, card.note.source,
    )


def resolve(decks: Sequence[Deck], ids: Sequence[str]) -> list[Card]:
    """The cards named: a card id, or a note id for all of its cards (a cloze note's gaps, a reversed card)."""
    by_card = {card.id: card for deck in decks for card in deck.cards}
    by_note: dict[str, list[Card]] = {}
    for card in by_card.values():
        by_note.setdefault(card.note.id, []).append(card)
    found: dict[str, Card] = {}
    for name in ids:
        if name in by_card:
            found[name] = by_card[name]
        elif name in by_note:
            found.update((card.id, card) for card in by_note[name])
        else:
            hint = did_you_mean(name, [*by_note, *by_card])
            raise DlstudyError(f"no card '{name}'{hint}; find ids with `dlstudy cards --search WORDS`")
    return list(found.values())
