"""What a review asks, and how a typed answer was judged: plain data between a card kind and the quiz."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

from dlstudy.cards.model import Card
from dlstudy.cards.scheduling import rating_for_score


@dataclass(frozen=True)
class Checked:
    """An auto-graded answer."""

    score: float  # 1.0 is fully right
    expected: str
    feedback: tuple[str, ...] = ()

    @property
    def rating(self) -> int:
        return rating_for_score(self.score)


@dataclass(frozen=True)
class Prompt:
    """What to show for one review of a card."""

    card: Card
    question: str  # text with $...$ math
    answer: str  # shown after the reveal / verdict
    checker: Callable[[str], Checked] | None = None  # judges a typed answer; None: reveal and grade yourself
    solution: Future | None = None  # problem cards: the engine's worked solution, solved in the background
    variant: Any = None  # problem cards: the engine Variant

    @property
    def self_graded(self) -> bool:
        return self.checker is None


def join(*parts: str) -> str:
    """Non-empty parts, one per line."""
    return "\n".join(p for p in parts if p)
