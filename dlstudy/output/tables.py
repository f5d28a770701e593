"""Cards with their scheduling state, or the review log, as CSV or JSON (``dlstudy export csv``).

Nothing here prints: functions return the text, or write the file they are asked to.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from dlstudy.cards import kinds
from dlstudy.cards.content import Block, ClozeText, ProblemRef, Sides, Steps
from dlstudy.cards.decks import choose_decks
from dlstudy.cards.model import Card, Deck
from dlstudy.errors import DlstudyError
from dlstudy.files import write_atomic
from dlstudy.spreadsheet import neutralize

CARD_FIELDS = ("id", "deck", "kind", "front", "back", "tags", "state", "due", "stability", "difficulty", "reviews", "lapses")
REVIEW_FIELDS = ("id", "card_id", "deck", "rating", "reviewed_at", "duration_ms", "answer", "cram")


def card_text(card: Card) -> tuple[str, str]:
    """A card's front and back as plain text with $...$ math, from the shape its kind gives its note."""
    note = card.note
    content = kinds.get(note.kind).content(note)
    if isinstance(content, Sides):
        front, back = _plain(content.front), _plain(content.back)
        return (back, front) if card.reversed else (front, back)
    if isinstance(content, ClozeText):
        return content.text, content.extra
    if isinstance(content, ProblemRef):
        from dlstudy.engine.templates import get_template

        template = content.template
        return get_template(template).title, f"a new variant of problem {template} at every review (dlstudy generate {template})"
    raise AssertionError(f"{note.kind} notes have content of an unknown shape: {content!r}")


def _plain(blocks: Sequence[Block]) -> str:
    """Blocks one per line, steps numbered."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Steps):
            lines.extend(f"{i}. {line}" for i, line in enumerate(block.lines, 1))
        elif block.text:
            lines.append(block.text)
    return "\n".join(lines)


def card_rows(decks: Sequence[Deck], store: Any) -> list[dict[str, Any]]:
    """One row per card: its text, tags and scheduling state (``reviews`` and ``lapses`` leave cram reviews out).

    A lapse is an Again on a card that was in the review state, as in Anki.
    """
    from dlstudy.cards.records import NEW, REVIEW, STATE_NAMES

    states = store.cards()
    reviews, lapses = Counter(), Counter()
    for review in store.reviews(include_cram=False):
        reviews[review.card_id] += 1
        if review.rating == 1 and review.state_before is not None and review.state_before.state == REVIEW:
            lapses[review.card_id] += 1
    rows = []
    for deck in decks:
        for card in deck.cards:
            front, back = card_text(card)
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
    from dlstudy.cards.records import iso

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
        return neutralize(" ".join(str(v) for v in value))
    return neutralize(value) if isinstance(value, str) else value


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
    write_atomic(path, text)
