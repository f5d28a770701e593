"""Checking one deck file: every problem as ``FILE:LINE:COL: what is wrong and what to write instead``.

The deck-level keys, ids, tags and ``related`` are checked here; everything
else about a note is its kind's business (``CardKind.read``), reported through
a ``NoteReader`` that locates each problem at the key it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlstudy.cards import kinds
from dlstudy.cards.markup import math_problems
from dlstudy.cards.model import Deck, Note
from dlstudy.errors import LocatedError, Location
from dlstudy.suggest import did_you_mean
from dlstudy.yamlfile import load_yaml, position_of

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DECK_KEYS = ("deck", "title", "topic", "cards")
COMMON_KEYS = ("id", "kind", "tags", "related")

# What YAML's double-quoted escapes make of LaTeX commands: "\frac" is a form feed + "rac".
_MISREAD_ESCAPES = {"\f": r"\frac", "\b": r"\beta", "\a": r"\alpha", "\v": r"\vec", "\t": r"\theta", "\r": r"\rho"}
_MISREAD_NEWLINE = re.compile(r"\n(abla|eq|eg|u\b|ot\b|ormalsize|ewline)")


@dataclass(frozen=True)
class LintError:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def error(self, more: str = "") -> LocatedError:
        return LocatedError(self.location, self.message + more)


@dataclass
class DeckLint:
    """What checking one file found: the deck (None if unusable), the problems, every note id in the file
    (even of a note with problems), and where each note's keys are (``related``, ``front``, ``steps[2]``)."""

    path: Path
    deck: Deck | None = None
    errors: list[LintError] = field(default_factory=list)
    note_ids: list[str] = field(default_factory=list)
    keys_at: dict[str, dict[str, Location]] = field(default_factory=dict)

    @property
    def related_at(self) -> dict[str, Location]:
        """Where each note's ``related`` list is (notes that have one)."""
        return {note_id: keys["related"] for note_id, keys in self.keys_at.items() if "related" in keys}

    def where(self, note: Note, key: str | None) -> Location:
        """Where ``key`` of ``note`` is written (``steps[2]``: the third step), else where the note starts."""
        keys = self.keys_at.get(note.id, {})
        if key is not None and key in keys:
            return keys[key]
        if key is not None and "[" in key and key.split("[")[0] in keys:
            return keys[key.split("[")[0]]
        return note.source

    def add(self, where: Any, key: str | None, message: str) -> None:
        line, column = position_of(where, key)
        self.errors.append(LintError(Location(str(self.path), line, column), message))


class _Reader:
    """One note's YAML mapping, for its kind to read (``kinds.base.NoteReader``)."""

    def __init__(self, lint: DeckLint, mapping: Any) -> None:
        self.lint = lint
        self.mapping = mapping

    def raw(self, key: str) -> Any:
        return self.mapping.get(key)

    def problem(self, key: str | None, message: str) -> None:
        self.lint.add(self.mapping, key, message)

    def flag(self, key: str) -> bool:
        value = self.mapping.get(key, False)
        if not isinstance(value, bool):
            self.problem(key, f"{key} must be true or false")
        return bool(value)

    def text(self, key: str, math: bool = False) -> str:
        value = self.mapping.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(key, f"'{key}' must be text; quote it, e.g. {key}: \"...\"")
            return ""
        text = str(value)
        for char, latex in _MISREAD_ESCAPES.items():
            if char in text:
                self.problem(
                    key,
                    f"'{key}' contains a control character: in double quotes \\{latex[1]} is an escape; "
                    f"write \\{latex} (two backslashes) or use single quotes",
                )
        misread_newline = _MISREAD_NEWLINE.search(text)
        if misread_newline:
            self.problem(
                key,
                f"'{key}' has a line break before '{misread_newline.group(1)}': in double quotes \\n is an escape; "
                f"write \\\\n{misread_newline.group(1)} (two backslashes) or use single quotes",
            )
        if math and text:
            self.math(key, text)
        return text

    def math(self, key: str, text: str) -> None:
        for what, why in math_problems(text):
            if what == "unbalanced":
                self.problem(key, f"unbalanced math in '{key}': {why}")
            else:
                self.problem(key, f"math in '{key}' does not render: {why}; check its braces and commands")


def lint_file(path: Path) -> tuple[Deck | None, list[LintError]]:
    """Check one deck file; returns the deck (None if unusable) and every problem found."""
    result = lint_deck(path)
    return result.deck, result.errors


def lint_deck(path: Path) -> DeckLint:
    """Check one deck file (everything but whether ``related`` ids exist: that needs the other decks)."""
    lint = DeckLint(path)
    try:
        data = load_yaml(path)
    except LocatedError as exc:
        where = exc.location if exc.location.line else Location(str(path), 1, 1)
        lint.errors.append(LintError(where, exc.problem))
        return lint
    if not isinstance(data, dict):
        lint.errors.append(LintError(Location(str(path), 1, 1), "a deck must be a mapping with 'deck', 'title' and 'cards'"))
        return lint
    for key in data:
        if key not in DECK_KEYS:
            lint.add(data, key, f"unknown key '{key}'; a deck has {', '.join(DECK_KEYS)}{did_you_mean(str(key), DECK_KEYS)}")
    name = str(data.get("deck") or path.stem)
    if name != path.stem:
        lint.add(data, "deck", f"deck name '{name}' must match the file name; write deck: {path.stem}")
    if data.get("title") is None:
        lint.add(data, None, "missing 'title'; add `title: ...` to this card")
    title = _Reader(lint, data).text("title")
    topic = str(data.get("topic") or name)
    raw_cards = data.get("cards")
    if not isinstance(raw_cards, list) or not raw_cards:
        lint.add(data, "cards" if "cards" in data else None, "'cards' must be a non-empty list of cards")
        return lint
    notes: list[Note] = []
    seen: dict[str, int] = {}
    for raw in raw_cards:
        note = _lint_note(lint, raw, name, seen)
        if note is not None:
            notes.append(note)
    if not lint.errors:
        cards = tuple(card for note in notes for card in kinds.cards_of(note))
        lint.deck = Deck(name, title, topic, tuple(notes), cards, str(path))
    return lint


def _lint_note(lint: DeckLint, card: Any, deck: str, seen: dict[str, int]) -> Note | None:
    if not isinstance(card, dict):
        lint.add(card, None, "each card must be a mapping starting with `- id: ...`")
        return None
    before = len(lint.errors)
    reader = _Reader(lint, card)
    if card.get("id") is None:
        reader.problem(None, "missing 'id'; add `id: ...` to this card")
    card_id = reader.text("id")
    if card_id and not ID_PATTERN.match(card_id):
        lint.add(card, "id", f"id '{card_id}' must be lowercase letters, digits and dashes, e.g. conv-output-size")
    if card_id in seen:
        lint.add(card, "id", f"duplicate id '{card_id}' (first used on line {seen[card_id]}); give this card its own id")
    elif card_id:
        lint.note_ids.append(card_id)
    seen.setdefault(card_id, position_of(card)[0])
    kind_name = str(card.get("kind", "basic"))
    if not kinds.exists(kind_name):
        names = kinds.names()
        lint.add(card, "kind", f"unknown kind '{kind_name}'; write one of {', '.join(names)}{did_you_mean(kind_name, names)}")
        return None
    kind = kinds.get(kind_name)
    allowed = COMMON_KEYS + kind.keys
    for key in card:
        if key not in allowed:
            lint.add(card, key, f"unknown key '{key}' for a {kind_name} card; allowed: {', '.join(allowed)}{did_you_mean(str(key), allowed)}")
    for key in kind.required:
        if card.get(key) is None:
            lint.add(card, None, f"missing '{key}'; add `{key}: ...` to this card")
    tags = card.get("tags", []) or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        lint.add(card, "tags", "tags must be a list of words, e.g. tags: [formula, cnn]")
        tags = []
    related = _related(lint, card)
    fields = kind.read(reader)
    if len(lint.errors) > before:
        return None
    line, column = position_of(card)
    lint.keys_at[card_id] = _key_locations(lint.path, card)
    return Note(card_id, deck, kind_name, fields, tuple(tags), related, Location(str(lint.path), line, column))


def _related(lint: DeckLint, card: Any) -> tuple[str, ...]:
    related = card.get("related", []) or []
    if not isinstance(related, list) or not all(isinstance(r, str) and ID_PATTERN.match(r) for r in related):
        lint.add(card, "related", "related must be a list of card ids, e.g. related: [conv-output-size-formula]")
        return ()
    if card.get("id") in related:
        lint.add(card, "related", f"a card cannot be related to itself; remove '{card.get('id')}' from related")
        return ()
    return tuple(dict.fromkeys(related))


def _key_locations(path: Path, card: Any) -> dict[str, Location]:
    """Where each key of a note's mapping is, and each item of a list value as ``key[i]``."""
    where = {}
    for key, value in card.items():
        where[str(key)] = Location(str(path), *position_of(card, key))
        for index in getattr(value, "positions", {}) if isinstance(value, list) else ():
            where[f"{key}[{index}]"] = Location(str(path), *position_of(value, index))
    return where
