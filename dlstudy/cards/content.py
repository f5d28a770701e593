"""What a note holds, in shapes every output renders without knowing card kinds.

A card kind describes its notes with these (``CardKind.content``,
``CardKind.formula``); the Anki export, the CSV table and the formula sheet
render the shapes. A new kind that fits them needs no change in any output.
All text is deck text: words with ``$...$`` math, except ``Literal``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """Words with $...$ math."""

    text: str


@dataclass(frozen=True)
class Literal:
    """Shown exactly as written and set off (a typed card's key): no math inside."""

    text: str


@dataclass(frozen=True)
class Steps:
    """Numbered lines, each words with $...$ math."""

    lines: tuple[str, ...]


Block = Text | Literal | Steps


@dataclass(frozen=True)
class Sides:
    """A question and its answer; ``reverse`` asks back -> front too (a second card)."""

    front: tuple[Block, ...]
    back: tuple[Block, ...]
    reverse: bool = False


@dataclass(frozen=True)
class ClozeText:
    """Text with {{cN::...}} gaps (one card per gap number) and extra text shown with the answer."""

    text: str
    extra: str = ""


@dataclass(frozen=True)
class ProblemRef:
    """A problem template: outputs show seeded variants of it, with the engine's answer and worked solution."""

    template: str


Content = Sides | ClozeText | ProblemRef


@dataclass(frozen=True)
class Formula:
    """A formula-sheet entry: what it is, then one or more lines (words with $...$ math)."""

    label: str
    lines: tuple[str, ...]

