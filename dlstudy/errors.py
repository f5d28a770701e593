"""The error types shown to users: one for any fixable mistake, one for a mistake at a place in a file."""

from __future__ import annotations

from dataclasses import dataclass


class DlstudyError(Exception):
    """A mistake the user can fix: bad input, unknown id, malformed file.

    The CLI prints ``message`` on one line to stderr and exits with ``exit_code``.
    Anything that is not a DlstudyError is a bug and is allowed to crash loudly.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column (0 when unknown)."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"


class LocatedError(DlstudyError):
    """A mistake in a file the user wrote (template, deck, config, CSV): ``FILE:LINE:COL: message``."""

    def __init__(self, location: Location, problem: str, exit_code: int = 2) -> None:
        super().__init__(f"{location}: {problem}", exit_code)
        self.location = location
        self.problem = problem
