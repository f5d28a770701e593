"""Lines of text and math (a statement, a step label, a worked step, a card side) as tuples of *pieces*,
and their rendering in either style of ``printer``.

The engine builds a line once (it decides what a step shows); every output renders the same pieces:

* ``Text(words)``: plain words;
* ``Formula(latex)``: LaTeX written by a template or deck author;
* ``Expression(node, values)``: a formula tree, with known scalars substituted;
* ``Value(value, sigfigs)``: a number, vector, matrix or shape;
* ``Inline(value)``: a value inside a sentence (a plain number or a word stays text when typeset);
* ``MathText(latex, values)``: an author's LaTeX with ``{name}`` placeholders filled in;
* ``Chain(items)``: math items joined by "=".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from dlstudy.mathtext import latex as tex
from dlstudy.mathtext.expr import Node
from dlstudy.mathtext.numbers import DISPLAY_SIGFIGS, format_value
from dlstudy.mathtext.printer import LATEX, UNICODE, expression, formula, value


@dataclass(frozen=True)
class Text:
    words: str


@dataclass(frozen=True)
class Formula:
    latex: str


@dataclass(frozen=True)
class Expression:
    node: Node
    values: Mapping[str, Any] | None = None
    symbols: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Value:
    value: Any
    sigfigs: int = DISPLAY_SIGFIGS


@dataclass(frozen=True)
class Inline:
    value: Any


@dataclass(frozen=True)
class MathText:
    """LaTeX written by an author, with ``{name}`` placeholders for values (see ``mathtext.markup``)."""

    latex: str
    values: Mapping[str, Any] = field(default_factory=dict)
    display: bool = False


MathItem = Union[Formula, Expression, Value]


@dataclass(frozen=True)
class Chain:
    """Math items joined by '=': the substituted formula, then its value."""

    items: tuple[MathItem, ...]


Piece = Union[Text, Formula, Expression, Value, Inline, MathText, Chain]
Part = tuple[str, str]  # ("text", words) or ("math", math in the style)


def _math(item: MathItem, style: str) -> str:
    if isinstance(item, Formula):
        return formula(item.latex, style)
    if isinstance(item, Expression):
        return expression(item.node, style, item.values, item.symbols)
    return value(item.value, style, item.sigfigs)


def parts(pieces: tuple[Piece, ...], style: str) -> tuple[Part, ...]:
    """The pieces as ("text", ...) and ("math", ...) parts in ``style``."""
    out: list[Part] = []
    for piece in pieces:
        if isinstance(piece, Text):
            out.append(("text", piece.words))
        elif isinstance(piece, Inline):
            out.append(_inline(piece.value, style))
        elif isinstance(piece, MathText):
            out.append(("display" if piece.display and style != UNICODE else "math", _math_text(piece, style)))
        elif isinstance(piece, Chain):
            out.append(("math", " = ".join(_math(item, style) for item in piece.items)))
        else:
            out.append(("math", _math(piece, style)))
    merged: list[Part] = []
    for kind, content in out:
        if not content:
            continue
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + content)
        else:
            merged.append((kind, content))
    return tuple(merged)


def _inline(v: Any, style: str) -> Part:
    """A value inside a sentence: words, shapes and plain numbers stay text; arrays, negative and
    scientific numbers are typeset."""
    if isinstance(v, Node.__args__):
        return ("math", expression(v, style))
    shown = format_value(v)
    if style == UNICODE or isinstance(v, (str, tuple)):
        return ("text", shown)
    if getattr(v, "ndim", 0) == 0:
        return ("math", tex.number_text(shown)) if shown.startswith("-") or "e" in shown else ("text", tex.number_text(shown).replace(r"\,", "\u2009"))
    return ("math", _value_in_math(v, style))


def _math_text(piece: MathText, style: str) -> str:
    from dlstudy.mathtext.markup import placeholders

    shown: list[str] = []

    def hold(match) -> str:
        name = match.group(1)
        if name not in piece.values:
            return match.group(0)
        shown.append(_value_in_math(piece.values[name], style))
        return rf"\text{{QZ{len(shown) - 1}QZ}}" if style == UNICODE else f"{{{shown[-1]}}}"

    latex, last = [], 0
    for match in placeholders(piece.latex, in_math=True):
        latex.append(piece.latex[last:match.start()])
        latex.append(hold(match))
        last = match.end()
    latex.append(piece.latex[last:])
    source = "".join(latex)
    if style == LATEX:
        return source
    text = formula(source, UNICODE)
    for index, value_text in enumerate(shown):
        text = text.replace(f"QZ{index}QZ", value_text)
    return text


def _value_in_math(v: Any, style: str) -> str:
    """A value inside an author's formula: a vector inline as (a, b, c), a matrix displayed, an expression
    (a graph parameter) as a formula."""
    if isinstance(v, Node.__args__):
        return expression(v, style)
    if style == UNICODE:
        return format_value(v)
    if isinstance(v, str):
        return tex.text(v)
    if not isinstance(v, tuple) and getattr(v, "ndim", None) == 1:  # a list inside a sentence stays on the line
        return r"\left(" + r",\ ".join(tex.column(v)) + r"\right)"
    if hasattr(v, "words"):
        return tex.text(str(v))
    return tex.value(v)


def text_pieces(text: str, values: Mapping[str, Any] | None = None) -> tuple[Piece, ...]:
    """Pieces of a text with ``$...$`` math and ``{name}`` placeholders (a statement, a step label, a card)."""
    from dlstudy.mathtext.markup import placeholders, split_math

    values = values or {}
    pieces: list[Piece] = []
    for kind, content in split_math(text):
        if kind != "text":
            pieces.append(MathText(content, values, display=kind == "display"))
            continue
        last = 0
        for match in placeholders(content, in_math=False):
            if match.group(1) not in values:
                continue
            if match.start() > last:
                pieces.append(Text(content[last:match.start()]))
            value = values[match.group(1)]
            if isinstance(value, str) and "$" in value:  # a phrase with math of its own
                pieces.extend(text_pieces(value))
            else:
                pieces.append(Inline(value))
            last = match.end()
        if last < len(content):
            pieces.append(Text(content[last:]))
    return tuple(pieces)


def line(pieces: tuple[Piece, ...]) -> str:
    """The pieces as one line of terminal text."""
    return "".join(content for _, content in parts(pieces, UNICODE))
