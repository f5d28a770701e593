"""The core functions behind each command: they return data and never print."""

from __future__ import annotations

import secrets
from typing import Any, Sequence

import numpy as np

from dlstudy import engine
from dlstudy.engine import Solution, Variant
from dlstudy.errors import DlstudyError
from dlstudy.templates import Template, all_templates, did_you_mean, get_template, template_ids


def new_seed() -> int:
    """A fresh seed short enough to copy off a printed sheet."""
    return secrets.randbelow(1_000_000)


def generate(problem_id: str, seed: int | None = None) -> tuple[Variant, Solution]:
    template = get_template(problem_id)
    variant = engine.sample(template, new_seed() if seed is None else seed)
    return variant, engine.solve(template, variant.params)


def solve_numbers(problem_id: str, assignments: Sequence[str]) -> Solution:
    """Solve a template for the student's own numbers (``name=value`` strings)."""
    template = get_template(problem_id)
    params = engine.coerce_params(template, engine.parse_assignments(list(assignments)))
    return engine.solve(template, params)


def solution_for(problem_id: str, assignments: Sequence[str], seed: int | None) -> Solution:
    """The solution to check against: a generated variant (``seed``) or the student's numbers."""
    if seed is not None:
        if assignments:
            raise DlstudyError("give either --seed or NAME=VALUE parameters, not both")
        return generate(problem_id, seed)[1]
    return solve_numbers(problem_id, assignments)


def solution_dict(solution: Solution) -> dict[str, Any]:
    from dlstudy.formatting import to_jsonable

    return {
        "id": solution.template.id,
        "params": {k: to_jsonable(v) for k, v in solution.params.items()},
        "answer": engine.answer_jsonable(solution),
        "answer_text": solution.answer_text,
        "steps": [s.to_dict() for s in solution.steps],
    }


def selected_ids(selection: Sequence[str]) -> list[str]:
    """Template ids for a drill or sheet: every word is a topic or an id; nothing means all.

    Only topic words need the templates parsed (to read their topics).
    """
    ids = template_ids()
    chosen: dict[str, None] = {}
    for word in selection or ids:
        if word in ids:
            chosen[word] = None
            continue
        topics = sorted({t.topic for t in all_templates()})
        if word not in topics:
            hint = did_you_mean(word, [*topics, *ids])
            raise DlstudyError(f"{word!r} is neither a topic nor a problem id{hint} (topics: {', '.join(topics)})")
        chosen.update((t.id, None) for t in all_templates(word))
    return list(chosen)


def plan_drill(selection: Sequence[str], count: int, seed: int | None) -> tuple[int, list[tuple[Template, int]]]:
    """Which templates, with which seeds: as varied as the selection allows, reproducible by ``seed``.

    Only the templates drawn are parsed.
    """
    ids = selected_ids(selection)
    seed = new_seed() if seed is None else seed
    rng = np.random.default_rng(seed)
    plan: list[tuple[Template, int]] = []
    while len(plan) < count:
        for index in rng.permutation(len(ids)):
            plan.append((get_template(ids[index]), int(rng.integers(1_000_000))))
            if len(plan) == count:
                break
    return seed, plan


# ---------------------------------------------------------------------------
# Decks, quiz, stats


def open_decks(extra: Sequence[str] = ()):
    """Built-in decks, the user's own (imported) decks, the config's decks and ``--deck`` paths."""
    from pathlib import Path

    from dlstudy.config import load_config
    from dlstudy.decks import load_decks

    from dlstudy.decks import user_deck_dir

    config = load_config()
    own = [user_deck_dir()] if user_deck_dir().is_dir() else []
    return config, load_decks([*own, *config.decks, *(Path(p) for p in extra)])


def decks_overview(extra: Sequence[str] = ()):
    from dlstudy.clock import system_clock
    from dlstudy.stats import deck_counts
    from dlstudy.store import open_store

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
    from dlstudy.quiz import QuizSession, select_cards
    from dlstudy.store import open_store

    config, decks = open_decks(extra)
    cards = select_cards(decks, words)
    seed = new_seed() if seed is None else seed
    store = open_store()
    return QuizSession(store, cards, config, system_clock, np.random.default_rng(seed), cram=cram,
                       new_limit=new_limit, limit=limit)


def study_statistics(extra: Sequence[str] = (), days: int = 30) -> dict[str, Any]:
    from dlstudy.clock import system_clock
    from dlstudy.scheduling import make_scheduler
    from dlstudy.stats import study_stats
    from dlstudy.store import open_store

    config, decks = open_decks(extra)
    with open_store() as store:
        return study_stats(decks, store, make_scheduler(config, store), system_clock(), days)


def optimize() -> dict[str, Any]:
    """Fit FSRS parameters to the review log when it is large enough; says how far off it is when not."""
    from dlstudy.scheduling import MIN_OPTIMIZE_REVIEWS, countable_reviews, optimize_parameters
    from dlstudy.store import open_store

    with open_store() as store:
        count = countable_reviews(store)
        if count < MIN_OPTIMIZE_REVIEWS:
            return {"optimized": False, "reviews": count, "needed": MIN_OPTIMIZE_REVIEWS}
        old, new = optimize_parameters(store)
    return {"optimized": True, "reviews": count, "needed": MIN_OPTIMIZE_REVIEWS, "old": old, "new": new}
