"""The markup inside deck text: cloze gaps (``{{c1::...}}``) and math (``$...$``, ``$$...$$``).

Parsers return plain parts; what becomes of them (Unicode in the terminal,
MathJax in Anki, Typst on a sheet) is the output's business. ``render_math``
is the terminal's, kept here because the quiz and the linter both need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def revealed(text: str) -> str:
    """The cloze text with every gap shown."""
    return "".join(p.content if isinstance(p, Gap) else p for p in parse_cloze(text))


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


def math_problems(text: str) -> list[tuple[str, str]]:
    """What is wrong with the math in ``text``: ``("unbalanced", why)`` or ``("render", why)`` per problem."""
    from dlstudy.mathtext.unicode import latex_to_unicode

    try:
        segments = math_segments(text)
    except ValueError as exc:
        return [("unbalanced", str(exc))]
    problems = []
    for _, latex in segments:
        try:
            latex_to_unicode(latex.strip())
        except ValueError as exc:
            problems.append(("render", str(exc)))
    return problems


def render_math(text: str) -> str:
    """Text with every $...$ segment rendered as Unicode for the terminal."""
    from dlstudy.mathtext.unicode import latex_to_unicode

    return "".join(content if kind == "text" else latex_to_unicode(content) for kind, content in split_math(text))
