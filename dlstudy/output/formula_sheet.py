"""Formula sheets: the decks' formula cards and derivations, grouped by topic, to PDF or Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from dlstudy.cards import kinds
from dlstudy.mathtext.markup import split_math
from dlstudy.cards.model import Deck, Note
from dlstudy.errors import DlstudyError
from dlstudy.files import write_atomic
from dlstudy.output.markup import Part, markdown_parts, md_text, typst_parts, typst_text
from dlstudy.suggest import did_you_mean


@dataclass(frozen=True)
class Entry:
    """One item of a formula sheet: what it is, and the formula (text with math)."""

    label: tuple[Part, ...]
    body: tuple[tuple[Part, ...], ...]  # one or more lines


@dataclass(frozen=True)
class Topic:
    deck: str
    title: str
    entries: tuple[Entry, ...]


def parts_of(text: str) -> tuple[Part, ...]:
    """Text and math parts (display math is set like inline math on a formula sheet)."""
    return tuple(("text" if kind == "text" else "math", content) for kind, content in split_math(text) if content.strip())


# A formula states something: an equation, an approximation, a bound, a proportionality, a mapping.
_RELATION = re.compile(r"=|<|>|\\(?:approx|leq?|geq?|propto|sim|to|mapsto|equiv|neq?|leftarrow|gets)(?![A-Za-z])")
_QUESTION = re.compile(
    r"^(?:what(?:'s| is| are| does)?|which|how (?:many|much|is|are|do|does)|give|write|state|name|derive|show that|"
    r"prove(?: that)?|compute|type)\b\s*(?:the\s+)?",
    re.I,
)
MAX_LABEL = 48  # characters of a label; a crib sheet names a formula, it does not ask about it


# A symbol set to or compared with a number (k = 2, x < 0, \beta = 0.75): an example's value, not a formula.
_VALUE = re.compile(r"^[\s\w\\{}^_'()]{1,16}(?:=|<|>|\\le|\\ge|\\approx)\s*-?[\d.]+(?:/[\d.]+)?(?:\\%)?\s*$")


# A relation with nothing on one side: "fan_in $= c_{in} k^2$" (the left side is the word before it),
# "$\alpha =$ 0.01" (the right side is outside the math: an example value).
_OPEN_LEFT = re.compile(r"^\s*(?:" + _RELATION.pattern + ")")
_OPEN_RIGHT = re.compile(r"(?:" + _RELATION.pattern + r")\s*$")
_LAST_WORD = re.compile(r"([A-Za-z][\w-]*)\s*$")
_NOT_A_NAME = {"is", "are", "was", "be", "so", "then", "and", "or", "it", "which", "that", "this", "to", "of", "the",
               "a", "an", "each", "also", "always", "here", "now", "gives", "becomes", "equals"}


def _states_something(math: str) -> bool:
    """A relation with its right side inside the math, and not an example value ($k = 2$)."""
    return bool(_RELATION.search(math)) and not _VALUE.match(math) and not _OPEN_RIGHT.search(math)


def formulas_in(text: str) -> list[str]:
    """The math of ``text`` that states something (has a relation); fragments such as $c_{in}$ and example values
    such as $k = 2$ are left out. A formula whose left side is the word before it ("Precision $= \\frac{TP}{TP + FP}$")
    gets that word as its left side."""
    parts = split_math(text)
    found = []
    conditions: set[int] = set()  # parts that are the condition of the formula before them
    for index, (kind, content) in enumerate(parts):
        if kind == "text" or not _states_something(content):
            continue
        if _OPEN_LEFT.match(content):
            before = parts[index - 1][1] if index and parts[index - 1][0] == "text" else ""
            word = _LAST_WORD.search(before)
            if word is not None and word.group(1).lower() not in _NOT_A_NAME:  # else the label says what is bounded: "1-NN error: $\le 2R^*$"
                content = "\\text{" + word.group(1).replace("_", "\\_") + "} " + content.strip()
        condition = parts[index + 1 : index + 3]
        # "for $y = 0$ and $y = 1$": a list of conditions, not one
        listed = (index + 4 < len(parts) and re.fullmatch(r"\s*(?:and|or|,)\s*", parts[index + 3][1])
                  and _RELATION.search(parts[index + 4][1]))
        if (len(condition) == 2 and condition[0][0] == "text" and condition[0][1].strip() in _CONDITION_WORDS
                and condition[1][0] != "text" and _INEQUALITY.search(condition[1][1]) and not listed):
            # "$f(x) = x$ for $x > 0$": a case of a formula holds only under its condition
            content = f"{content.strip()} \\quad \\text{{{condition[0][1].strip()}}}\\ {condition[1][1].strip()}"
            conditions.add(index + 2)
        if index not in conditions:
            found.append(content)
    return found


_CONDITION_WORDS = ("for", "if", "when", "where")
# a case's condition is a range ("for $x > 0$"); "for $y = 0$ or $1$" or "for $\beta_1 = 0.9$" is not one case
_INEQUALITY = re.compile(r"<|>|\\(?:leq?|geq?|neq?)(?![A-Za-z])")


def label_of(question: str) -> tuple[Part, ...]:
    """A short name for a formula from the card's question: "Output height of a convolution"."""
    label: list[Part] = []
    length = 0
    for kind, content in parts_of(question.strip().replace("`", "")):
        if kind == "text":
            if not label:
                content = _QUESTION.sub("", content.lstrip())
            content = re.sub(r" \([^()$]*\)", "", content)  # "a vanilla (Elman) RNN": an aside, not the name
            cut = re.search(r"[?:]| \(|, (?:input|given|with)\b", content)
            if cut:
                content = content[: cut.start()]
            if length + len(content) > MAX_LABEL:
                content = content[: MAX_LABEL - length].rsplit(" ", 1)[0] + "…"
                cut = True
            if content.strip():
                label.append(("text", content))
                length += len(content)
            if cut:
                break
        elif len(content) < 30:
            label.append(("math", content))
            length += 3
        else:
            break
    if label and label[0][0] == "text":
        words = label[0][1].lstrip()  # the space before a formula that follows stays
        label[0] = ("text", words[:1].upper() + words[1:])
    if label and label[-1][0] == "text":
        label[-1] = ("text", label[-1][1].rstrip(" .,;"))
    return tuple(label)


def entry_of(note: Note) -> Entry | None:
    """The note's formulas, as its kind gives them (formula-tagged cards and every derivation): only the math
    that states something, under a short label; a derivation as its chain of steps. None when it has none."""
    formula = kinds.get(note.kind).formula(note)
    if formula is None:
        return None
    if note.kind == "derivation":
        chain = [f for step in note.fields["steps"] for f in formulas_in(step)]
        # the chain flows on as one paragraph: a column is narrow, a line per step would be mostly blank
        line: list[Part] = []
        for i, formula_text in enumerate(chain):
            line.extend(((("text", " ⇒ "),) if i else ()) + (("math", formula_text),))
        lines = (tuple(line),) if line else ()
    else:
        opening = _opening_expression(formula.lines[0]) if formula.lines and formula.label[:3].lower() != "why" else None
        found = [opening] if opening else []
        found += [f for line in formula.lines for f in formulas_in(line)]
        lines = tuple((("math", f),) for f in found)
    if not lines:
        return None  # a prose answer: not a crib-sheet entry
    return Entry(label_of(formula.label) if formula.label else _label_from_lead(formula.lines[0]), lines)


def _opening_expression(answer: str) -> str | None:
    """An answer that opens with an expression (no relation) is the formula its question names: "Tanh
    approximation of GELU?" "$0.5x(1 + \\tanh(...))$"; a symbol or a short term ($w$, $k^2$) is not."""
    parts = split_math(answer.strip())
    if parts and parts[0][0] != "text" and len(parts[0][1]) >= 12 and not _RELATION.search(parts[0][1]):
        return parts[0][1]
    return None


_LEAD = re.compile(r"^(?:for|in|with|on)\b\s*(?:an?\s+|the\s+)?", re.I)
# words that lead into a formula rather than name it: "the score is", "scores a neighbour with"
_TRAILING = re.compile(
    r"(?:\s+(?:is|are|as|has|have|gives?|uses?|equals?|becomes|computes?|costs?|reads?|then|with|for|of|and|to|by|from|the|an?))+\s*$"
)


def _label_from_lead(text: str) -> tuple[Part, ...]:
    """A label for a formula stated in a sentence (a cloze card has no question): the words before its first
    formula, "Leaky ReLU: $f(x) = ...$" -> "Leaky ReLU", "In a GRU the new state is $...$" -> "GRU"."""
    lead = []
    for kind, content in split_math(text):
        if kind != "text" and _states_something(content):
            break  # the first formula (one without its left side, "Precision $= ...$", is named by the words before)
        lead.append(content if kind == "text" else f"${content}$")
    text = "".join(lead).strip()
    words = _LEAD.sub("", text)
    if words != text and " the " in words:  # "In a GRU the reset gate is": the setting names it, "GRU"
        words = words[: words.index(" the ")]
    words = _TRAILING.sub("", words)
    label: list[Part] = []
    length = 0
    for kind, content in label_of(words) if words else ():
        length += len(content)
        if length > MAX_LABEL and label:  # a sentence's lead may hold several formulas: keep a name's worth
            label.append(("text", "…"))
            break
        label.append((kind, content))
    return tuple(label)


def collect(decks: Sequence[Deck], topics: Sequence[str]) -> list[Topic]:
    """Topics (deck names or deck topics) in deck order; all decks with formulas when none are named."""
    names = {d.name for d in decks} | {d.topic for d in decks}
    for word in topics:
        if word not in names:
            hint = did_you_mean(word, sorted(names))
            raise DlstudyError(f"unknown topic '{word}'{hint} (topics: {', '.join(sorted(d.name for d in decks))})")
    chosen = [d for d in decks if not topics or d.name in topics or d.topic in topics]
    result = []
    for deck in chosen:
        entries, seen = [], set()
        for entry in (entry_of(n) for n in deck.notes):
            if entry is not None and entry.body not in seen:  # the same formula on two cards: once
                seen.add(entry.body)
                entries.append(entry)
        if entries:
            result.append(Topic(deck.name, deck.short_title, tuple(entries)))
    if not result:
        raise DlstudyError("the chosen decks have no formula cards (tag a card `formula`) or derivations")
    return result


# ---------------------------------------------------------------------------
# Output

_TYPST_PREAMBLE = """\
#set document(title: "Formula sheet", date: none)
#set page(paper: "a4", margin: (x: 0.9cm, y: 0.9cm), columns: 3,
  footer: context text(size: 6pt, fill: luma(90))[dlstudy formula sheet #h(1fr) #counter(page).display()])
#set columns(gutter: 0.45cm)
#set text(font: "New Computer Modern", size: 7pt, lang: "en")
#set par(justify: false, leading: 0.35em, spacing: 0.35em)
#show math.equation: set text(size: 7.5pt)
#let topic(title) = block(sticky: true, above: 0.7em, below: 0.3em, width: 100%,
  stroke: (bottom: 0.4pt + luma(120)), inset: (bottom: 1.5pt), text(size: 8pt, weight: "bold", title))
#let item(label, body) = block(breakable: false, above: 0.25em, below: 0.25em)[#text(weight: "bold", label) #body]
"""


def typst_document(topics: Sequence[Topic]) -> str:
    """Every topic's formulas flowing through three columns: a crib sheet, not a deck dump."""
    out = [_TYPST_PREAMBLE]
    for topic in topics:
        out.append(f"#topic[{typst_text(topic.title)}]")
        for entry in topic.entries:
            label = typst_parts(entry.label) + typst_text(": ") if entry.label else ""
            body = " \\ ".join(typst_parts(line) for line in entry.body)
            out.append(f"#item[{label}][{body}]")
    return "\n".join(out) + "\n"


def markdown_document(topics: Sequence[Topic]) -> str:
    lines = ["# Formula sheet", ""]
    for topic in topics:
        lines += [f"## {md_text(topic.title)}", ""]
        for entry in topic.entries:
            label = markdown_parts(entry.label)
            body = " ".join(markdown_parts(line) for line in entry.body)
            lines.append(f"- **{label}:** {body}" if label else f"- {body}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class FormulaSheet:
    path: Path
    format: str
    topics: tuple[str, ...]
    entries: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "format": self.format, "topics": list(self.topics), "entries": self.entries}


def write_formula_sheet(decks: Sequence[Deck], topics: Sequence[str], fmt: str, output: Path | None) -> FormulaSheet:
    """Write the sheet; returns where and what."""
    if fmt not in ("pdf", "md"):
        raise DlstudyError(f"--format must be pdf or md, not {fmt!r}")
    chosen = collect(decks, topics)
    path = output or Path(f"formulas{'-' + '-'.join(topics) if topics else ''}.{fmt}")
    if path.suffix != f".{fmt}":
        raise DlstudyError(f"output {path} should end in .{fmt} for --format {fmt}")
    if path.parent and not path.parent.exists():
        raise DlstudyError(f"folder {path.parent} does not exist")
    if fmt == "md":
        data = markdown_document(chosen).encode("utf-8")
    else:
        from dlstudy.output.typstmath import compile_pdf

        data = compile_pdf(typst_document(chosen))
    write_atomic(path, data)
    return FormulaSheet(path, fmt, tuple(t.deck for t in chosen), sum(len(t.entries) for t in chosen))
