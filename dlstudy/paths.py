"""Where built-in content and the user's data live."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_dir(name: str) -> Path:
    """Built-in ``problems``/``decks``: inside the installed wheel, else the source checkout."""
    installed = _PACKAGE / "_content" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


@lru_cache(maxsize=None)
def problem_dirs() -> tuple[Path, ...]:
    """Built-in templates, then any folders listed in DLSTUDY_PROBLEMS (os.pathsep-separated)."""
    extra = [Path(p) for p in os.environ.get("DLSTUDY_PROBLEMS", "").split(os.pathsep) if p]
    return (content_dir("problems"), *extra)



def data_dir() -> Path:
    """The user's data (review history, settings): DLSTUDY_HOME, else the platform's user data folder."""
    home = os.environ.get("DLSTUDY_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dlstudy", appauthor=False))
