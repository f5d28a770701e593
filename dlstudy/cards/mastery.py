"""How well the student solves each problem template: an FSRS memory state per template.

Every attempt at a template — a drilled problem (``drills`` in the store) or a
review of its problem card — is a review of the template: fully right is
Good, at least half right Hard, less (or skipped) Again, a problem card's own
grade as given. Replaying them in order through FSRS (no learning steps: each
attempt is a review of a skill, not a card being learned) gives the
template's stability, and its **mastery** is FSRS's retrievability a day from
now: the probability of solving a fresh variant tomorrow. (FSRS counts whole
days, so a same-day figure would read 100 % right after any attempt, even a
failed one.) It decays between attempts, as skills do before an exam, and
rises with spaced successes.

Why FSRS and not Elo or BKT: the same model as the cards, with the same
parameters (the user's optimized ones when `dlstudy optimize` has run), so a
template's mastery and a card's recall read alike; it needs no per-template
difficulty calibration (Elo) and no guess/slip parameters (BKT) that a
single student's history could not fit; and its due date says when a
template is worth drilling again.

``drill`` without arguments asks the templates in ``drill_order``: due ones
first, weakest (lowest mastery) first, then those never tried, then the rest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from dlstudy.cards.scheduling import AGAIN, rating_for_score
from dlstudy.cards.store import Store
from dlstudy.config import Config


@dataclass(frozen=True)
class Attempt:
    template: str
    rating: int
    at: datetime
    right: bool


@dataclass(frozen=True)
class Mastery:
    template: str
    topic: str
    title: str
    attempts: int
    right: int  # fully right
    recall: float  # FSRS retrievability a day from now (0 when never tried)
    due: bool  # never tried, or FSRS's next review of it has come
    last: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template, "topic": self.topic, "title": self.title, "attempts": self.attempts,
                "right": self.right, "mastery": round(self.recall, 4), "due": self.due,
                "last": self.last.isoformat() if self.last else None}


def skill_scheduler(config: Config, store: Store | None = None):
    """FSRS for skills: the user's parameters and retention, no learning steps, no fuzz."""
    import fsrs

    from dlstudy.cards.scheduling import PARAMETERS_KEY

    kwargs = {}
    saved = store.setting(PARAMETERS_KEY) if store is not None else None
    if saved:
        import json

        kwargs["parameters"] = tuple(json.loads(saved))
    return fsrs.Scheduler(desired_retention=config.desired_retention, learning_steps=(), relearning_steps=(),
                          enable_fuzzing=False, **kwargs)


def attempts(store: Store, problem_cards: Mapping[str, str]) -> list[Attempt]:
    """Every attempt at a template: drilled problems and reviews of problem cards (``problem_cards``: card id ->
    template id), cram reviews included (solving a problem is practice however it was asked)."""
    found = [
        Attempt(d.template, AGAIN if d.score is None else rating_for_score(d.score), d.done_at,
                d.score is not None and d.score >= 1.0)
        for d in store.drills()
    ]
    for review in store.reviews():
        template = problem_cards.get(review.card_id)
        if template is not None:
            found.append(Attempt(template, review.rating, review.reviewed_at, review.rating > AGAIN))
    return sorted(found, key=lambda a: a.at)


def masteries(templates: Sequence[Any], found: Iterable[Attempt], scheduler: Any, now: datetime) -> dict[str, Mastery]:
    """Template id -> its mastery now, for every template given (anything with ``id``, ``topic`` and ``title``,
    e.g. ``engine.templates.Heading``)."""
    import fsrs

    by_template: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in found:
        by_template[attempt.template].append(attempt)
    result = {}
    for template in templates:
        history = by_template.get(template.id, [])
        card = fsrs.Card(card_id=0, due=now)
        for attempt in history:
            card, _ = scheduler.review_card(card, fsrs.Rating(attempt.rating), attempt.at)
        recall = float(scheduler.get_card_retrievability(card, now + timedelta(days=1))) if history else 0.0
        result[template.id] = Mastery(
            template.id, template.topic, template.title, len(history), sum(a.right for a in history), recall,
            not history or card.due <= now, history[-1].at if history else None,
        )
    return result


def drill_order(found: Mapping[str, Mastery], rng: np.random.Generator) -> list[str]:
    """Template ids, the ones most worth drilling first: due and weakest, then never tried (shuffled), then
    the rest, weakest first."""
    items = list(found.values())
    shuffled = {m.template: float(rng.random()) for m in items}

    def key(m: Mastery) -> tuple:
        if m.attempts and m.due:
            return (0, m.recall, shuffled[m.template])
        if not m.attempts:
            return (1, 0.0, shuffled[m.template])
        return (2, m.recall, shuffled[m.template])

    return [m.template for m in sorted(items, key=key)]


def by_topic(found: Mapping[str, Mastery]) -> dict[str, dict[str, Any]]:
    """Topic -> templates, how many were tried, and mean mastery (untried templates count 0)."""
    topics: dict[str, list[Mastery]] = defaultdict(list)
    for m in found.values():
        topics[m.topic].append(m)
    return {
        topic: {"templates": len(ms), "tried": sum(1 for m in ms if m.attempts),
                "mastery": round(sum(m.recall for m in ms) / len(ms), 4)}
        for topic, ms in sorted(topics.items())
    }
