"""Formula sheets: the decks' formula cards and derivations, grouped by topic, to PDF or Markdown."""

from __future__ import annotations

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


def entry_of(note: Note) -> Entry | None:
    """The note's formula, as its kind gives it (formula-tagged cards and every derivation); None for others."""
    formula = kinds.get(note.kind).formula(note)
    if formula is None:
        return None
    return Entry(parts_of(formula.label), tuple(parts_of(line) for line in formula.lines))


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
        entries = tuple(e for e in (entry_of(n) for n in deck.notes) if e is not None)
        if entries:
            result.append(Topic(deck.name, deck.title, entries))
    if not result:
        raise DlstudyError("the chosen decks have no formula cards (tag a card `formula`) or derivations")
    return result


# ---------------------------------------------------------------------------
# Output

_TYPST_PREAMBLE = """\
#set document(title: "Formula sheet", date: none)
#set page(paper: "a4", margin: (x: 1.3cm, y: 1.3cm), columns: 2,
  footer: context text(size: 7pt, fill: luma(90))[dlstudy formula sheet #h(1fr) #counter(page).display()])
#set columns(gutter: 0.8cm)
#set text(font: "New Computer Modern", size: 8.5pt, lang: "en")
#set par(justify: false, leading: 0.5em, spacing: 0.55em)
#let topic(title) = {
  colbreak(weak: true)
  block(sticky: true, above: 0.4em, below: 0.6em, text(size: 12pt, weight: "bold", title))
}
#let item(label, body) = block(breakable: false, below: 0.55em)[#text(weight: "bold", label) #h(0.3em) #body]
"""


def typst_document(topics: Sequence[Topic]) -> str:
    out = [_TYPST_PREAMBLE]
    for index, topic in enumerate(topics):
        if index:
            out.append("#pagebreak(weak: true)")
        out.append(f"#topic[{typst_text(topic.title)}]")
        for entry in topic.entries:
            body = " \\ ".join(typst_parts(line) for line in entry.body)
            out.append(f"#item[{typst_parts(entry.label)}][{body}]")
    return "\n".join(out) + "\n"


def markdown_document(topics: Sequence[Topic]) -> str:
    lines = ["# Formula sheet", ""]
    for topic in topics:
        lines += [f"## {md_text(topic.title)}", ""]
        for entry in topic.entries:
            label = markdown_parts(entry.label)
            body = "<br>".join(markdown_parts(line) for line in entry.body)
            lines.append(f"- **{label}** {body}" if label else f"- {body}")
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
