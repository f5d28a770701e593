"""The sheet formats ``--format`` offers: one module per format, registered here in the order they are listed.

A new format is a module that builds a ``model.SheetFormat`` (a name, a file
suffix, a renderer and an encoder) and one ``register`` line below.
"""

from __future__ import annotations

from dlstudy.output.sheets import latex, markdown, typst
from dlstudy.output.sheets.model import SheetFormat

_REGISTRY: dict[str, SheetFormat] = {}


def register(fmt: SheetFormat) -> SheetFormat:
    """Add ``fmt`` under its name; a name or suffix already taken raises ValueError."""
    if fmt.name in _REGISTRY or any(f.suffix == fmt.suffix for f in _REGISTRY.values()):
        raise ValueError(f"duplicate sheet format {fmt.name!r} ({fmt.suffix})")
    _REGISTRY[fmt.name] = fmt
    return fmt


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get(name: str) -> SheetFormat:
    return _REGISTRY[name]


def by_suffix(suffix: str) -> SheetFormat | None:
    """The format whose files end in ``suffix`` (lowercase, with the dot), if any."""
    return next((f for f in _REGISTRY.values() if f.suffix == suffix), None)


register(typst.FORMAT)
register(latex.FORMAT)
register(markdown.FORMAT)
