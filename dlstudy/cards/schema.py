"""The review database's schema, versioned with ``PRAGMA user_version``: ``MIGRATIONS[i]`` takes version i
to i + 1, and ``migrate`` brings a database up to the latest.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from dlstudy.cards.database import GuardedConnection, Transaction
from dlstudy.errors import DlstudyError

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


def statements(script: str) -> Iterator[str]:
    """The statements of an SQL script (a ';' inside a comment or string does not split)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                yield buffer
            buffer = ""


def migrate(db: GuardedConnection) -> None:
    """Bring the database to the latest schema, one migration per transaction."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise DlstudyError(
            f"{db.path} was written by a newer dlstudy (schema {version}, this one knows {len(MIGRATIONS)}); upgrade dlstudy"
        )
    for number in range(version, len(MIGRATIONS)):
        with Transaction(db):
            # another process may have migrated while we waited for the lock
            if db.execute("PRAGMA user_version").fetchone()[0] > number:
                continue
            for statement in statements(MIGRATIONS[number]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number + 1}")
