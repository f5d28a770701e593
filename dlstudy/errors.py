"""The one error type shown to users."""

from __future__ import annotations


class DlstudyError(Exception):
    """A mistake the user can fix: bad input, unknown id, malformed file.

    The CLI prints ``message`` on one line to stderr and exits with ``exit_code``.
    Anything that is not a DlstudyError is a bug and is allowed to crash loudly.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
