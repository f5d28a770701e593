""""Did you mean" suggestions: one helper, one cutoff, one wording."""

from __future__ import annotations

import difflib
from typing import Iterable

CUTOFF = 0.6  # difflib's default: close enough that the suggestion is usually what was meant


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word``, or None when none is close."""
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=CUTOFF)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""``."""
    match = closest(word, candidates)
    return f"; did you mean {match!r}?" if match else ""
