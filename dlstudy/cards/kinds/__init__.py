"""The card-kind registry, and one module per kind.

A kind (``base.CardKind``) says which keys its notes have and how they are
checked, which cards a note yields, what the quiz asks, and what the note
holds in the generic shapes of ``dlstudy.cards.content`` that every output
renders. Nothing else in dlstudy branches on a kind's name.

Names resolve only here: a deck's ``kind: cloze`` is looked up in this
registry, never turned into an import path. To add a kind, write
``kinds/<name>.py`` with a ``CardKind`` subclass and ``KIND = <that
class>()`` at its end, and add the module's name to ``MODULES``. Code outside
dlstudy (a plugin, a test) calls ``register`` with its own kind.
"""

from __future__ import annotations

from dlstudy.cards.kinds.base import CardKind
from dlstudy.cards.model import Card, Note
from dlstudy.registry import Registry

# The built-in kinds: each module's KIND, registered in this order (the order they are listed to users).
MODULES = ("basic", "cloze", "typed", "derivation", "problem")

_KINDS: Registry[CardKind] = Registry("card kind", __name__, MODULES, on_import=lambda module: _add(module.KIND))


def register(kind: CardKind) -> CardKind:
    """Add ``kind`` under ``kind.name``; a name already taken (by a built-in kind too) raises ValueError."""
    _KINDS.load()
    return _add(kind)


def _add(kind: CardKind) -> CardKind:
    if not kind.name:
        raise ValueError(f"{type(kind).__name__} has no name")
    return _KINDS.add(kind.name, kind)


def unregister(name: str) -> None:
    """Remove a kind (tests register toy kinds and take them out again)."""
    _KINDS.remove(name)


def names() -> tuple[str, ...]:
    return _KINDS.names()


def exists(name: str) -> bool:
    return name in _KINDS


def get(name: str) -> CardKind:
    return _KINDS.get(name)


def cards_of(note: Note) -> list[Card]:
    return get(note.kind).cards(note)
