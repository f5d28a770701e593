"""What the review history says: activity, true retention, states, forecast, mastery per topic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from dlstudy.cards.model import Deck
from dlstudy.cards.records import NEW, REVIEW, STATE_NAMES
from dlstudy.cards.scheduling import AGAIN, retrievability
from dlstudy.cards.store import Store
from dlstudy.clock import day_start, study_day


@dataclass(frozen=True)
class DeckCounts:
    name: str
    title: str
    cards: int
    new: int
    learning: int
    review: int
    due: int
    suspended: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def deck_counts(decks: Sequence[Deck], store: Store, now: datetime) -> list[DeckCounts]:
    """Per deck: cards, never reviewed, in (re)learning, in review, due now, suspended."""
    rows = store.cards()
    result = []
    for deck in decks:
        counts: Counter[str] = Counter()
        cards = deck.cards
        for card in cards:
            row = rows.get(card.id)
            if row is None or row.state == NEW:
                counts["new"] += 0 if row and row.suspended else 1
            elif row.state == REVIEW:
                counts["review"] += 1
            else:
                counts["learning"] += 1
            if row is not None and row.suspended:
                counts["suspended"] += 1
            elif row is not None and row.due is not None and row.due <= now and not row.buried(now):
                counts["due"] += 1
        result.append(
            DeckCounts(deck.name, deck.title, len(cards), counts["new"], counts["learning"], counts["review"],
                       counts["due"], counts["suspended"])
        )
    return result


def study_stats(decks: Sequence[Deck], store: Store, scheduler: Any, now: datetime, days: int = 14) -> dict[str, Any]:
    """Everything `dlstudy stats` shows, as plain data."""
    today = study_day(now)
    first = today - timedelta(days=days - 1)
    reviews = list(store.reviews(since=day_start(first), include_cram=False))
    per_day = Counter(study_day(r.reviewed_at) for r in reviews)
    activity = [{"date": (first + timedelta(days=i)).isoformat(), "reviews": per_day.get(first + timedelta(days=i), 0)}
                for i in range(days)]
    # True retention: how often a card that was already in review was recalled (not Again).
    matured = [r for r in reviews if r.state_before is not None and r.state_before.state == REVIEW]
    retention = (sum(r.rating != AGAIN for r in matured) / len(matured)) if matured else None

    rows = store.cards()
    all_cards = [card for deck in decks for card in deck.cards]
    states: Counter[str] = Counter()
    for card in all_cards:
        row = rows.get(card.id)
        if row is not None and row.suspended:
            states["suspended"] += 1
        else:
            states[STATE_NAMES[row.state if row else NEW]] += 1

    forecast: Counter[int] = Counter()
    for card in all_cards:
        row = rows.get(card.id)
        if row is None or row.suspended or row.due is None:
            continue
        offset = max(0, (study_day(row.due) - today).days)
        if offset < 14:
            forecast[offset] += 1
    due_forecast = [{"date": (today + timedelta(days=d)).isoformat(), "due": forecast.get(d, 0)} for d in range(14)]

    topics = []
    # A lapse is forgetting a card already learned (Again on a card in review), not missing a new one.
    lapses = Counter(r.deck for r in reviews if r.rating == AGAIN and r.state_before is not None
                     and r.state_before.state == REVIEW)
    for deck in decks:
        cards = deck.cards
        recalls = [retrievability(scheduler, rows[c.id], now) for c in cards if c.id in rows and not rows[c.id].suspended]
        seen = len(recalls)
        mastery = sum(recalls) / len(cards) if cards else 0.0  # unseen cards count as 0
        topics.append(
            {"deck": deck.name, "title": deck.title, "cards": len(cards), "studied": seen,
             "mastery": round(mastery, 4), "recall_of_studied": round(sum(recalls) / seen, 4) if seen else None,
             "lapses": lapses.get(deck.name, 0)}
        )
    studied_topics = [t for t in topics if t["studied"]]
    weakest = sorted(studied_topics, key=lambda t: (t["recall_of_studied"], -t["lapses"]))[:3]
    return {
        "now": now.isoformat(),
        "days": days,
        "reviews": len(reviews),
        "activity": activity,
        "true_retention": round(retention, 4) if retention is not None else None,
        "matured_reviews": len(matured),
        "states": {name: states.get(name, 0) for name in ("new", "learning", "review", "relearning", "suspended")},
        "due_forecast": due_forecast,
        "due_now": sum(1 for c in all_cards if (r := rows.get(c.id)) is not None and not r.suspended
                       and not r.buried(now) and r.due is not None and r.due <= now),
        "topics": topics,
        "weakest": [t["deck"] for t in weakest],
    }

