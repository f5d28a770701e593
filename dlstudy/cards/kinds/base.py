"""What a card kind is: the keys a note of it has, how they are checked, what it yields and shows."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable, Protocol

import numpy as np

from dlstudy.cards.content import Content, Formula
from dlstudy.cards.model import Card, Note
from dlstudy.cards.prompts import Prompt


class NoteReader(Protocol):
    """A note's YAML mapping as the linter hands it to a kind; every problem found is reported, located, through it.

    Unknown keys and missing ``required`` keys are reported before ``CardKind.read`` runs.
    """

    def raw(self, key: str) -> Any:
        """The value as YAML read it, or None when the key is absent."""

    def text(self, key: str, math: bool = False) -> str:
        """The value as text ("" when absent or not text); with ``math``, its $...$ must render."""

    def math(self, key: str, text: str) -> None:
        """Report ``text`` (part of ``key``'s value) if its $...$ math is unbalanced or does not render."""

    def flag(self, key: str) -> bool:
        """A true/false value (false when absent)."""

    def problem(self, key: str | None, message: str) -> None:
        """Report a problem at ``key``'s value (or at the note itself)."""


class Asking(Protocol):
    """What a kind may use to make a prompt: the session's random generator and its background solver."""

    rng: np.random.Generator

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future: ...


class CardKind:
    """One kind of note. Subclass it, set ``name``, ``keys`` and ``required``, and implement
    ``read``, ``prompt`` and ``content``; override ``cards`` and ``formula`` where the defaults don't fit.
    """

    name: str = ""
    keys: tuple[str, ...] = ()  # the kind's own keys, besides id, kind, tags and related
    required: tuple[str, ...] = ()

    def read(self, note: NoteReader) -> dict[str, Any]:
        """The note's fields (JSON-able values), checked; problems go to ``note.problem``."""
        raise NotImplementedError

    def cards(self, note: Note) -> list[Card]:
        """The cards to review; ids must be stable (``note-id``, ``note-id::suffix``)."""
        return [Card(note.id, note)]

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        """What the quiz asks for one review of ``card``."""
        raise NotImplementedError

    def content(self, note: Note) -> Content:
        """The note in a shape every output renders (Anki, CSV)."""
        raise NotImplementedError

    def formula(self, note: Note) -> Formula | None:
        """The note's entry on a formula sheet, if it has one."""
        return None
