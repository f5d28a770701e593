"""The core functions behind decks, quiz, stats and optimize: they return data and never print."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from dlstudy.engine.exercises import new_seed


def open_decks(extra: Sequence[str] = ()):
    """Built-in decks, the user's own (imported) decks, the config's decks and ``--deck`` paths."""
    from pathlib import Path

    from dlstudy.cards.decks import load_decks, user_deck_dir
    from dlstudy.config import load_config

    config = load_config()
    own = [user_deck_dir()] if user_deck_dir().is_dir() else []
    return config, load_decks([*own, *config.decks, *(Path(p) for p in extra)])


def decks_overview(extra: Sequence[str] = ()):
    from dlstudy.clock import system_clock
    from dlstudy.cards.stats import deck_counts
    from dlstudy.cards.store import open_store

    _, decks = open_decks(extra)
    with open_store() as store:
        return deck_counts(decks, store, system_clock())


def start_quiz(
    words: Sequence[str],
    extra: Sequence[str] = (),
    new_limit: int | None = None,
    limit: int | None = None,
    cram: bool = False,
    seed: int | None = None,
):
    """A QuizSession over the chosen decks/tags; the caller closes ``session.store``."""
    from dlstudy.clock import system_clock
    from dlstudy.cards.quiz import QuizSession, select_cards
    from dlstudy.cards.store import open_store

    config, decks = open_decks(extra)
    cards = select_cards(decks, words)
    seed = new_seed() if seed is None else seed
    store = open_store()
    return QuizSession(store, cards, config, system_clock, np.random.default_rng(seed), cram=cram,
                       new_limit=new_limit, limit=limit)


def study_statistics(extra: Sequence[str] = (), days: int = 30) -> dict[str, Any]:
    from dlstudy.clock import system_clock
    from dlstudy.cards.scheduling import make_scheduler
    from dlstudy.cards.stats import study_stats
    from dlstudy.cards.store import open_store

    config, decks = open_decks(extra)
    with open_store() as store:
        return study_stats(decks, store, make_scheduler(config, store), system_clock(), days)


def optimize() -> dict[str, Any]:
    """Fit FSRS parameters to the review log when it is large enough; says how far off it is when not."""
    from dlstudy.cards.scheduling import MIN_OPTIMIZE_REVIEWS, countable_reviews, optimize_parameters
    from dlstudy.cards.store import open_store

    with open_store() as store:
        count = countable_reviews(store)
        if count < MIN_OPTIMIZE_REVIEWS:
            return {"optimized": False, "reviews": count, "needed": MIN_OPTIMIZE_REVIEWS}
        old, new = optimize_parameters(store)
    return {"optimized": True, "reviews": count, "needed": MIN_OPTIMIZE_REVIEWS, "old": old, "new": new}
