"""The records of the review history: a card's row (its FSRS state, suspended, buried), a review, a drilled
problem; moments as fixed-width UTC text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
STATE_NAMES = {NEW: "new", LEARNING: "learning", REVIEW: "review", RELEARNING: "relearning"}


def iso(moment: datetime) -> str:
    """UTC, fixed width, so text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class CardRow:
    card_id: str
    deck: str
    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    suspended: bool = False
    buried_until: datetime | None = None  # hidden until then (bury)

    def buried(self, now: datetime) -> bool:
        return self.buried_until is not None and self.buried_until > now

    @property
    def idle(self) -> bool:
        """Nothing happened to the card: never reviewed, neither suspended nor buried (such a card has no row)."""
        return self.state == NEW and not self.suspended and self.buried_until is None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["due"] = iso(self.due) if self.due else None
        data["last_review"] = iso(self.last_review) if self.last_review else None
        data["buried_until"] = iso(self.buried_until) if self.buried_until else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CardRow":
        data = dict(data)
        data["due"] = from_iso(data.get("due"))
        data["last_review"] = from_iso(data.get("last_review"))
        data["suspended"] = bool(data.get("suspended", False))
        data["buried_until"] = from_iso(data.get("buried_until"))
        return cls(**data)


@dataclass(frozen=True)
class Review:
    id: int
    card_id: str
    deck: str
    rating: int
    reviewed_at: datetime
    duration_ms: int | None
    answer: str | None
    cram: bool
    state_before: CardRow | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "card_id": self.card_id,
            "deck": self.deck,
            "rating": self.rating,
            "reviewed_at": iso(self.reviewed_at),
            "duration_ms": self.duration_ms,
            "answer": self.answer,
            "cram": self.cram,
            "state_before": self.state_before.to_dict() if self.state_before else None,
        }


@dataclass(frozen=True)
class DrillRecord:
    """One problem of a drill, as answered."""

    id: int
    template: str
    seed: int
    question: str  # the case asked ("" when the template has no cases)
    score: float | None  # None: skipped
    answer: str | None
    done_at: datetime
    duration_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done_at": iso(self.done_at)}
