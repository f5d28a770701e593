"""Automatic backups of the review history, as Anki keeps them.

Once per day of use, the first command that opens the history copies it
(SQLite's online backup API: a consistent, compact copy even while another
dlstudy writes) to ``backups/reviews-YYYY-MM-DD.sqlite3`` in the data folder,
after checking it is intact; the newest ``keep`` copies stay. ``restore``
puts one back, keeping the file it replaces beside it, so nothing is lost.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dlstudy.errors import DlstudyError
from dlstudy.files import describe_os_error

PREFIX, SUFFIX = "reviews-", ".sqlite3"
DEFAULT_KEEP = 10


@dataclass(frozen=True)
class Backup:
    name: str  # reviews-2026-12-03.sqlite3
    path: Path
    size: int  # bytes
    reviews: int | None  # None when the copy cannot be read

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "size": self.size, "reviews": self.reviews}


def backup_dir(database: Path) -> Path:
    return database.parent / "backups"


def _name(day: datetime) -> str:
    return f"{PREFIX}{day:%Y-%m-%d}{SUFFIX}"


def intact(connection: sqlite3.Connection) -> bool:
    try:
        return connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False


def daily(connection: sqlite3.Connection, database: Path, now: datetime, keep: int = DEFAULT_KEEP) -> Path | None:
    """Today's backup, made now if there is none yet and the history is intact; None when not made.

    A backup is a convenience: failing to make one (a full disk) never stops the command.
    """
    folder = backup_dir(database)
    target = folder / _name(now)
    if keep <= 0 or target.exists():
        return None
    try:
        if not intact(connection):
            return None  # never let a damaged history push out a good backup
        folder.mkdir(parents=True, exist_ok=True)
        copy(connection, target)
        prune(folder, keep)
    except (OSError, sqlite3.Error, DlstudyError):
        return None
    return target


def copy(connection: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the open database at ``target``, replacing it atomically."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        destination = sqlite3.connect(temporary)
        try:
            connection.backup(destination)
            destination.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            destination.close()
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def prune(folder: Path, keep: int) -> None:
    for old in [b.path for b in backups_in(folder)][keep:]:
        old.unlink(missing_ok=True)


def backups_in(folder: Path) -> list[Backup]:
    """The backups in ``folder``, newest first."""
    found = []
    for path in sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), reverse=True):
        found.append(Backup(path.name, path, path.stat().st_size, _count_reviews(path)))
    return found


def _count_reviews(path: Path) -> int | None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(connection.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return None


def restore(database: Path, name: str, now: datetime) -> tuple[Backup, Path | None]:
    """Put backup ``name`` in place of the history; the file it replaces is kept as
    ``reviews.sqlite3.replaced-YYYYmmdd-HHMMSS`` (returned, None when there was none)."""
    folder = backup_dir(database)
    chosen = next((b for b in backups_in(folder) if b.name == name or b.name == f"{PREFIX}{name}{SUFFIX}"), None)
    if chosen is None:
        names = ", ".join(b.name for b in backups_in(folder)) or "none yet"
        raise DlstudyError(f"no backup named {name!r} in {folder} (backups: {names})")
    source = sqlite3.connect(f"file:{chosen.path}?mode=ro", uri=True)
    try:
        if not intact(source):
            raise DlstudyError(f"{chosen.path} is damaged too; choose another backup (`dlstudy backup list`)")
        kept = None
        if database.exists():
            kept = database.with_name(f"{database.name}.replaced-{now:%Y%m%d-%H%M%S}")
            try:
                os.replace(database, kept)
                for extra in ("-wal", "-shm"):
                    Path(f"{database}{extra}").unlink(missing_ok=True)
            except OSError as exc:
                raise DlstudyError(f"cannot move {database} aside: {describe_os_error(exc)}") from None
        try:
            copy(source, database)
        except (OSError, sqlite3.Error) as exc:
            if kept is not None:
                os.replace(kept, database)  # put the old history back: restore all or nothing
            raise DlstudyError(f"cannot restore {chosen.name}: {exc}") from None
    finally:
        source.close()
    return chosen, kept
