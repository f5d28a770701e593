"""Review history in SQLite: card states and the full review log.

- WAL mode and a busy timeout, so two quiz processes on one database wait for
  each other instead of failing.
- Every review is its own transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), and
  the card's new state is computed *inside* it from the row as it is then, so
  a concurrent process can't make a review get lost, and a killed process
  loses at most the card on screen.
- The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS[i]``
  takes version i to i + 1.
- A card to which nothing happened (never reviewed, neither suspended nor
  buried) has no row: the decks define which cards exist, the database only
  what happened to them.
- Drills are logged problem by problem in ``drills`` (schema 2); a template's
  mastery is computed from them and from its problem card's reviews.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from dlstudy.errors import DlstudyError
from dlstudy.files import describe_os_error

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cards (
        card_id     TEXT PRIMARY KEY,
        deck        TEXT NOT NULL,
        state       INTEGER NOT NULL,      -- 0 new, 1 learning, 2 review, 3 relearning (fsrs.State)
        step        INTEGER,
        stability   REAL,
        difficulty  REAL,
        due         TEXT,                  -- ISO 8601 UTC; compares as text
        last_review TEXT,
        suspended   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX cards_due ON cards (due) WHERE suspended = 0;
    CREATE TABLE reviews (
        id          INTEGER PRIMARY KEY,
        card_id     TEXT NOT NULL,
        deck        TEXT NOT NULL,
        rating      INTEGER NOT NULL,      -- 1 Again, 2 Hard, 3 Good, 4 Easy
        reviewed_at TEXT NOT NULL,
        duration_ms INTEGER,
        answer      TEXT,
        cram        INTEGER NOT NULL DEFAULT 0,   -- cram reviews leave the schedule alone
        state_before TEXT                  -- JSON of the card row before, for undo and stats; NULL if new
    );
    CREATE INDEX reviews_card ON reviews (card_id, reviewed_at);
    CREATE INDEX reviews_time ON reviews (reviewed_at);
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE cards ADD COLUMN buried_until TEXT;   -- hidden until then (bury: the next study day); NULL if not
    CREATE TABLE drills (
        id          INTEGER PRIMARY KEY,
        template    TEXT NOT NULL,          -- problem template id
        seed        INTEGER NOT NULL,       -- the variant
        question    TEXT NOT NULL,          -- the case asked ("" when the template has no cases)
        score       REAL,                   -- 0..1 (parts or entries right); NULL when skipped
        answer      TEXT,
        done_at     TEXT NOT NULL,
        duration_ms INTEGER
    );
    CREATE INDEX drills_template ON drills (template, done_at);
    """,
)

NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
STATE_NAMES = {NEW: "new", LEARNING: "learning", REVIEW: "review", RELEARNING: "relearning"}


def iso(moment: datetime) -> str:
    """UTC, fixed width, so text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class CardRow:
    card_id: str
    deck: str
    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    suspended: bool = False
    buried_until: datetime | None = None  # hidden until then (bury)

    def buried(self, now: datetime) -> bool:
        return self.buried_until is not None and self.buried_until > now

    @property
    def idle(self) -> bool:
        """Nothing happened to the card: never reviewed, neither suspended nor buried (such a card has no row)."""
        return self.state == NEW and not self.suspended and self.buried_until is None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["due"] = iso(self.due) if self.due else None
        data["last_review"] = iso(self.last_review) if self.last_review else None
        data["buried_until"] = iso(self.buried_until) if self.buried_until else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CardRow":
        data = dict(data)
        data["due"] = from_iso(data.get("due"))
        data["last_review"] = from_iso(data.get("last_review"))
        data["suspended"] = bool(data.get("suspended", False))
        data["buried_until"] = from_iso(data.get("buried_until"))
        return cls(**data)


@dataclass(frozen=True)
class Review:
    id: int
    card_id: str
    deck: str
    rating: int
    reviewed_at: datetime
    duration_ms: int | None
    answer: str | None
    cram: bool
    state_before: CardRow | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "card_id": self.card_id,
            "deck": self.deck,
            "rating": self.rating,
            "reviewed_at": iso(self.reviewed_at),
            "duration_ms": self.duration_ms,
            "answer": self.answer,
            "cram": self.cram,
            "state_before": self.state_before.to_dict() if self.state_before else None,
        }


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script (a ';' inside a comment or string does not split)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                yield buffer
            buffer = ""


@dataclass(frozen=True)
class DrillRecord:
    """One problem of a drill, as answered."""

    id: int
    template: str
    seed: int
    question: str  # the case asked ("" when the template has no cases)
    score: float | None  # None: skipped
    answer: str | None
    done_at: datetime
    duration_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done_at": iso(self.done_at)}


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


class _GuardedConnection:
    """A SQLite connection whose errors arrive as one-line DlstudyErrors (see ``database_problem``)."""

    def __init__(self, raw: sqlite3.Connection, path: Path) -> None:
        self.raw = raw
        self.path = path

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, *args)
        except sqlite3.Error as exc:
            doing = "read" if sql.lstrip().upper().startswith(("SELECT", "PRAGMA")) else "save"
            raise DlstudyError(f"{self.path}: {database_problem(exc, doing)}") from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class Store:
    """One SQLite database of review history."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DlstudyError(
                f"cannot create the data folder {path.parent}: {describe_os_error(exc)}; "
                "set DLSTUDY_HOME to a folder you can write"
            ) from None
        with self.guarded("open"):
            self.db = _GuardedConnection(sqlite3.connect(path, timeout=30, isolation_level=None), path)
            self._use_wal()
            self.db.execute("PRAGMA synchronous=FULL")  # a review survives a power cut, not only a kill
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()

    @contextmanager
    def guarded(self, doing: str) -> Iterator[None]:
        """SQLite's errors as one line that says what happened and what to do; nothing committed is lost
        (a failed transaction rolls back as a whole)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise DlstudyError(f"{self.path}: {database_problem(exc, doing)}") from None

    def _use_wal(self) -> None:
        """WAL mode (it persists in the file). Switching a new database can fail with "locked" without
        waiting for the busy timeout when another process is creating it too, so retry for a while."""
        for attempt in range(200):
            try:
                if self.db.raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self.db.raw.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 199:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise DlstudyError(
                f"{self.path} was written by a newer dlstudy (schema {version}, this one knows {len(MIGRATIONS)}); upgrade dlstudy"
            )
        for number in range(version, len(MIGRATIONS)):
            with self._transaction() as db:
                # another process may have migrated while we waited for the lock
                if db.execute("PRAGMA user_version").fetchone()[0] > number:
                    continue
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    # -- transactions

    def _transaction(self):
        store = self

        class _Transaction:
            def __enter__(self) -> sqlite3.Connection:
                with store.guarded("start a write"):
                    store.db.execute("BEGIN IMMEDIATE")
                return store.db

            def __exit__(self, kind, value, traceback) -> None:
                if kind is None:
                    try:
                        store.db.raw.execute("COMMIT")
                        return
                    except sqlite3.Error as exc:
                        value = exc
                if store.db.raw.in_transaction:
                    try:
                        store.db.raw.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite rolls back by itself when it cannot
                if isinstance(value, sqlite3.Error):
                    raise DlstudyError(f"{store.path}: {database_problem(value, 'save')}") from None

        return _Transaction()

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
        with self._transaction() as db:
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
        with self._transaction() as db:
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
        with self._transaction() as db:
            before = self.card(card_id)
            self._write_card(db, replace(before or CardRow(card_id, deck), suspended=suspended))
            return before

    def set_buried(self, card_id: str, deck: str, until: datetime | None) -> CardRow | None:
        """Hide a card until ``until`` (None: unbury); returns its row as it was, for undo."""
        with self._transaction() as db:
            before = self.card(card_id)
            self._write_card(db, replace(before or CardRow(card_id, deck), buried_until=until))
            return before

    def restore(self, card_id: str, row: CardRow | None) -> None:
        """Put a card's row back as it was before a suspend or bury (None: it had no row)."""
        with self._transaction() as db:
            if row is None:
                db.execute("DELETE FROM cards WHERE card_id = ?", (card_id,))
            else:
                self._write_card(db, row)

    def set_due(self, moved: dict[str, datetime]) -> None:
        """Move cards' due times (exam planning), in one transaction."""
        with self._transaction() as db:
            db.executemany("UPDATE cards SET due = ? WHERE card_id = ?", [(iso(due), cid) for cid, due in moved.items()])

    def set_setting(self, key: str, value: str | None) -> None:
        """Save a setting (None deletes it)."""
        with self._transaction() as db:
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
        with self._transaction() as db:
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

    def _write_card(self, db: sqlite3.Connection, card: CardRow) -> None:
        """Write a card's row; a card to which nothing happened has none."""
        if card.idle:
            db.execute("DELETE FROM cards WHERE card_id = ?", (card.card_id,))
            return
        db.execute(f"INSERT OR REPLACE INTO cards ({_CARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _card_values(card))


def database_problem(exc: sqlite3.Error, doing: str) -> str:
    """What a SQLite error means for the user, and what to do about it."""
    text = str(exc).lower()
    if "disk is full" in text or "disk i/o" in text:
        return (f"could not {doing}: the disk is full (or failing); what was on screen was not saved, every review "
                "before it is. Free some space and run the command again")
    if "readonly" in text or "read-only" in text:
        return f"could not {doing}: the review database is read-only; make the file and its folder writable"
    if "locked" in text or "busy" in text:
        return f"could not {doing}: another dlstudy is writing the review database; try again in a moment"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (f"the review database is damaged ({exc}); dlstudy will not write to it. Restore a backup: "
                "`dlstudy backup list`, then `dlstudy backup restore NAME`")
    if "unable to open" in text:
        return f"could not {doing}: cannot open the review database (is its folder writable?)"
    return f"could not {doing} the review database: {exc}"


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
