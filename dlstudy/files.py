"""Reading and writing the user's files safely: regular files of bounded size in, atomic replacement out.

A deck folder may hold a FIFO (reading it would hang) or a link to
``/dev/zero`` (reading it would never end); a disk may fill up half-way
through a write. Every file dlstudy reads from the user goes through
``read_text``, and every file it writes through ``write_atomic``, which
leaves either the old file or the whole new one, never a truncated one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from dlstudy.errors import DlstudyError, Location, LocatedError

MAX_TEXT_FILE = 20 * 1024 * 1024  # a deck, template, config or CSV file: 20 MB is far beyond any real one


def read_text(path: Path, what: str = "file", limit: int = MAX_TEXT_FILE) -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes; anything else is a LocatedError."""
    where = Location(str(path))
    try:
        info = path.stat()
    except OSError as exc:
        raise LocatedError(where, f"cannot read the {what} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise LocatedError(where, f"is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise LocatedError(where, f"is not a regular file (a device, pipe or socket), so it is not read as a {what}")
    if info.st_size > limit:
        raise LocatedError(where, f"is {info.st_size / 1e6:.1f} MB; a {what} may be at most {limit / 1e6:.0f} MB")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise LocatedError(where, f"cannot read the {what} ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise LocatedError(where, f"grew past {limit / 1e6:.0f} MB while it was read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LocatedError(where, f"is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8") from None


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and one rename."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DlstudyError(f"cannot write {path}: {describe_os_error(exc)}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise DlstudyError(f"cannot write {path}: {describe_os_error(exc)}; the old file, if any, is unchanged") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def describe_os_error(exc: OSError) -> str:
    """What went wrong, in words a user can act on."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if exc.errno == errno.EISDIR:
        return "it is a folder"
    return exc.strerror or str(exc)
