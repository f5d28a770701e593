"""Text with inline math: ``$...$`` (inline) and ``$$...$$`` (display) segments, ``\\$`` for a dollar sign.

Statements, step labels and parameter descriptions of templates, and the text
of deck cards, are all written this way; the printer renders each math
segment in the output's style.  ``{name}`` placeholders (template values) are
found here too: outside math anywhere, inside math only where they are not
LaTeX grouping (after ``_``, ``^``, ``}`` or a ``\\command`` a brace group is
LaTeX's, so ``x_{t}`` and ``\\frac{n}{s}`` stay formulas).
"""

from __future__ import annotations

import re
from functools import lru_cache

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Commands that take no argument (operators, spaces): a brace group after them is a placeholder, as in
# $h \times w = {h} \times {w}$.
_NO_ARGUMENT = "times|cdot|div|pm|mp|le|ge|leq|geq|ne|neq|approx|to|quad|qquad|ldots|cdots|dots|in|mid|sim"
_GROUPING = re.compile(r"(?:[_^}]|\\(?!(?:" + _NO_ARGUMENT + r")(?![A-Za-z]))[A-Za-z]+)\s*$")


# A scan stops at an escaped character (skipped whole: ``\$`` is a dollar sign), the dollar that opens math
# or the delimiter that closes it; a regex finds the next one in C rather than a loop char by char.
_OPENING = re.compile(r"\\[\s\S]|\$")
_CLOSING = {"$": _OPENING, "$$": re.compile(r"\\[\s\S]|\$\$")}


def math_segments(text: str) -> list[tuple[int, str]]:
    """(offset, LaTeX) of every math segment; ValueError names the unclosed '$'."""
    segments = []
    found = _unescaped(_OPENING, text, 0)
    while found is not None:
        i = found.start()
        delimiter = "$$" if text.startswith("$$", i) else "$"
        start = i + len(delimiter)
        closing = _unescaped(_CLOSING[delimiter], text, start)
        if closing is None:
            raise ValueError(
                f"'{delimiter}' at character {i + 1} is not closed; close it with '{delimiter}' "
                "or write \\$ for a dollar sign"
            )
        segments.append((i, text[start : closing.start()]))
        found = _unescaped(_OPENING, text, closing.end())
    return segments


def _unescaped(pattern: re.Pattern, text: str, at: int) -> re.Match | None:
    """The first match of ``pattern`` from ``at`` on that is not an escaped character."""
    found = pattern.search(text, at)
    while found is not None and found.group()[0] == "\\":
        found = pattern.search(text, found.end())
    return found


def split_math(text: str) -> list[tuple[str, str]]:
    """``("text", words)``, ``("math", LaTeX)`` and ``("display", LaTeX)`` parts, in order.

    ``\\$`` in the text parts is already a plain dollar sign; empty parts are left out.
    """
    return list(_split_math(text))


# Sized, like _placeholders, for the ~5,000 distinct texts of the built-in decks and templates (4096 thrashed).
@lru_cache(maxsize=16384)
def _split_math(text: str) -> tuple[tuple[str, str], ...]:
    # The same statements and step labels are split for every variant: split each text once.
    parts: list[tuple[str, str]] = []
    last = 0
    for offset, latex in math_segments(text):
        display = text.startswith("$$", offset)
        parts.append(("text", text[last:offset].replace("\\$", "$")))
        parts.append(("display" if display else "math", latex.strip()))
        last = offset + (4 if display else 2) + len(latex)
    parts.append(("text", text[last:].replace("\\$", "$")))
    return tuple((kind, content) for kind, content in parts if content)


def placeholders(text: str, in_math: bool) -> list[re.Match]:
    """The ``{name}`` placeholders of a text part (``in_math``: of a math part, leaving LaTeX groups alone)."""
    return list(_placeholders(text, in_math))


@lru_cache(maxsize=16384)
def _placeholders(text: str, in_math: bool) -> tuple[re.Match, ...]:
    found = []
    for match in PLACEHOLDER.finditer(text):
        if in_math and _GROUPING.search(text[: match.start()]):
            continue
        found.append(match)
    return tuple(found)


def placeholder_names(text: str) -> list[str]:
    """Every placeholder name in a text with math, in order."""
    names = []
    for kind, content in split_math(text):
        names.extend(m.group(1) for m in placeholders(content, in_math=kind != "text"))
    return names
