"""User settings from ``config.toml`` in the data folder (all optional; README.md shows them)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from dlstudy.errors import LocatedError, Location
from dlstudy.files import read_text
from dlstudy.paths import data_dir

MAX_STEP_MINUTES = 30 * 24 * 60  # a learning step longer than a month is not a learning step


@dataclass(frozen=True)
class Config:
    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    fuzz: bool = True
    new_per_day: int = 20
    exam_retention: float = 0.95  # recall the exam planner aims at on the exam morning
    decks: tuple[Path, ...] = field(default_factory=tuple)
    backups_kept: int = 10  # daily copies of the review history (0: none)


def config_path() -> Path:
    return data_dir() / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file means the defaults. Bad values are one-line errors."""
    path = path or config_path()
    if not path.exists() and not path.is_symlink():
        return Config()
    text = read_text(path, "config file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LocatedError(*_decode_error(path, text, exc)) from None
    known = {"desired_retention", "learning_steps", "relearning_steps", "fuzz", "new_per_day", "exam_retention", "decks",
             "backups_kept"}

    def fail(key: str, problem: str) -> LocatedError:
        return LocatedError(_location_of(path, text, key), problem)

    for key in data:
        if key not in known:
            raise fail(key, f"unknown setting {key!r}; known: {', '.join(sorted(known))}")

    def number(key: str, default: Any, low: float, high: float) -> Any:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise fail(key, f"{key} must be a number from {low:g} to {high:g}, not {value!r}")
        return value

    def minutes(key: str, default: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= MAX_STEP_MINUTES for v in value
        ):
            raise fail(key, f"{key} must be a list of minutes from 1 second to 30 days, e.g. [1, 10]")
        return tuple(timedelta(minutes=v) for v in value)

    decks = data.get("decks", [])
    if not isinstance(decks, list) or not all(isinstance(d, str) for d in decks):
        raise fail("decks", 'decks must be a list of paths, e.g. ["~/my-decks"]')
    fuzz = data.get("fuzz", True)
    if not isinstance(fuzz, bool):
        raise fail("fuzz", "fuzz must be true or false")
    return Config(
        desired_retention=float(number("desired_retention", 0.9, 0.7, 0.99)),
        learning_steps=minutes("learning_steps", Config.learning_steps),
        relearning_steps=minutes("relearning_steps", Config.relearning_steps),
        fuzz=fuzz,
        new_per_day=int(number("new_per_day", 20, 0, 10000)),
        exam_retention=float(number("exam_retention", 0.95, 0.7, 0.99)),
        decks=tuple(Path(d).expanduser() for d in decks),
        backups_kept=int(number("backups_kept", 10, 0, 365)),
    )


def _location_of(path: Path, text: str, key: str) -> Location:
    """Where ``key = ...`` is set (the config is flat: one top-level key per line); just the file if not found."""
    for number, line in enumerate(text.splitlines(), 1):
        name, equals, _ = line.partition("=")
        if equals and name.strip().strip("\"'") == key:
            return Location(str(path), number, len(line) - len(line.lstrip()) + 1)
    return Location(str(path))


def _decode_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> tuple[Location, str]:
    """tomllib's position as a Location, and its message without it.

    Python 3.14 gives the position as attributes; before that it is only in the
    message, as a fixed suffix " (at line L, column C)" or " (at end of document)".
    """
    if hasattr(exc, "lineno"):
        return Location(str(path), exc.lineno, exc.colno), exc.msg
    message, _, where = str(exc).rpartition(" (at ")
    if where.startswith("line "):
        line, _, column = where.removeprefix("line ").removesuffix(")").partition(", column ")
        if line.isdigit() and column.isdigit():
            return Location(str(path), int(line), int(column)), message
    if where == "end of document)":
        lines = text.splitlines() or [""]
        return Location(str(path), len(lines), len(lines[-1]) + 1), message
    return Location(str(path)), str(exc)
