"""FSRS-6 scheduling through the ``fsrs`` package: our card rows in, our card rows out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from dlstudy.cards.records import NEW, CardRow
from dlstudy.cards.store import Store
from dlstudy.config import Config

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATING_NAMES = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
PARAMETERS_KEY = "fsrs_parameters"


def make_scheduler(config: Config, store: Store | None = None):
    """The scheduler for this user: their settings, and their optimized parameters if `dlstudy optimize` ran."""
    import fsrs

    kwargs = {}
    saved = store.setting(PARAMETERS_KEY) if store is not None else None
    if saved:
        kwargs["parameters"] = tuple(json.loads(saved))
    return fsrs.Scheduler(
        desired_retention=config.desired_retention,
        learning_steps=config.learning_steps,
        relearning_steps=config.relearning_steps,
        enable_fuzzing=config.fuzz,
        **kwargs,
    )


def to_fsrs(row: CardRow, now: datetime):
    import fsrs

    if row.state == NEW:
        return fsrs.Card(card_id=0, due=now)
    return fsrs.Card(
        card_id=0,
        state=fsrs.State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
    )


def from_fsrs(row: CardRow, card) -> CardRow:
    return replace(
        row,
        state=int(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


def next_state(scheduler, row: CardRow, rating: int, now: datetime) -> CardRow:
    """The card after a review rated ``rating`` at ``now``."""
    import fsrs

    card, _ = scheduler.review_card(to_fsrs(row, now), fsrs.Rating(rating), now)
    return from_fsrs(row, card)


def retrievability(scheduler, row: CardRow, now: datetime) -> float:
    """Probability of recall now (0 for a card never reviewed)."""
    if row.state == NEW:
        return 0.0
    return float(scheduler.get_card_retrievability(to_fsrs(row, now), now))


def rating_for_score(score: float) -> int:
    """Auto-graded cards: right is Good, at least half right is Hard, otherwise Again."""
    if score >= 1.0:
        return GOOD
    return HARD if score >= 0.5 else AGAIN


MIN_OPTIMIZE_REVIEWS = 512  # fsrs's optimizer keeps the defaults below one mini-batch of such reviews


def countable_reviews(store: Store) -> int:
    """Reviews the optimizer learns from: a card reviewed again on a later day."""
    return sum(
        1
        for review in store.reviews(include_cram=False)
        if review.state_before is not None
        and review.state_before.last_review is not None
        and (review.reviewed_at - review.state_before.last_review).days > 0
    )


def optimize_parameters(store: Store) -> tuple[list[float], list[float]]:
    """Fit FSRS-6 parameters to this user's review log; returns (old, new) and saves the new ones."""
    import fsrs
    from fsrs.optimizer import Optimizer

    ids: dict[str, int] = {}
    logs = [
        fsrs.ReviewLog(
            card_id=ids.setdefault(review.card_id, len(ids)),
            rating=fsrs.Rating(review.rating),
            review_datetime=review.reviewed_at,
            review_duration=review.duration_ms,
        )
        for review in store.reviews(include_cram=False)
    ]
    saved = store.setting(PARAMETERS_KEY)
    old = list(json.loads(saved)) if saved else list(fsrs.Scheduler().parameters)
    new = [float(p) for p in Optimizer(logs).compute_optimal_parameters()]
    store.set_setting(PARAMETERS_KEY, json.dumps(new))
    return old, new
