"""Export decks to Anki (``dlstudy export anki``): one .apkg, built with genanki (imported inside the function).

- every dlstudy note is one Anki note, chosen by the shape its kind gives it
  (``dlstudy.cards.content``): sides -> "Basic (dlstudy)", or with ``reverse``
  "Basic (and reversed card) (dlstudy)" (two cards); cloze text -> "Cloze
  (dlstudy)" (one card per gap number); a problem -> ``variants`` basic notes
  built by dlstudy's engine from the fixed seeds 1..N, each showing its seed so
  ``dlstudy generate ID --seed S`` reproduces it;
- math ``$...$`` / ``$$...$$`` becomes MathJax ``\\(...\\)`` / ``\\[...\\]``
  (``html_field``); cloze gaps stay ``{{c1::...}}``, with ``}}`` inside a gap
  spaced apart so Anki's parser keeps the gap whole (``anki_cloze``);
- note GUIDs are ``genanki.guid_for("dlstudy", note id)`` (problem variants:
  ``guid_for("dlstudy", note id, seed)``), and note-type and deck ids are hashes
  of fixed strings (``stable_id``), so importing an updated export into Anki
  updates the notes instead of duplicating them.

Nothing here prints: functions return data or write the file they are asked to.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from dlstudy.cards import kinds
from dlstudy.cards.content import Block, ClozeText, Literal, ProblemRef, Sides, Steps
from dlstudy.cards.decks import choose_decks
from dlstudy.cards.markup import Gap, parse_cloze
from dlstudy.mathtext.markup import split_math
from dlstudy.cards.model import Deck, Note
from dlstudy.errors import DlstudyError

DEFAULT_VARIANTS = 3
MAX_VARIANTS = 100
DECK_PREFIX = "dlstudy::"


def stable_id(key: str) -> int:
    """A note-type or deck id derived from a fixed string: the same on every export, in [2^30, 2^31)."""
    digest = hashlib.sha256(f"dlstudy:{key}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_guid(note_id: str, seed: int | None = None) -> str:
    import genanki

    return genanki.guid_for("dlstudy", note_id) if seed is None else genanki.guid_for("dlstudy", note_id, seed)


# ---------------------------------------------------------------------------
# Text -> Anki field HTML


def html_field(text: str) -> str:
    """Deck text as an Anki field: ``$...$`` -> ``\\(...\\)``, ``$$...$$`` -> ``\\[...\\]``, the rest HTML-escaped.

    The LaTeX is kept as written; only ``&``, ``<`` and ``>`` become entities
    (the browser turns them back into characters before MathJax reads them),
    so ``a < b`` or a matrix's ``&`` survive. ``\\$`` outside math is a dollar
    sign, and a line break is ``<br>``.
    """
    out = []
    for kind, content in split_math(text):
        if kind == "text":
            out.append(_html_text(content))
        else:
            opening, closing = (r"\[", r"\]") if kind == "display" else (r"\(", r"\)")
            out.append(opening + _escape(content) + closing)
    return "".join(out)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _html_text(text: str) -> str:
    return _escape(text.replace("\\$", "$")).replace("\n", "<br>")


def _space_braces(text: str) -> str:
    """``}}`` -> ``} }`` (and a final ``}`` gets a space after it), so no ``}}`` ends a gap early."""
    text = re.sub(r"\}(?=\})", "} ", text)
    return text + " " if text.endswith("}") else text


def anki_cloze(text: str) -> str:
    """Cloze text as an Anki Cloze field: math as MathJax, gaps ``{{cN::content[::hint]}}`` kept whole.

    Anki ends a gap at the first ``}}``; dlstudy's gaps end only once their
    braces balance (``{{c2::\\hat{\\mathbf{x}}}}``). This is the one place that
    spaces such braces (``\\hat{\\mathbf{x} } }``), which MathJax ignores.
    """
    out = []
    for part in parse_cloze(html_field(text)):
        if isinstance(part, Gap):
            inner = _space_braces(part.content) + (f"::{_space_braces(part.hint)}" if part.hint else "")
            out.append(f"{{{{c{part.number}::{inner}}}}}")
        else:
            out.append(part)
    return "".join(out)


# ---------------------------------------------------------------------------
# dlstudy notes -> Anki notes (plain data)


@dataclass(frozen=True)
class AnkiNote:
    model: str  # "basic", "reversed" or "cloze"
    guid: str
    fields: tuple[str, str]
    tags: tuple[str, ...]
    note_id: str
    seed: int | None = None  # problem variants


MODEL_NAMES = {
    "basic": "Basic (dlstudy)",
    "reversed": "Basic (and reversed card) (dlstudy)",
    "cloze": "Cloze (dlstudy)",
}

CSS = """\
.card { font-family: -apple-system, "Segoe UI", Arial, sans-serif; font-size: 20px; text-align: left;
        color: black; background-color: white; max-width: 46em; margin: 0 auto; }
.nightMode.card, .night_mode .card { color: white; background-color: #2f2f31; }
.cloze { font-weight: bold; color: blue; }
.nightMode .cloze { color: lightblue; }
.source { font-size: 70%; color: gray; margin-top: 1em; }
.title { font-weight: bold; margin-bottom: 0.5em; }
ol.steps li { margin-bottom: 0.4em; }
"""


def _tags(note: Note) -> tuple[str, ...]:
    tags = [re.sub(r"\s+", "_", t.strip()) for t in note.tags if t.strip()]
    return tuple(dict.fromkeys([*tags, f"kind::{note.kind}"]))


def anki_notes(note: Note, variants: int = DEFAULT_VARIANTS) -> list[AnkiNote]:
    """The Anki notes for one dlstudy note (a problem note gives one per variant)."""
    tags = _tags(note)
    content = kinds.get(note.kind).content(note)
    if isinstance(content, Sides):
        model = "reversed" if content.reverse else "basic"
        fields = (_blocks_html(content.front), _blocks_html(content.back))
        return [AnkiNote(model, note_guid(note.id), fields, tags, note.id)]
    if isinstance(content, ClozeText):
        return [AnkiNote("cloze", note_guid(note.id), (anki_cloze(content.text), html_field(content.extra)), tags, note.id)]
    if isinstance(content, ProblemRef):
        return [problem_note(note, content.template, seed, tags) for seed in variant_seeds(variants)]
    raise AssertionError(f"{note.kind} notes have content of an unknown shape: {content!r}")


def _blocks_html(blocks: Sequence[Block]) -> str:
    """Blocks as one field: text as ``html_field``, a literal in bold, steps as a numbered list.

    Blocks are a blank line apart, except after a list (already a block of its own); empty text is left out.
    """
    out = []
    for block in blocks:
        if isinstance(block, Steps):
            html_block = '<ol class="steps">' + "".join(f"<li>{html_field(s)}</li>" for s in block.lines) + "</ol>"
        elif not block.text:
            continue
        elif isinstance(block, Literal):
            html_block = f"<b>{_escape(block.text)}</b>"
        else:
            html_block = html_field(block.text)
        if out and not out[-1][0]:
            out.append((False, "<br><br>"))
        out.append((isinstance(block, Steps), html_block))
    return "".join(text for _, text in out)


def variant_seeds(variants: int) -> list[int]:
    """The fixed seeds of the exported variants: 1..N (so --variants 5 keeps the first 3 of --variants 3)."""
    return list(range(1, variants + 1))


def _parts_html(parts: Sequence[tuple[str, str]]) -> str:
    return "".join(rf"\({_escape(content)}\)" if kind == "math" else _html_text(content) for kind, content in parts)


def problem_note(note: Note, template_id: str, seed: int, tags: tuple[str, ...]) -> AnkiNote:
    """One variant of a problem: statement in front; answer and worked solution (from the engine) on the back."""
    from dlstudy.engine import exercises
    from dlstudy.output.sheets import model as sheets

    variant, solution = exercises.generate(template_id, seed)
    template = variant.template
    front = f'<div class="title">{_escape(template.title)}</div>' + _parts_html(sheets.statement_parts(variant))
    if template.answer.kind == "choice":
        front += "<ol type=a>" + "".join(f"<li>{_escape(c)}</li>" for c in template.answer.choices) + "</ol>"
    front += (
        f'<div class="source">{_escape(template.id)}, seed {seed}: '
        f"<code>dlstudy generate {_escape(template.id)} --seed {seed}</code></div>"
    )
    answer = sheets.answer_parts(solution)
    back = f"<b>Answer:</b> {_parts_html(answer)}"
    if any(kind == "math" for kind, _ in answer):  # also as dlstudy prints it (and `dlstudy check` reads it)
        back += f' &nbsp;<span class="source">(typed: <code>{_escape(solution.answer_text)}</code>)</span>'
    back += '<br><b>Worked solution</b><ol class="steps">'
    for step in sheets.step_views(solution):
        back += f"<li>{_parts_html(step.what)}: \\({_escape(step.formula)}\\)<br>{_parts_html(step.work)}</li>"
    back += "</ol>"
    return AnkiNote("basic", note_guid(note.id, seed), (front, back), tags, note.id, seed)


# ---------------------------------------------------------------------------
# Writing the .apkg


@dataclass(frozen=True)
class AnkiExport:
    path: Path
    decks: tuple[str, ...]  # Anki deck names
    notes: int
    cards: int
    by_model: dict[str, int] = field(default_factory=dict)
    variants: int = DEFAULT_VARIANTS

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "decks": list(self.decks), "notes": self.notes, "cards": self.cards,
                "by_model": dict(self.by_model), "variants": self.variants}


def _models() -> dict[str, Any]:
    import genanki

    basic_fields = [{"name": "Front"}, {"name": "Back"}]
    answer = "{{FrontSide}}\n\n<hr id=answer>\n\n"
    return {
        "basic": genanki.Model(
            stable_id("model:basic:v1"), MODEL_NAMES["basic"], fields=basic_fields,
            templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": answer + "{{Back}}"}], css=CSS,
        ),
        "reversed": genanki.Model(
            stable_id("model:reversed:v1"), MODEL_NAMES["reversed"], fields=basic_fields,
            templates=[
                {"name": "Card 1", "qfmt": "{{Front}}", "afmt": answer + "{{Back}}"},
                {"name": "Card 2", "qfmt": "{{Back}}", "afmt": answer + "{{Front}}"},
            ],
            css=CSS,
        ),
        "cloze": genanki.Model(
            stable_id("model:cloze:v1"), MODEL_NAMES["cloze"], model_type=genanki.Model.CLOZE,
            fields=[{"name": "Text"}, {"name": "Back Extra"}],
            templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>\n{{Back Extra}}"}],
            css=CSS,
        ),
    }


def export_anki(decks: Sequence[Deck], path: Path, variants: int = DEFAULT_VARIANTS) -> AnkiExport:
    """Write ``decks`` as one Anki package at ``path`` (replaced atomically); returns what it holds."""
    import genanki

    path = Path(path)
    if path.suffix.lower() != ".apkg":
        raise DlstudyError(f"{path}: an Anki package must end in .apkg, e.g. -o dlstudy.apkg")
    if not path.parent.is_dir():
        raise DlstudyError(f"{path}: the folder {path.parent} does not exist")
    if not 0 <= variants <= MAX_VARIANTS:
        raise DlstudyError(f"--variants must be from 0 to {MAX_VARIANTS}")
    models = _models()
    anki_decks, by_model, cards = [], Counter(), 0
    for deck in decks:
        anki_deck = genanki.Deck(stable_id(f"deck:{deck.name}"), f"{DECK_PREFIX}{deck.name}", description=_escape(deck.title))
        for note in deck.notes:
            for item in anki_notes(note, variants):
                model = models[item.model]
                anki_deck.add_note(genanki.Note(model=model, fields=list(item.fields), tags=list(item.tags), guid=item.guid))
                by_model[MODEL_NAMES[item.model]] += 1
                cards += len(kinds.cards_of(note)) if item.model != "basic" else 1
        anki_decks.append(anki_deck)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        genanki.Package(anki_decks).write_to_file(str(tmp))
        tmp.replace(path)
    except OSError as exc:
        raise DlstudyError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return AnkiExport(path, tuple(d.name for d in anki_decks), sum(by_model.values()), cards, dict(by_model), variants)


def export_anki_decks(deck_names: Sequence[str], output: Path, variants: int = DEFAULT_VARIANTS,
                      extra: Sequence[str] = ()) -> AnkiExport:
    """``dlstudy export anki``: the chosen decks (all by default) as one .apkg."""
    from dlstudy.cards.study import open_decks

    _, decks = open_decks(extra)
    return export_anki(choose_decks(decks, deck_names), output, variants)
