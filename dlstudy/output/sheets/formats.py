"""The sheet formats ``--format`` offers: one module per format, registered here in the order they are listed.

A new format is a module that builds a ``model.SheetFormat`` (a name, a file
suffix, a renderer and an encoder) and one ``register`` line below.
"""

from __future__ import annotations

from dlstudy.output.sheets import latex, markdown, typst
from dlstudy.output.sheets.model import SheetFormat
from dlstudy.registry import Registry

_FORMATS: Registry[SheetFormat] = Registry("sheet format")


def register(fmt: SheetFormat) -> SheetFormat:
    """Add ``fmt`` under its name; a name or suffix already taken raises ValueError."""
    if by_suffix(fmt.suffix) is not None:
        raise ValueError(f"duplicate sheet format {fmt.name!r} ({fmt.suffix})")
    return _FORMATS.add(fmt.name, fmt)


def names() -> tuple[str, ...]:
    return _FORMATS.names()


def get(name: str) -> SheetFormat:
    return _FORMATS.get(name)


def by_suffix(suffix: str) -> SheetFormat | None:
    """The format whose files end in ``suffix`` (lowercase, with the dot), if any."""
    return next((f for f in _FORMATS if f.suffix == suffix), None)


register(typst.FORMAT)
register(latex.FORMAT)
register(markdown.FORMAT)
