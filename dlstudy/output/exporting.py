"""Export decks to Anki (.apkg) and cards or the review log to CSV/JSON (``dlstudy export``).

Anki packages are built with genanki (imported inside the function):

- every dlstudy note is one Anki note: basic -> "Basic (dlstudy)", basic with
  ``reverse`` -> "Basic (and reversed card) (dlstudy)" (two cards), cloze ->
  "Cloze (dlstudy)" (one card per gap number), typed and derivation -> basic
  notes (answer / numbered steps on the back), problem -> ``variants`` basic
  notes built by dlstudy's engine from the fixed seeds 1..N, each showing its
  seed so ``dlstudy generate ID --seed S`` reproduces it;
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

import csv
import hashlib
import html
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from dlstudy.cards.decks import Deck, Gap, Note, cards_of, parse_cloze, split_math
from dlstudy.errors import DlstudyError
from dlstudy.suggest import did_you_mean

DEFAULT_VARIANTS = 3
MAX_VARIANTS = 100
DECK_PREFIX = "dlstudy::"

CARD_FIELDS = ("id", "deck", "kind", "front", "back", "tags", "state", "due", "stability", "difficulty", "reviews", "lapses")
REVIEW_FIELDS = ("id", "card_id", "deck", "rating", "reviewed_at", "duration_ms", "answer", "cram")


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
    guid = note_guid(note.id)
    if note.kind == "basic":
        model = "reversed" if note.reverse else "basic"
        return [AnkiNote(model, guid, (html_field(note.front), html_field(note.back)), tags, note.id)]
    if note.kind == "cloze":
        return [AnkiNote("cloze", guid, (anki_cloze(note.text), html_field(note.extra)), tags, note.id)]
    if note.kind == "typed":
        back = f"<b>{_escape(note.answer)}</b>"
        if note.back:
            back += "<br><br>" + html_field(note.back)
        return [AnkiNote("basic", guid, (html_field(note.front), back), tags, note.id)]
    if note.kind == "derivation":
        back = '<ol class="steps">' + "".join(f"<li>{html_field(s)}</li>" for s in note.steps) + "</ol>"
        if note.back:
            back += html_field(note.back)
        return [AnkiNote("basic", guid, (html_field(note.front), back), tags, note.id)]
    if note.kind == "problem":
        return [problem_note(note, seed, tags) for seed in variant_seeds(variants)]
    raise AssertionError(f"unknown card kind {note.kind}")


def variant_seeds(variants: int) -> list[int]:
    """The fixed seeds of the exported variants: 1..N (so --variants 5 keeps the first 3 of --variants 3)."""
    return list(range(1, variants + 1))


def _parts_html(parts: Sequence[tuple[str, str]]) -> str:
    return "".join(rf"\({_escape(content)}\)" if kind == "math" else _html_text(content) for kind, content in parts)


def problem_note(note: Note, seed: int, tags: tuple[str, ...]) -> AnkiNote:
    """One variant of a problem card: statement in front; answer and worked solution (from the engine) on the back."""
    from dlstudy.engine import exercises
    from dlstudy.output.sheets import model as sheets

    variant, solution = exercises.generate(note.template, seed)
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
        back += f"<li>{_escape(step.what)}: \\({_escape(step.formula)}\\)<br>{_parts_html(step.work)}</li>"
    back += "</ol>"
    return AnkiNote("basic", note_guid(note.id, seed), (front, back), tags, note.id, seed)


# ---------------------------------------------------------------------------
# Choosing decks


def choose_decks(decks: Sequence[Deck], names: Sequence[str]) -> list[Deck]:
    """The decks named (all when none), in the order given; an unknown name is a DlstudyError."""
    if not names:
        return list(decks)
    by_name = {deck.name: deck for deck in decks}
    chosen = []
    for name in dict.fromkeys(names):
        if name not in by_name:
            hint = did_you_mean(name, sorted(by_name))
            raise DlstudyError(f"no deck named '{name}'{hint} (decks: {', '.join(sorted(by_name))})")
        chosen.append(by_name[name])
    return chosen


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
                cards += len(cards_of(note)) if item.model != "basic" else 1
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


# ---------------------------------------------------------------------------
# CSV / JSON: cards with their scheduling state, or the review log


def _card_text(card: Any) -> tuple[str, str]:
    note: Note = card.note
    if note.kind == "basic":
        return (note.back, note.front) if card.reversed else (note.front, note.back)
    if note.kind == "cloze":
        return note.text, note.extra
    if note.kind == "typed":
        return note.front, "\n".join(filter(None, [note.answer, note.back]))
    if note.kind == "derivation":
        steps = [f"{i}. {step}" for i, step in enumerate(note.steps, 1)]
        return note.front, "\n".join(filter(None, [*steps, note.back]))
    from dlstudy.engine.templates import get_template

    return get_template(note.template).title, f"a new variant of problem {note.template} at every review (dlstudy generate {note.template})"


def card_rows(decks: Sequence[Deck], store: Any) -> list[dict[str, Any]]:
    """One row per card: its text, tags and scheduling state (``reviews`` and ``lapses`` leave cram reviews out).

    A lapse is an Again on a card that was in the review state, as in Anki.
    """
    from dlstudy.cards.store import NEW, REVIEW, STATE_NAMES

    states = store.cards()
    reviews, lapses = Counter(), Counter()
    for review in store.reviews(include_cram=False):
        reviews[review.card_id] += 1
        if review.rating == 1 and review.state_before is not None and review.state_before.state == REVIEW:
            lapses[review.card_id] += 1
    rows = []
    for deck in decks:
        for card in deck.cards():
            front, back = _card_text(card)
            row = states.get(card.id)
            rows.append({
                "id": card.id,
                "deck": card.deck,
                "kind": card.kind,
                "front": front,
                "back": back,
                "tags": list(card.tags),
                "state": "suspended" if row and row.suspended else STATE_NAMES[row.state if row else NEW],
                "due": _iso(row.due) if row else None,
                "stability": row.stability if row else None,
                "difficulty": row.difficulty if row else None,
                "reviews": reviews.get(card.id, 0),
                "lapses": lapses.get(card.id, 0),
            })
    return rows


def _iso(moment: Any) -> str | None:
    from dlstudy.cards.store import iso

    return iso(moment) if moment else None


def review_rows(store: Any, deck_names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The review log, oldest first (cram reviews included, marked ``cram``); only ``deck_names`` when given."""
    wanted = set(deck_names)
    return [
        {k: v for k, v in review.to_dict().items() if k in REVIEW_FIELDS}
        for review in store.reviews()
        if not wanted or review.deck in wanted
    ]


def to_csv(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> str:
    """CSV with a header row; lists joined by spaces, None as an empty cell, booleans as 0/1."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in fields])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class TableExport:
    text: str
    rows: int
    path: Path | None


def export_table(
    deck_names: Sequence[str] = (),
    extra: Sequence[str] = (),
    reviews: bool = False,
    as_json: bool = False,
    output: Path | None = None,
) -> TableExport:
    """Cards (or, with ``reviews``, the review log) as CSV or JSON; written to ``output`` when given."""
    from dlstudy.cards.study import open_decks
    from dlstudy.cards.store import open_store

    _, decks = open_decks(extra)
    with open_store() as store:
        if reviews:
            if deck_names:
                logged = {r.deck for r in store.reviews()}
                unknown = [n for n in deck_names if n not in logged and n not in {d.name for d in decks}]
                if unknown:
                    choose_decks(decks, unknown)  # raises with a suggestion
            rows = review_rows(store, deck_names)
            fields = REVIEW_FIELDS
        else:
            rows = card_rows(choose_decks(decks, deck_names), store)
            fields = CARD_FIELDS
    text = to_json(rows) if as_json else to_csv(rows, fields)
    if output is not None:
        _write_text(Path(output), text)
    return TableExport(text, len(rows), Path(output) if output is not None else None)


def _write_text(path: Path, text: str) -> None:
    if not path.parent.is_dir():
        raise DlstudyError(f"{path}: the folder {path.parent} does not exist")
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise DlstudyError(f"{path}: cannot write ({exc.strerror})") from None


def export_anki_decks(deck_names: Sequence[str], output: Path, variants: int = DEFAULT_VARIANTS,
                      extra: Sequence[str] = ()) -> AnkiExport:
    """``dlstudy export anki``: the chosen decks (all by default) as one .apkg."""
    from dlstudy.cards.study import open_decks

    _, decks = open_decks(extra)
    return export_anki(choose_decks(decks, deck_names), output, variants)
