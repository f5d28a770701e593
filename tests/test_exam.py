"""Exam-date planning end to end: days of reviews simulated with DLSTUDY_NOW up to the exam date."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app

runner = CliRunner()
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)  # an evening; study days start at 04:00
EXAM = date(2026, 12, 7)  # 14 study days after T0's


def exam_deck(path):
    """60 cards: plain ones, reversed ones, two-gap cloze notes, and families linked with `related`."""
    lines = ["deck: exam", "title: Exam deck", "cards:"]
    for i in range(30):
        related = f", related: [exam-b{i - 1}]" if i % 3 else ""
        lines.append(f'  - {{id: exam-b{i}, front: "question {i}", back: "answer {i}"{related}}}')
    for i in range(8):
        lines.append(f'  - {{id: exam-r{i}, front: "term {i}", back: "definition {i}", reverse: true}}')
    for i in range(7):
        lines.append(f'  - {{id: exam-c{i}, kind: cloze, text: "{{{{c1::alpha {i}}}}} then {{{{c2::beta {i}}}}}"}}')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def deck(tmp_path):
    return exam_deck(tmp_path / "exam.yaml")


@pytest.fixture
def slow_home(home):
    """Three new cards a day: without an exam plan, 60 cards are not all seen in 14 days."""
    (home / "config.toml").write_text("fuzz = false\nnew_per_day = 3\n")
    return home


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def study_days(deck, days: int, seed: int = 0, answer_rate: float = 0.9):
    """A student who studies every evening until nothing is left, recalling a card with FSRS's own
    retrievability (new cards: ``answer_rate``). Returns the cards studied per day."""
    from dlstudy.cards import study
    from dlstudy.cards.scheduling import AGAIN, GOOD, retrievability
    from dlstudy.cards.store import CardRow

    rng = np.random.default_rng(seed)
    per_day = []
    for day in range(days):
        clock = Clock(T0 + timedelta(days=day))
        session = study.start_quiz(["exam"], [str(deck)], seed=day, clock=clock)
        studied = set()
        try:
            while (card := session.next_card()) is not None:
                row = session.store.card(card.id) or CardRow(card.id, card.deck)
                chance = answer_rate if row.state == 0 else retrievability(session.scheduler, row, clock.now)
                session.grade(card, GOOD if rng.random() < chance else AGAIN)
                studied.add(card.id)
                clock.now += timedelta(minutes=2)
        finally:
            session.close()
        per_day.append(studied)
    return per_day


def reviews_before(home, day: date):
    import sqlite3

    from dlstudy.clock import day_start

    db = sqlite3.connect(home / "reviews.sqlite3")
    try:
        rows = db.execute("SELECT card_id, reviewed_at FROM reviews WHERE cram = 0 AND reviewed_at < ?",
                          (day_start(day).isoformat(),)).fetchall()
    finally:
        db.close()
    return rows


def all_card_ids(deck):
    from dlstudy.cards.decks import load_deck

    return {card.id for card in load_deck(deck).cards}


def test_without_an_exam_not_every_card_is_seen(slow_home, deck):
    study_days(deck, 14)
    seen = {card_id for card_id, _ in reviews_before(slow_home, EXAM)}
    assert len(seen) < len(all_card_ids(deck))  # three new cards a day cannot cover 60 in 14 days


def test_every_card_is_seen_before_the_exam_with_the_work_spread(slow_home, deck):
    from dlstudy.cards.exam import Planner, exam_moment
    from dlstudy.cards.scheduling import make_scheduler
    from dlstudy.cards.store import open_store
    from dlstudy.config import Config

    set_ = runner.invoke(app, ["exam", "set", EXAM.isoformat(), "exam", "--deck", str(deck), "--json"],
                         env={"DLSTUDY_NOW": T0.isoformat()})
    assert set_.exit_code == 0, set_.output
    plan = json.loads(set_.stdout)["plan"]
    target = plan["target"]
    assert len(plan["days"]) == 14 and sum(d["new"] for d in plan["days"]) == 60

    per_day = study_days(deck, 14)

    ids = all_card_ids(deck)
    seen = {card_id for card_id, _ in reviews_before(slow_home, EXAM)}
    assert seen == ids  # every card seen before the exam day
    loads = [len(day) for day in per_day]
    assert max(loads) <= 1.5 * target + 2, (loads, target)  # no day far above the daily target
    assert min(loads[:12]) > 0  # the work is spread over the days, not saved for the end
    # And FSRS expects every card to be recalled on the exam morning.
    with open_store() as store:
        rows = store.cards()
    planner = Planner({"*": EXAM}, make_scheduler(Config(fuzz=False)))
    recall = [planner.recall_at_exam(rows[c], EXAM) for c in ids]
    assert min(recall) >= 0.85 and sum(recall) / len(recall) >= 0.95, sorted(recall)[:5]
    # Exam status says so too, on the exam's eve.
    status = runner.invoke(app, ["exam", "show", "--deck", str(deck), "--json"],
                           env={"DLSTUDY_NOW": (T0 + timedelta(days=13)).isoformat()})
    deck_status = next(d for d in json.loads(status.stdout)["decks"] if d["deck"] == "exam")
    assert deck_status["seen"] == 60 and deck_status["recall_now"] >= 0.95
    assert exam_moment(EXAM).hour == 9 or exam_moment(EXAM).tzinfo is not None


def test_exam_set_pulls_in_reviews_scheduled_after_it(home, deck):
    from dlstudy.cards import study
    from dlstudy.cards.store import open_store

    # Learned long ago: every card reviewed twice, a month apart, so FSRS schedules them far ahead.
    for days_ago in (90, 60):
        session = study.start_quiz(["exam"], [str(deck)], seed=1, clock=Clock(T0 - timedelta(days=days_ago)),
                                   new_limit=100, together=True)
        while (card := session.next_card()) is not None:
            session.grade(card, 4)
        session.close()
    with open_store() as store:
        after_exam = [r for r in store.cards().values() if r.due.date() >= EXAM]
    assert len(after_exam) > 30
    result = runner.invoke(app, ["exam", "set", EXAM.isoformat(), "--deck", str(deck), "--json"],
                           env={"DLSTUDY_NOW": T0.isoformat()})
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["moved"] > 0
    with open_store() as store:
        rows = store.cards()
    from dlstudy.cards.exam import Planner
    from dlstudy.cards.scheduling import make_scheduler
    from dlstudy.config import Config

    planner = Planner({"*": EXAM}, make_scheduler(Config(fuzz=False)))
    for row in rows.values():  # each is due before the exam, or FSRS expects it at 95 % anyway
        assert row.due.date() < EXAM or planner.recall_at_exam(row, EXAM) >= 0.95
    moved_days = Counter(r.due.date() for r in rows.values() if r.due.date() < EXAM)
    assert len(moved_days) > 3  # spread over several days, not all on the eve


def test_exam_commands_and_errors(home, deck):
    env = {"DLSTUDY_NOW": T0.isoformat()}
    past = runner.invoke(app, ["exam", "set", "2026-11-01"], env=env)
    assert past.exit_code == 2 and "not ahead" in past.stderr and len(past.stderr.strip().splitlines()) == 1
    bad = runner.invoke(app, ["exam", "set", "15/12/2026"], env=env)
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr
    unknown = runner.invoke(app, ["exam", "set", "2026-12-15", "nodeck", "--deck", str(deck)], env=env)
    assert unknown.exit_code == 2 and "no deck named 'nodeck'" in unknown.stderr
    none = runner.invoke(app, ["exam", "cram"], env=env)
    assert none.exit_code == 2 and "no exam is ahead" in none.stderr
    ok = runner.invoke(app, ["exam", "set", "2026-12-15", "exam", "--deck", str(deck)], env=env)
    assert ok.exit_code == 0 and "Exam 2026-12-15 (exam)" in ok.stdout and "daily target" in ok.stdout
    stats = json.loads(runner.invoke(app, ["stats", "--deck", str(deck), "--json"], env=env).stdout)
    assert stats["exam"]["exams"] == [{"date": "2026-12-15", "decks": "exam", "days_left": 22}]
    assert [d["deck"] for d in stats["exam"]["decks"]] == ["exam"]
    cleared = runner.invoke(app, ["exam", "clear", "--json"], env=env)
    assert json.loads(cleared.stdout) == {"cleared": ["exam"]}
    assert json.loads(runner.invoke(app, ["exam", "show", "--json"], env=env).stdout)["exams"] == []


def test_exam_cram_goes_weakest_first_and_leaves_the_schedule_alone(home, deck):
    import sqlite3

    env = {"DLSTUDY_NOW": T0.isoformat()}
    runner.invoke(app, ["quiz", "exam", "--deck", str(deck), "--limit", "3", "--new", "3"], input="4\n4\n4\n", env=env)
    runner.invoke(app, ["exam", "set", "2026-11-30", "exam", "--deck", str(deck)], env=env)
    db = sqlite3.connect(home / "reviews.sqlite3")
    before = db.execute("SELECT * FROM cards ORDER BY card_id").fetchall()
    learned = {row[0] for row in before}
    eve = {"DLSTUDY_NOW": (T0 + timedelta(days=6)).isoformat()}
    result = runner.invoke(app, ["exam", "cram", "--deck", str(deck), "--limit", "4"], input="1\n1\n1\n1\n", env=eve)
    assert result.exit_code == 0, result.output
    assert "Cram for the exam on 2026-11-30, weakest first" in result.stdout
    assert "your schedule is unchanged" in result.stdout
    shown = [w for line in result.stdout.splitlines() if "─" in line for w in line.split() if w.startswith("exam-")]
    assert len(learned) == 3 and len(shown) == 4 and not learned & set(shown)  # the unseen (recall 0) come first
    assert db.execute("SELECT * FROM cards ORDER BY card_id").fetchall() == before
    assert db.execute("SELECT COUNT(*) FROM reviews WHERE cram = 1").fetchone() == (4,)
    db.close()
