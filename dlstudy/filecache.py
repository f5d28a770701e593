"""A JSON cache of what was validated from a file, valid while the file is unchanged.

Deck and problem files are validated once (YAML parse, LaTeX rendering, ...);
the result is kept under the data folder, keyed by the file's path, and stamped
with its modification time, size and dlstudy's version. JSON, not pickle: a
cache file is data, never code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dlstudy import __version__


def _stamp(path: Path) -> list[Any]:
    stat = path.stat()
    return [str(path.resolve()), stat.st_mtime_ns, stat.st_size, __version__]


def _location(kind: str, path: Path) -> Path:
    from dlstudy.paths import data_dir

    key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return data_dir() / "cache" / kind / f"{path.stem}-{key}.json"


def read(kind: str, path: Path) -> Any | None:
    """The payload cached for ``path`` if the file is unchanged since, else None."""
    try:
        cached = json.loads(_location(kind, path).read_text(encoding="utf-8"))
        return cached["payload"] if cached["stamp"] == _stamp(path) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no cache, or an unreadable one


def write(kind: str, path: Path, payload: Any) -> None:
    """Cache ``payload`` for ``path``; atomic, so a concurrent reader sees the old file or the new one."""
    target = _location(kind, path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"stamp": _stamp(path), "payload": payload}), encoding="utf-8")
        tmp.replace(target)
    except (OSError, TypeError, ValueError):
        pass  # an unwritable data folder, or a payload JSON can't hold: only costs speed
