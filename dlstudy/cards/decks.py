"""Decks: YAML files of concept cards, validated into notes and the cards they yield.

A note is what a deck file lists (one entry of ``cards:``); a card is one thing
to review. Most notes yield one card; a reversed basic note yields two, a
cloze note one per gap number. Card ids are stable (``note-id``,
``note-id::reverse``, ``note-id::c2``), so editing a note's text keeps its
review history. The format is documented in docs/decks.md.

Validation collects every problem as a LintError (file:line:column: what is
wrong and what to write instead); loading raises the first as a DlstudyError.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from dlstudy import filecache
from dlstudy.errors import DlstudyError
from dlstudy.suggest import did_you_mean
from dlstudy.paths import content_dir
from dlstudy.yamlfile import load_yaml, position_of

CARD_KINDS = ("basic", "cloze", "typed", "derivation", "problem")
TYPED_KINDS = ("integer", "real", "vector", "matrix", "shape", "expression")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DECK_KEYS = ("deck", "title", "topic", "cards")
COMMON_KEYS = ("id", "kind", "tags")
KIND_KEYS = {
    "basic": ("front", "back", "reverse"),
    "cloze": ("text", "extra"),
    "typed": ("front", "answer", "answer_kind", "variable", "rtol", "back"),
    "derivation": ("front", "steps", "back"),
    "problem": ("template",),
}
REQUIRED_KEYS = {
    "basic": ("front", "back"),
    "cloze": ("text",),
    "typed": ("front", "answer", "answer_kind"),
    "derivation": ("front", "steps"),
    "problem": ("template",),
}


@dataclass(frozen=True)
class Note:
    id: str
    deck: str
    kind: str
    tags: tuple[str, ...] = ()
    front: str = ""
    back: str = ""
    reverse: bool = False
    text: str = ""  # cloze
    extra: str = ""
    answer: str = ""  # typed
    answer_kind: str = ""
    variable: str = "x"
    rtol: float = 0.01
    steps: tuple[str, ...] = ()  # derivation
    template: str = ""  # problem
    source: str = ""  # "file:line"

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v not in ("", (), False) or k in ("id", "kind")}
        data["tags"] = list(self.tags)
        if self.steps:
            data["steps"] = list(self.steps)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Note":
        data = dict(data)
        data["tags"] = tuple(data.get("tags", ()))
        data["steps"] = tuple(data.get("steps", ()))
        return cls(**data)


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


@dataclass(frozen=True)
class Deck:
    name: str
    title: str
    topic: str
    notes: tuple[Note, ...]
    source: str

    def cards(self) -> list[Card]:
        return [card for note in self.notes for card in cards_of(note)]


@dataclass(frozen=True)
class LintError:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


# ---------------------------------------------------------------------------
# Cloze gaps: {{c1::content}} or {{c1::content::hint}}, with balanced braces so
# that LaTeX such as {{c1::\frac{a}{b}}} or {{c2::\hat{\mathbf{x}}}} works.


@dataclass(frozen=True)
class Gap:
    number: int
    content: str
    hint: str = ""


_GAP_START = re.compile(r"\{\{c(\d+)::")


def parse_cloze(text: str) -> list[str | Gap]:
    """Split cloze text into literal strings and gaps; ValueError says what is wrong."""
    parts: list[str | Gap] = []
    pos = 0
    while True:
        match = _GAP_START.search(text, pos)
        if match is None:
            parts.append(text[pos:])
            return [p for p in parts if p != ""]
        parts.append(text[pos : match.start()])
        depth, i = 0, match.end()
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                i += 2  # \{ and \} are literal braces
                continue
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                if depth == 0:
                    break
                depth -= 1
            i += 1
        if not text.startswith("}}", i):
            raise ValueError(
                f"the gap starting {text[match.start():match.start() + 20]!r} is not closed: "
                "end it with }} after balanced braces, e.g. {{c1::\\frac{a}{b}}}"
            )
        inner = text[match.end() : i]
        content, _, hint = inner.partition("::")
        if not content.strip():
            raise ValueError(f"gap c{match.group(1)} is empty; write the hidden text after '::'")
        parts.append(Gap(int(match.group(1)), content, hint))
        pos = i + 2


def gap_numbers(text: str) -> list[int]:
    return sorted({p.number for p in parse_cloze(text) if isinstance(p, Gap)})


def cloze_side(text: str, number: int, reveal: bool) -> str:
    """The text with gap ``number`` hidden as [...] (or its hint), or revealed; other gaps shown."""
    out = []
    for part in parse_cloze(text):
        if isinstance(part, str):
            out.append(part)
        elif part.number != number:
            out.append(part.content)
        elif reveal:
            out.append(part.content)
        else:
            out.append(f"[{part.hint or '…'}]")
    return "".join(out)


def cards_of(note: Note) -> list[Card]:
    if note.kind == "basic" and note.reverse:
        return [Card(note.id, note), Card(f"{note.id}::reverse", note, reversed=True)]
    if note.kind == "cloze":
        return [Card(f"{note.id}::c{n}", note, gap=n) for n in gap_numbers(note.text)]
    return [Card(note.id, note)]


# ---------------------------------------------------------------------------
# Math: $...$ and $$...$$


def math_segments(text: str) -> list[tuple[int, str]]:
    """(offset, LaTeX) of every math segment; ValueError names the unclosed '$'."""
    segments = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\\" and i + 1 < n:
            i += 2
            continue
        if text[i] == "$":
            delimiter = "$$" if text.startswith("$$", i) else "$"
            start = i + len(delimiter)
            j = start
            while j < n:
                if text[j] == "\\" and j + 1 < n:
                    j += 2
                    continue
                if text.startswith(delimiter, j):
                    break
                if delimiter == "$" and text[j] == "$":
                    break
                j += 1
            if j >= n or not text.startswith(delimiter, j):
                raise ValueError(
                    f"'{delimiter}' at character {i + 1} is not closed; close it with '{delimiter}' "
                    "or write \\$ for a dollar sign"
                )
            segments.append((i, text[start:j]))
            i = j + len(delimiter)
        else:
            i += 1
    return segments


def split_math(text: str) -> list[tuple[str, str]]:
    """``("text", words)``, ``("math", LaTeX)`` and ``("display", LaTeX)`` parts, in order.

    ``\\$`` in the text parts is already a plain dollar sign; empty parts are left out.
    """
    parts: list[tuple[str, str]] = []
    last = 0
    for offset, latex in math_segments(text):
        display = text.startswith("$$", offset)
        parts.append(("text", text[last:offset].replace("\\$", "$")))
        parts.append(("display" if display else "math", latex.strip()))
        last = offset + (4 if display else 2) + len(latex)
    parts.append(("text", text[last:].replace("\\$", "$")))
    return [(kind, content) for kind, content in parts if content]


def render_math(text: str) -> str:
    """Text with every $...$ segment rendered as Unicode for the terminal."""
    from dlstudy.mathtext.unicode import latex_to_unicode

    return "".join(content if kind == "text" else latex_to_unicode(content) for kind, content in split_math(text))


# ---------------------------------------------------------------------------
# Validation


class _Linter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[LintError] = []

    def add(self, where: Any, key: str | None, message: str) -> None:
        line, column = position_of(where, key)
        self.errors.append(LintError(str(self.path), line, column, message))

    def text(self, card: Any, key: str, required: bool) -> str:
        value = card.get(key)
        if value is None:
            if required:
                self.add(card, None, f"missing '{key}'; add `{key}: ...` to this card")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.add(card, key, f"'{key}' must be text; quote it, e.g. {key}: \"...\"")
            return ""
        text = str(value)
        for char, latex in _MISREAD_ESCAPES.items():
            if char in text:
                self.add(
                    card, key,
                    f"'{key}' contains a control character: in double quotes \\{latex[1]} is an escape; "
                    f"write \\{latex} (two backslashes) or use single quotes",
                )
        misread_newline = _MISREAD_NEWLINE.search(text)
        if misread_newline:
            self.add(
                card, key,
                f"'{key}' has a line break before '{misread_newline.group(1)}': in double quotes \\n is an escape; "
                f"write \\\\n{misread_newline.group(1)} (two backslashes) or use single quotes",
            )
        return text

    def math(self, card: Any, key: str, text: str) -> None:
        from dlstudy.mathtext.unicode import latex_to_unicode

        try:
            segments = math_segments(text)
        except ValueError as exc:
            self.add(card, key, f"unbalanced math in '{key}': {exc}")
            return
        for _, latex in segments:
            try:
                latex_to_unicode(latex.strip())
            except ValueError as exc:
                self.add(card, key, f"math in '{key}' does not render: {exc}; check its braces and commands")


# What YAML's double-quoted escapes make of LaTeX commands: "\frac" is a form feed + "rac".
_MISREAD_ESCAPES = {"\f": r"\frac", "\b": r"\beta", "\a": r"\alpha", "\v": r"\vec", "\t": r"\theta", "\r": r"\rho"}


_MISREAD_NEWLINE = re.compile(r"\n(abla|eq|eg|u\b|ot\b|ormalsize|ewline)")


def lint_file(path: Path) -> tuple[Deck | None, list[LintError]]:
    """Check one deck file; returns the deck (None if unusable) and every problem found."""
    linter = _Linter(path)
    try:
        data = load_yaml(path)
    except DlstudyError as exc:
        match = re.match(r"^(.*?):(\d+):(\d+): (.*)$", exc.message)
        if match:
            return None, [LintError(str(path), int(match.group(2)), int(match.group(3)), match.group(4))]
        return None, [LintError(str(path), 1, 1, exc.message.split(": ", 1)[-1])]
    if not isinstance(data, dict):
        return None, [LintError(str(path), 1, 1, "a deck must be a mapping with 'deck', 'title' and 'cards'")]
    for key in data:
        if key not in DECK_KEYS:
            linter.add(data, key, f"unknown key '{key}'; a deck has {', '.join(DECK_KEYS)}{did_you_mean(str(key), DECK_KEYS)}")
    name = str(data.get("deck") or path.stem)
    if name != path.stem:
        linter.add(data, "deck", f"deck name '{name}' must match the file name; write deck: {path.stem}")
    title = linter.text(data, "title", required=True)
    topic = str(data.get("topic") or name)
    raw_cards = data.get("cards")
    if not isinstance(raw_cards, list) or not raw_cards:
        linter.add(data, "cards" if "cards" in data else None, "'cards' must be a non-empty list of cards")
        return None, linter.errors
    notes: list[Note] = []
    seen: dict[str, int] = {}
    for raw in raw_cards:
        note = _lint_card(linter, raw, name, seen)
        if note is not None:
            notes.append(note)
    deck = Deck(name, title, topic, tuple(notes), str(path))
    return (deck if not linter.errors else None), linter.errors


def _lint_card(linter: _Linter, card: Any, deck: str, seen: dict[str, int]) -> Note | None:
    if not isinstance(card, dict):
        linter.add(card, None, "each card must be a mapping starting with `- id: ...`")
        return None
    before = len(linter.errors)
    card_id = linter.text(card, "id", required=True)
    if card_id and not ID_PATTERN.match(card_id):
        linter.add(card, "id", f"id '{card_id}' must be lowercase letters, digits and dashes, e.g. conv-output-size")
    if card_id in seen:
        linter.add(card, "id", f"duplicate id '{card_id}' (first used on line {seen[card_id]}); give this card its own id")
    seen.setdefault(card_id, position_of(card)[0])
    kind = str(card.get("kind", "basic"))
    if kind not in CARD_KINDS:
        linter.add(card, "kind", f"unknown kind '{kind}'; write one of {', '.join(CARD_KINDS)}{did_you_mean(kind, CARD_KINDS)}")
        return None
    allowed = COMMON_KEYS + KIND_KEYS[kind]
    for key in card:
        if key not in allowed:
            linter.add(card, key, f"unknown key '{key}' for a {kind} card; allowed: {', '.join(allowed)}{did_you_mean(str(key), allowed)}")
    fields: dict[str, Any] = {}
    for key in KIND_KEYS[kind]:
        if key in ("reverse", "rtol", "steps"):
            continue
        fields[key] = linter.text(card, key, required=key in REQUIRED_KEYS[kind])
    tags = card.get("tags", []) or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        linter.add(card, "tags", "tags must be a list of words, e.g. tags: [formula, cnn]")
        tags = []
    for key in ("front", "back", "text", "extra"):
        if fields.get(key):
            linter.math(card, key, fields[key])
    if kind == "basic":
        reverse = card.get("reverse", False)
        if not isinstance(reverse, bool):
            linter.add(card, "reverse", "reverse must be true or false")
        fields["reverse"] = bool(reverse)
    elif kind == "cloze" and fields["text"]:
        try:
            if not gap_numbers(fields["text"]):
                linter.add(card, "text", "a cloze card needs at least one gap, e.g. {{c1::hidden text}}")
        except ValueError as exc:
            linter.add(card, "text", str(exc))
    elif kind == "typed":
        _lint_typed(linter, card, fields)
    elif kind == "derivation":
        steps = card.get("steps")
        if not isinstance(steps, list) or len(steps) < 2 or not all(isinstance(s, str) and s.strip() for s in steps):
            linter.add(card, "steps", "steps must be a list of at least two non-empty lines, in order")
        else:
            for step in steps:
                linter.math(card, "steps", step)
            fields["steps"] = tuple(steps)
    elif kind == "problem" and fields["template"]:
        from dlstudy.engine.templates import template_ids

        ids = template_ids()
        if fields["template"] not in ids:
            linter.add(card, "template", f"unknown problem template '{fields['template']}'{did_you_mean(fields['template'], ids)} (list them: `dlstudy problems`)")
    if len(linter.errors) > before:
        return None
    line = position_of(card)[0]
    return Note(id=card_id, deck=deck, kind=kind, tags=tuple(tags), source=f"{linter.path}:{line}", **fields)


def _lint_typed(linter: _Linter, card: Any, fields: dict[str, Any]) -> None:
    from dlstudy.engine.answers import AnswerFormatError, parse_answer

    kind = fields.get("answer_kind", "")
    if kind not in TYPED_KINDS:
        linter.add(card, "answer_kind", f"answer_kind must be one of {', '.join(TYPED_KINDS)}{did_you_mean(kind, TYPED_KINDS)}")
        return
    variable = str(card.get("variable", "x"))
    fields["variable"] = variable
    rtol = card.get("rtol", 0.01)
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 <= rtol < 1:
        linter.add(card, "rtol", "rtol must be a relative tolerance such as 0.01")
    else:
        fields["rtol"] = float(rtol)
    if fields.get("answer"):
        try:
            parse_answer(kind, fields["answer"], variables=(variable,))
        except AnswerFormatError as exc:
            linter.add(card, "answer", f"the answer does not read as {kind}: {exc.message}")


# ---------------------------------------------------------------------------
# Finding decks


def builtin_deck_dir() -> Path:
    return content_dir("decks")


def user_deck_dir() -> Path:
    """Where `dlstudy import` puts decks; loaded with the built-in ones."""
    from dlstudy.paths import data_dir

    return data_dir() / "decks"


def deck_files(paths: Sequence[Path]) -> list[Path]:
    """Deck files under ``paths`` (files or folders), in a stable order."""
    files: list[Path] = []
    for path in paths:
        path = Path(os.path.expanduser(str(path)))
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")))
        elif path.is_file():
            files.append(path)
        else:
            raise DlstudyError(f"deck path {path} does not exist")
    return files


def load_deck(path: Path) -> Deck:
    """A validated deck; from the cache when the file is unchanged since it was last validated."""
    cached = filecache.read("decks", path)
    if cached is not None:
        notes = tuple(Note.from_dict(n) for n in cached["notes"])
        return Deck(cached["name"], cached["title"], cached["topic"], notes, str(path))
    deck, errors = lint_file(path)
    if errors:
        more = f" (and {len(errors) - 1} more; run `dlstudy deck lint {path}`)" if len(errors) > 1 else ""
        raise DlstudyError(f"{errors[0]}{more}")
    assert deck is not None
    filecache.write("decks", path, {"name": deck.name, "title": deck.title, "topic": deck.topic,
                                     "notes": [n.to_dict() for n in deck.notes]})
    return deck


def load_decks(extra: Sequence[Path] = ()) -> list[Deck]:
    """Built-in decks plus the user's; card ids must be unique across all of them."""
    decks = [load_deck(path) for path in deck_files([builtin_deck_dir(), *extra])]
    check_unique(decks)
    return decks


def check_unique(decks: Sequence[Deck]) -> None:
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    for deck in decks:
        if deck.name in names:
            raise DlstudyError(f"two decks are named '{deck.name}': {names[deck.name]} and {deck.source}; rename one file")
        names[deck.name] = deck.source
        for note in deck.notes:
            if note.id in owners:
                raise DlstudyError(f"{note.source}: card id '{note.id}' is already used at {owners[note.id]}; give it its own id")
            owners[note.id] = note.source


def lint_paths(paths: Sequence[Path]) -> list[LintError]:
    """Every problem in the deck files under ``paths``, including ids repeated across files."""
    errors: list[LintError] = []
    owners: dict[str, str] = {}
    for path in deck_files(paths):
        deck, found = lint_file(path)
        errors.extend(found)
        if deck is None:
            continue
        for note in deck.notes:
            if note.id in owners:
                file, _, line = note.source.rpartition(":")
                errors.append(LintError(file, int(line), 1, f"card id '{note.id}' is already used at {owners[note.id]}"))
            owners[note.id] = note.source
    return errors
