"""The core functions behind decks, cards, quiz, suspend/bury, exam, drill, stats and optimize.

They return data (or a session for the CLI's loop) and never print.
"""

from __future__ import annotations

from datetime import timedelta
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


# ---------------------------------------------------------------------------
# Quiz


def _planner(config, store, now):
    """The exam planner when an exam is ahead (None otherwise)."""
    from dlstudy.cards.exam import Planner, load_exams
    from dlstudy.cards.scheduling import make_scheduler
    from dlstudy.clock import study_day
    from dataclasses import replace

    exams = load_exams(store)
    if not any(day > study_day(now) for day in exams.values()):
        return None
    return Planner(exams, make_scheduler(replace(config, fuzz=False), store), config.exam_retention,
                   enough=config.desired_retention)


def start_quiz(
    words: Sequence[str],
    extra: Sequence[str] = (),
    new_limit: int | None = None,
    limit: int | None = None,
    cram: bool = False,
    seed: int | None = None,
    kinds: Sequence[str] = (),
    tags: Sequence[str] = (),
    together: bool = False,
    clock=None,
):
    """A QuizSession over the chosen decks/tags/kinds; the caller closes it (``session.close()``).

    With an exam ahead the session plans for it (``cards.exam``); its forecast is ``session.forecast``.
    ``clock`` defaults to the system clock (``DLSTUDY_NOW``).
    """
    from dlstudy.clock import system_clock
    from dlstudy.cards.families import Relations
    from dlstudy.cards.browse import select_cards
    from dlstudy.cards.quiz import QuizSession
    from dlstudy.cards.store import open_store

    config, decks = open_decks(extra)
    cards = select_cards(decks, words, kinds, tags)
    if not cards:
        raise _nothing_selected(words, kinds, tags)
    seed = new_seed() if seed is None else seed
    store = open_store()
    clock = clock or system_clock
    now = clock()
    planner = None if cram else _planner(config, store, now)
    forecast = None
    if planner is not None:
        forecast = _forecast(planner, decks, store, config, now)
    return QuizSession(store, cards, config, clock, np.random.default_rng(seed), cram=cram,
                       new_limit=new_limit, limit=limit, relations=Relations.of(decks), together=together,
                       planner=planner, forecast=forecast)


def _nothing_selected(words, kinds, tags):
    from dlstudy.errors import DlstudyError

    asked = " ".join([*words, *(f"--kind {k}" for k in kinds), *(f"--tag {t}" for t in tags)])
    return DlstudyError(f"no card matches {asked!r}; see them with `dlstudy cards`")


def _forecast(planner, decks, store, config, now):
    from dlstudy.cards.exam import simulate

    rows = store.cards()
    cards = [(c.id, c.deck, c.note.id) for d in decks for c in d.cards
             if not (c.id in rows and rows[c.id].suspended) and planner.exam_for(c.deck, now)]
    return simulate(planner, cards, rows, now)


# ---------------------------------------------------------------------------
# Cards: browse, suspend, unsuspend, bury, unbury


def list_cards(
    words: Sequence[str] = (), decks_: Sequence[str] = (), kinds: Sequence[str] = (), tags: Sequence[str] = (),
    suspended: bool = False, due: bool = False,
):
    """``dlstudy cards``: the cards matching every filter. ``decks_`` are deck names, or deck files or
    folders (loaded, and their decks chosen)."""
    from pathlib import Path

    from dlstudy.cards.browse import browse
    from dlstudy.cards.decks import deck_files, load_deck
    from dlstudy.cards.store import open_store
    from dlstudy.clock import system_clock

    paths = [d for d in decks_ if Path(d).expanduser().exists()]
    names = [d for d in decks_ if d not in paths] + [load_deck(f).name for f in deck_files([Path(p) for p in paths])]
    _, decks = open_decks(paths)
    with open_store() as store:
        return browse(decks, store.cards(), system_clock(), words, names, kinds, tags, suspended, due)


def change_cards(action: str, ids: Sequence[str], extra: Sequence[str] = ()) -> dict[str, Any]:
    """Suspend, unsuspend, bury (until the next study day) or unbury the cards named (card or note ids)."""
    from dlstudy.cards.browse import resolve
    from dlstudy.cards.store import open_store
    from dlstudy.clock import day_start, study_day, system_clock

    _, decks = open_decks(extra)
    cards = resolve(decks, ids)
    now = system_clock()
    until = day_start(study_day(now) + timedelta(days=1))
    changed = []
    with open_store() as store:
        for card in cards:
            row = store.card(card.id)
            if action == "suspend" and not (row and row.suspended):
                store.set_suspended(card.id, card.deck, True)
            elif action == "unsuspend" and row and row.suspended:
                store.set_suspended(card.id, card.deck, False)
            elif action == "bury" and not (row and row.buried(now)):
                store.set_buried(card.id, card.deck, until)
            elif action == "unbury" and row and row.buried(now):
                store.set_buried(card.id, card.deck, None)
            else:
                continue
            changed.append(card.id)
    return {"action": action, "changed": changed, "unchanged": [c.id for c in cards if c.id not in changed],
            "until": until.isoformat() if action == "bury" else None}


# ---------------------------------------------------------------------------
# Exam


def set_exam(day_text: str, names: Sequence[str], extra: Sequence[str] = ()) -> dict[str, Any]:
    """Plan for an exam on ``day_text`` in the decks named (all when none): store it, move the reviews
    scheduled past it into the days before it, and return the plan."""
    from dlstudy.cards.decks import choose_decks
    from dlstudy.cards.exam import ALL, Workload, load_exams, parse_day, save_exams
    from dlstudy.cards.store import open_store
    from dlstudy.clock import study_day, system_clock
    from dlstudy.errors import DlstudyError

    day = parse_day(day_text)
    now = system_clock()
    if day <= study_day(now):
        raise DlstudyError(f"the exam day {day} is not ahead (today is {study_day(now)}); give a later date")
    config, decks = open_decks(extra)
    chosen = choose_decks(decks, names)
    with open_store() as store:
        exams = load_exams(store)
        for key in names or [ALL]:
            exams[key] = day
        save_exams(store, exams)
        planner = _planner(config, store, now)
        _forecast(planner, decks, store, config, now)  # sets the daily target the moves respect
        in_exam = {d.name for d in chosen}
        load = Workload.from_store(store, lambda deck: planner.exam_for(deck, now) is not None, study_day(now),
                                   day + timedelta(days=1))
        moved = {}
        for card_id, row in store.cards().items():
            if row.deck not in in_exam or row.suspended or row.due is None:
                continue
            placed = planner.place(row, now, load)
            if placed.due != row.due:
                load.move(row.due, placed.due)
                moved[card_id] = placed.due
        store.set_due(moved)
    status = exam_status(extra)
    return {**status, "set": {"date": day.isoformat(), "decks": list(names)}, "moved": len(moved)}


def clear_exam(names: Sequence[str]) -> dict[str, Any]:
    """Forget the exam of the decks named (every exam when none); the schedule stays as it is."""
    from dlstudy.cards.exam import ALL, load_exams, save_exams
    from dlstudy.cards.store import open_store
    from dlstudy.errors import DlstudyError

    with open_store() as store:
        exams = load_exams(store)
        keys = list(names) if names else list(exams)
        unknown = [k for k in keys if k not in exams and not (k == ALL and not names)]
        if names and unknown:
            raise DlstudyError(f"no exam is set for {', '.join(unknown)} (`dlstudy exam show` lists them)")
        for key in keys:
            exams.pop(key, None)
        save_exams(store, exams)
    return {"cleared": keys}


def exam_status(extra: Sequence[str] = ()) -> dict[str, Any]:
    """The exams ahead, the plan to them (work per day, daily target) and the predicted recall on each exam
    morning per deck: if you stop now, and if you follow the plan."""
    from dlstudy.cards.store import open_store
    from dlstudy.clock import system_clock

    config, decks = open_decks(extra)
    with open_store() as store:
        return _exam_status(config, decks, store, system_clock())


def _exam_status(config, decks, store, now) -> dict[str, Any]:
    from dlstudy.cards.exam import ALL, load_exams
    from dlstudy.clock import study_day

    today = study_day(now)
    exams = load_exams(store)
    planner = _planner(config, store, now)
    if planner is None:
        return {"today": today.isoformat(), "exams": [], "plan": None, "decks": []}
    forecast = _forecast(planner, decks, store, config, now)
    rows = store.cards()
    per_deck = []
    for deck in decks:
        exam = planner.exam_for(deck.name, now)
        if exam is None:
            continue
        ids = [c.id for c in deck.cards if c.id in forecast.recall_now]
        seen = sum(1 for c in ids if c in rows and rows[c].state != 0)
        per_deck.append({
            "deck": deck.name, "exam": exam.isoformat(), "cards": len(ids), "seen": seen,
            "recall_now": round(sum(forecast.recall_now[c] for c in ids) / len(ids), 4) if ids else None,
            "recall_on_plan": round(sum(forecast.recall_on_plan[c] for c in ids) / len(ids), 4) if ids else None,
        })
    ahead = sorted({(day, key) for key, day in exams.items() if day > today})
    return {
        "today": today.isoformat(),
        "exams": [{"date": day.isoformat(), "decks": "all" if key == ALL else key,
                   "days_left": (day - today).days} for day, key in ahead],
        "plan": forecast.to_dict(),
        "decks": per_deck,
    }


def start_exam_cram(limit: int | None = None, seed: int | None = None, extra: Sequence[str] = ()):
    """A cram session over the next exam's cards, weakest first (lowest recall predicted on the exam morning);
    the schedule is left alone."""
    from dlstudy.cards.exam import exam_for, load_exams
    from dlstudy.cards.families import Relations
    from dlstudy.cards.quiz import QuizSession
    from dlstudy.cards.store import open_store
    from dlstudy.clock import study_day, system_clock
    from dlstudy.errors import DlstudyError

    config, decks = open_decks(extra)
    now = system_clock()
    store = open_store()
    exams = load_exams(store)
    planner = _planner(config, store, now)
    if planner is None:
        store.close()
        raise DlstudyError("no exam is ahead; set one with `dlstudy exam set YYYY-MM-DD [DECK ...]`")
    today = study_day(now)
    upcoming = {deck.name: exam_for(exams, deck.name, today) for deck in decks}
    if not any(upcoming.values()):
        store.close()
        raise DlstudyError("no exam is ahead for the decks loaded; `dlstudy exam show` lists the exams")
    first = min(day for day in upcoming.values() if day is not None)
    cards = [c for d in decks if upcoming[d.name] == first for c in d.cards]
    rows = store.cards()
    order = sorted((c.id for c in cards), key=lambda cid: planner.recall_at_exam(rows[cid], first) if cid in rows else 0.0)
    seed = new_seed() if seed is None else seed
    return QuizSession(store, cards, config, system_clock, np.random.default_rng(seed), cram=True, limit=limit,
                       relations=Relations.of(decks), order=order, exam=first)


# ---------------------------------------------------------------------------
# Drill


def start_drill(selection: Sequence[str], count: int, seed: int | None, extra: Sequence[str] = ()):
    """A DrillSession whose problems are logged to the review store as they are answered; without a
    selection, the templates most worth drilling come first (``cards.mastery.drill_order``)."""
    from dlstudy.cards.store import open_store
    from dlstudy.clock import system_clock
    from dlstudy.engine.drill import DrillSession

    store = open_store()
    order = None
    seed = new_seed() if seed is None else seed
    if not selection:
        from dlstudy.cards.mastery import drill_order

        config, decks = open_decks(extra)
        order = drill_order(_masteries(store, config, decks), np.random.default_rng(seed))

    def journal(template: str, variant_seed: int, case: str, score, answer, duration_ms) -> None:
        store.record_drill(template, variant_seed, case, score, answer, system_clock(), duration_ms)

    try:
        session = DrillSession(selection, count, seed, order=order, journal=journal)
    except BaseException:
        store.close()
        raise
    session.store = store
    session.adaptive = order is not None
    return session


def _masteries(store, config, decks):
    from dlstudy.cards.mastery import attempts, masteries, skill_scheduler
    from dlstudy.clock import system_clock
    from dlstudy.engine.templates import headings

    problem_cards = {c.id: c.note.fields["template"] for d in decks for c in d.cards if c.note.fields.get("template")}
    return masteries(headings(), attempts(store, problem_cards), skill_scheduler(config, store), system_clock())


# ---------------------------------------------------------------------------
# Stats, optimize


def study_statistics(extra: Sequence[str] = (), days: int = 14) -> dict[str, Any]:
    from dlstudy.clock import system_clock
    from dlstudy.cards.mastery import by_topic
    from dlstudy.cards.scheduling import make_scheduler
    from dlstudy.cards.stats import study_stats
    from dlstudy.cards.store import open_store

    config, decks = open_decks(extra)
    now = system_clock()
    with open_store() as store:
        data = study_stats(decks, store, make_scheduler(config, store), now, days)
        found = _masteries(store, config, decks)
        data["exam"] = _exam_status(config, decks, store, now)
    data["problems"] = {
        "topics": by_topic(found),
        "weakest": [m.to_dict() for m in sorted((m for m in found.values() if m.attempts), key=lambda m: m.recall)[:5]],
        "templates": [m.to_dict() for m in found.values()],
    }
    return data


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
