"""The markup inside deck text: cloze gaps (``{{c1::...}}``) and math (``$...$``, ``$$...$$``).

Parsers return plain parts; what becomes of them (Unicode in the terminal,
MathJax in Anki, Typst on a sheet) is the output's business. ``render_math``
is the terminal's, kept here because the quiz and the linter both need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlstudy.mathtext.markup import math_segments, split_math

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
