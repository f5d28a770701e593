"""The review history in SQLite: what happened to each card (its row) and every review, suspension,
burial and drilled problem; the store's reads, and its writes, each one committed transaction.

- Every review is its own transaction, and the card's new state is computed *inside* it from the row as
  it is then, so a concurrent process can't make a review get lost, and a killed process loses at most
  the card on screen (``database``: the connection, transactions, what errors mean; ``schema``: the
  tables and their migrations; ``records``: the rows).
- A card to which nothing happened (never reviewed, neither suspended nor buried) has no row: the decks
  define which cards exist, the database only what happened to them.
- Drills are logged problem by problem in ``drills`` (schema 2); a template's mastery is computed from
  them and from its problem card's reviews.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from dlstudy.cards.database import GuardedConnection, Transaction, connect, guarded
from dlstudy.cards.records import CardRow, DrillRecord, Review, from_iso, iso
from dlstudy.cards.schema import migrate


_CARD_COLUMNS = "card_id, deck, state, step, stability, difficulty, due, last_review, suspended, buried_until"


def _card(row: tuple) -> CardRow:
    card_id, deck, state, step, stability, difficulty, due, last_review, suspended, buried_until = row
    return CardRow(card_id, deck, state, step, stability, difficulty, from_iso(due), from_iso(last_review),
                   bool(suspended), from_iso(buried_until))


def _card_values(card: CardRow) -> tuple:
    return (
        card.card_id, card.deck, card.state, card.step, card.stability, card.difficulty,
        iso(card.due) if card.due else None, iso(card.last_review) if card.last_review else None, int(card.suspended),
        iso(card.buried_until) if card.buried_until else None,
    )


class Store:
    """One SQLite database of review history."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with guarded(path, "open"):
            self.db = connect(path)
            migrate(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- reads

    def cards(self) -> dict[str, CardRow]:
        return {row[0]: _card(row) for row in self.db.execute(f"SELECT {_CARD_COLUMNS} FROM cards")}

    def card(self, card_id: str) -> CardRow | None:
        row = self.db.execute(f"SELECT {_CARD_COLUMNS} FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        return _card(row) if row else None

    def due(self, now: datetime) -> list[tuple[str, datetime]]:
        """(card id, due) of cards due by ``now``, neither suspended nor buried, earliest first."""
        rows = self.db.execute(
            "SELECT card_id, due FROM cards WHERE suspended = 0 AND due IS NOT NULL AND due <= ?"
            " AND (buried_until IS NULL OR buried_until <= ?) ORDER BY due",
            (iso(now), iso(now)),
        )
        return [(card_id, from_iso(due)) for card_id, due in rows]

    def due_between(self, start: datetime, end: datetime) -> list[tuple[str, str, datetime]]:
        """(card id, deck, due) of unsuspended cards due in [start, end): the workload ahead."""
        rows = self.db.execute(
            "SELECT card_id, deck, due FROM cards WHERE suspended = 0 AND due >= ? AND due < ?",
            (iso(start), iso(end)),
        )
        return [(card_id, deck, from_iso(due)) for card_id, deck, due in rows]

    def reviewed_since(self, since: datetime) -> set[str]:
        """Ids of the cards with a (non-cram) review since ``since``."""
        rows = self.db.execute("SELECT DISTINCT card_id FROM reviews WHERE cram = 0 AND reviewed_at >= ?", (iso(since),))
        return {row[0] for row in rows}

    def reviews(
        self, since: datetime | None = None, include_cram: bool = True, review_id: int | None = None
    ) -> Iterator[Review]:
        query = "SELECT id, card_id, deck, rating, reviewed_at, duration_ms, answer, cram, state_before FROM reviews"
        clauses, args = [], []
        if review_id is not None:
            clauses.append("id = ?")
            args.append(review_id)
        if since is not None:
            clauses.append("reviewed_at >= ?")
            args.append(iso(since))
        if not include_cram:
            clauses.append("cram = 0")
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        for row in self.db.execute(query + " ORDER BY reviewed_at, id", args):
            before = CardRow.from_dict(json.loads(row[8])) if row[8] else None
            yield Review(row[0], row[1], row[2], row[3], from_iso(row[4]), row[5], row[6], bool(row[7]), before)

    def new_cards_introduced(self, since: datetime) -> int:
        """How many cards got their first (non-cram) review since ``since``."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM reviews WHERE cram = 0 AND state_before IS NULL AND reviewed_at >= ?", (iso(since),)
        ).fetchone()
        return int(row[0])

    def setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- writes: each is one committed transaction

    def record_review(
        self,
        card_id: str,
        deck: str,
        rating: int,
        reviewed_at: datetime,
        schedule: Callable[[CardRow], CardRow] | None,
        duration_ms: int | None = None,
        answer: str | None = None,
    ) -> int:
        """Log a review and (unless ``schedule`` is None: cram) store the card's next state.

        ``schedule`` gets the card's row as it is inside the transaction.
        """
        with Transaction(self.db) as db:
            before = self.card(card_id)
            cursor = db.execute(
                "INSERT INTO reviews (card_id, deck, rating, reviewed_at, duration_ms, answer, cram, state_before)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    card_id, deck, rating, iso(reviewed_at), duration_ms, answer, int(schedule is None),
                    json.dumps(before.to_dict()) if before else None,
                ),
            )
            if schedule is not None:
                after = schedule(before or CardRow(card_id, deck))
                # a review (asked for by name, or after an undo) unburies; suspension stays
                self._write_card(db, replace(after, suspended=before.suspended if before else False, buried_until=None))
            return int(cursor.lastrowid)

    def undo(self, review_id: int) -> Review | None:
        """Remove a review and put its card back as it was; None if it is already gone."""
        with Transaction(self.db) as db:
            review = next(self.reviews(review_id=review_id), None)
            if review is None:
                return None
            db.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
            if not review.cram:
                if review.state_before is None:
                    db.execute("DELETE FROM cards WHERE card_id = ?", (review.card_id,))
                else:
                    self._write_card(db, review.state_before)
            return review

    def set_suspended(self, card_id: str, deck: str, suspended: bool) -> CardRow | None:
        """Suspend or unsuspend a card; returns its row as it was (None: no row), for undo."""
        with Transaction(self.db) as db:
            before = self.card(card_id)
            self._write_card(db, replace(before or CardRow(card_id, deck), suspended=suspended))
            return before

    def set_buried(self, card_id: str, deck: str, until: datetime | None) -> CardRow | None:
        """Hide a card until ``until`` (None: unbury); returns its row as it was, for undo."""
        with Transaction(self.db) as db:
            before = self.card(card_id)
            self._write_card(db, replace(before or CardRow(card_id, deck), buried_until=until))
            return before

    def restore(self, card_id: str, row: CardRow | None) -> None:
        """Put a card's row back as it was before a suspend or bury (None: it had no row)."""
        with Transaction(self.db) as db:
            if row is None:
                db.execute("DELETE FROM cards WHERE card_id = ?", (card_id,))
            else:
                self._write_card(db, row)

    def set_due(self, moved: dict[str, datetime]) -> None:
        """Move cards' due times (exam planning), in one transaction."""
        with Transaction(self.db) as db:
            db.executemany("UPDATE cards SET due = ? WHERE card_id = ?", [(iso(due), cid) for cid, due in moved.items()])

    def set_setting(self, key: str, value: str | None) -> None:
        """Save a setting (None deletes it)."""
        with Transaction(self.db) as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    # -- drills

    def record_drill(
        self, template: str, seed: int, question: str, score: float | None, answer: str | None,
        done_at: datetime, duration_ms: int | None = None,
    ) -> int:
        """Log one drilled problem (committed before this returns)."""
        with Transaction(self.db) as db:
            cursor = db.execute(
                "INSERT INTO drills (template, seed, question, score, answer, done_at, duration_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (template, seed, question, score, answer, iso(done_at), duration_ms),
            )
            return int(cursor.lastrowid)

    def drills(self, template: str | None = None) -> Iterator[DrillRecord]:
        query = "SELECT id, template, seed, question, score, answer, done_at, duration_ms FROM drills"
        args: tuple = ()
        if template is not None:
            query, args = query + " WHERE template = ?", (template,)
        for row in self.db.execute(query + " ORDER BY done_at, id", args):
            yield DrillRecord(row[0], row[1], row[2], row[3], row[4], row[5], from_iso(row[6]), row[7])

    def _write_card(self, db: GuardedConnection, card: CardRow) -> None:
        """Write a card's row; a card to which nothing happened has none."""
        if card.idle:
            db.execute("DELETE FROM cards WHERE card_id = ?", (card.card_id,))
            return
        db.execute(f"INSERT OR REPLACE INTO cards ({_CARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _card_values(card))


def database_path() -> Path:
    from dlstudy.paths import data_dir

    return data_dir() / "reviews.sqlite3"


def open_store(path: Path | None = None, backup: bool = True) -> Store:
    """The review history; the first opening of a day also backs it up (``cards.backup``)."""
    store = Store(path or database_path())
    if backup:
        from dlstudy.cards import backup as backups
        from dlstudy.clock import system_clock
        from dlstudy.config import load_config

        backups.daily(store.db.raw, store.path, system_clock(), load_config().backups_kept)
    return store
