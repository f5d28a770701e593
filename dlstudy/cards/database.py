"""The connection to the review database and what its errors mean: SQLite errors become one-line
DlstudyErrors that say what happened and what to do; a write is one ``BEGIN IMMEDIATE`` ... ``COMMIT``
transaction; WAL mode and a busy timeout, so two quiz processes on one database wait for each other
instead of failing.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from dlstudy.errors import DlstudyError
from dlstudy.files import describe_os_error


class GuardedConnection:
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


def connect(path: Path) -> GuardedConnection:
    """The database at ``path`` (created with its folder if missing), in WAL mode, a review surviving a power cut."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DlstudyError(
            f"cannot create the data folder {path.parent}: {describe_os_error(exc)}; "
            "set DLSTUDY_HOME to a folder you can write"
        ) from None
    db = GuardedConnection(sqlite3.connect(path, timeout=30, isolation_level=None), path)
    _use_wal(db.raw)
    db.execute("PRAGMA synchronous=FULL")  # a review survives a power cut, not only a kill
    db.execute("PRAGMA foreign_keys=ON")
    return db


def _use_wal(raw: sqlite3.Connection) -> None:
    """WAL mode (it persists in the file). Switching a new database can fail with "locked" without
    waiting for the busy timeout when another process is creating it too, so retry for a while."""
    for attempt in range(200):
        try:
            if raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                raw.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 199:
                raise
            time.sleep(0.05)


@contextmanager
def guarded(path: Path, doing: str) -> Iterator[None]:
    """SQLite's errors as one line that says what happened and what to do; nothing committed is lost
    (a failed transaction rolls back as a whole)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise DlstudyError(f"{path}: {database_problem(exc, doing)}") from None


class Transaction:
    """``with Transaction(db) as db:``: one write, committed at the end of the block, rolled back as a whole
    if anything in it fails (``BEGIN IMMEDIATE``: the write lock is taken at the start, so what the block
    reads is what it writes over)."""

    def __init__(self, db: GuardedConnection) -> None:
        self.db = db

    def __enter__(self) -> GuardedConnection:
        with guarded(self.db.path, "start a write"):
            self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            try:
                self.db.raw.execute("COMMIT")
                return
            except sqlite3.Error as exc:
                value = exc
        if self.db.raw.in_transaction:
            try:
                self.db.raw.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite rolls back by itself when it cannot
        if isinstance(value, sqlite3.Error):
            raise DlstudyError(f"{self.db.path}: {database_problem(value, 'save')}") from None


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
