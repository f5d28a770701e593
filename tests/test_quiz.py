"""The quiz end to end: scheduling equals fsrs's own, history survives kills and concurrency."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import fsrs
import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app
from dlstudy.cards.records import from_iso
from dlstudy.cards.schema import MIGRATIONS

runner = CliRunner()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

DECK = """\
deck: mini
title: Mini deck
cards:
  - {id: mini-a, front: "front a", back: "back a"}
  - {id: mini-b, front: "front b", back: "back b"}
  - {id: mini-c, front: "front c", back: "back c"}
  - id: mini-typed
    kind: typed
    front: "d/dx tanh(x)?"
    answer: "1 - tanh(x)^2"
    answer_kind: expression
"""


@pytest.fixture
def deck(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(DECK)
    return path


def quiz(deck, lines, when=T0, *args):
    env = {"DLSTUDY_NOW": when.isoformat()}
    result = runner.invoke(app, ["quiz", "mini", "--deck", str(deck), "--seed", "1", *args], input="".join(f"{l}\n" for l in lines), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def rows(home):
    db = sqlite3.connect(home / "reviews.sqlite3")
    try:
        cards = {r[0]: r for r in db.execute("SELECT card_id, state, step, stability, difficulty, due FROM cards")}
        reviews = db.execute("SELECT card_id, rating, reviewed_at, cram FROM reviews ORDER BY id").fetchall()
    finally:
        db.close()
    return cards, reviews


def test_schedule_matches_fsrs_for_the_same_review_sequence(home, deck):
    # Day 0: a Good, b Again, c Easy, typed right; then b comes back (learning step) and gets Good.
    result = quiz(deck, ["", "3", "", "1", "", "4", "1 - tanh(x)^2", "", "3"])
    assert result.exit_code == 0, result.output
    # Day 3: whatever is due, all Good.
    later = T0 + timedelta(days=3)
    quiz(deck, ["", "3"] * 10, later)

    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    expected = {cid: fsrs.Card() for cid in ("mini-a", "mini-b", "mini-c", "mini-typed")}
    _, reviews = rows(home)
    for card_id, rating, reviewed_at, cram in reviews:
        assert not cram
        expected[card_id], _ = scheduler.review_card(expected[card_id], fsrs.Rating(rating), from_iso(reviewed_at))
    cards, _ = rows(home)
    assert [r[0] for r in reviews][:5] == ["mini-a", "mini-b", "mini-c", "mini-typed", "mini-b"]
    assert [r[1] for r in reviews][:5] == [3, 1, 4, 3, 3]
    for card_id, card in expected.items():
        state, step, stability, difficulty, due = cards[card_id][1:]
        assert state == int(card.state) and step == card.step
        assert stability == pytest.approx(card.stability) and difficulty == pytest.approx(card.difficulty)
        assert from_iso(due) == card.due


def test_undo_and_suspend(home, deck):
    result = quiz(deck, ["", "1", "u", "", "4", "s", "q"])
    assert "Undid the last grade (mini-a)" in result.stdout
    cards, reviews = rows(home)
    assert [(r[0], r[1]) for r in reviews] == [("mini-a", 4)]  # the Again was taken back
    assert cards["mini-b"][1] == 0  # suspended before any review: a row in state "new"
    suspended = sqlite3.connect(home / "reviews.sqlite3").execute("SELECT suspended FROM cards WHERE card_id='mini-b'").fetchone()
    assert suspended == (1,)


def test_cram_leaves_the_schedule_alone(home, deck):
    quiz(deck, ["", "3", "", "3", "", "3", "1 - tanh(x)^2"])
    before, _ = rows(home)
    quiz(deck, ["", "1", "", "1", "", "1", "0"], T0 + timedelta(hours=1), "--cram")
    after, reviews = rows(home)
    assert before == after
    assert [r[3] for r in reviews][-4:] == [1, 1, 1, 1]


def test_typed_card_is_graded_by_the_checker(home, deck):
    result = quiz(deck, ["", "3", "", "3", "", "3", "exp(-2*x)*0 + 1 - tanh(x)**2"])
    assert "✓ Right" in result.stdout
    _, reviews = rows(home)
    assert reviews[-1][:2] == ("mini-typed", 3)


def test_malformed_deck_is_refused_and_the_database_untouched(home, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("deck: bad\ntitle: t\ncards:\n  - {id: x, kind: problem, template: nope}\n")
    result = runner.invoke(app, ["quiz", "--deck", str(bad)])
    assert result.exit_code == 2 and "bad.yaml:4:" in result.stderr
    assert not (home / "reviews.sqlite3").exists()


def test_decks_json_pinned_fields(home, deck):
    quiz(deck, ["", "3"], T0, "--limit", "1")
    result = runner.invoke(app, ["decks", "--deck", str(deck), "--json"], env={"DLSTUDY_NOW": (T0 + timedelta(hours=1)).isoformat()})
    mini = next(d for d in json.loads(result.stdout) if d["name"] == "mini")
    assert {"name", "cards", "new", "due"} <= set(mini)
    assert (mini["cards"], mini["new"], mini["learning"], mini["due"]) == (4, 3, 1, 1)


def test_stats_json(home, deck):
    quiz(deck, ["", "3", "", "1", "", "3", "0"])
    result = runner.invoke(app, ["stats", "--deck", str(deck), "--json"])
    data = json.loads(result.stdout)
    assert data["reviews"] == 4 and data["states"]["learning"] == 4
    assert len(data["due_forecast"]) == 14
    mini = next(t for t in data["topics"] if t["deck"] == "mini")
    assert mini["studied"] == 4 and 0 < mini["mastery"] <= 1


def test_database_from_a_newer_dlstudy_is_refused(home, deck):
    home.mkdir(exist_ok=True)
    db = sqlite3.connect(home / "reviews.sqlite3")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    result = runner.invoke(app, ["decks", "--deck", str(deck)])
    assert result.exit_code == 2 and "newer dlstudy" in result.stderr


def _spawn(deck, home):
    env = {**os.environ, "DLSTUDY_HOME": str(home), "DLSTUDY_NOW": T0.isoformat(), "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "dlstudy", "quiz", "mini", "--deck", str(deck)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env,
    )


def test_sigkill_mid_session_loses_no_committed_review(home, deck):
    proc = _spawn(deck, home)
    proc.stdin.write("\n3\n\n3\n\n")  # two cards graded, the third revealed and on screen
    proc.stdin.flush()
    graded, deadline = 0, time.time() + 60
    while graded < 2 and time.time() < deadline:
        line = proc.stdout.readline()
        graded += line.startswith("→ Good")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(home / "reviews.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT card_id, rating FROM reviews ORDER BY id").fetchall() == [("mini-a", 3), ("mini-b", 3)]


def test_two_quiz_processes_on_one_database(home, deck):
    procs = [_spawn(deck, home) for _ in range(2)]
    for proc in procs:  # both get their answers before either finishes, so their writes interleave
        proc.stdin.write("\n3\n\n3\n\n3\n1 - tanh(x)^2\n")
        proc.stdin.flush()
    for proc in procs:
        proc.stdin.close()
    outputs = [(proc.stdout.read(), proc.stderr.read()) for proc in procs]
    for proc in procs:
        proc.wait(timeout=120)
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert all(not err for _, err in outputs), outputs
    # No lost review: every grade either process confirmed on screen is in the database.
    confirmed = sum(line.startswith("→ ") for out, _ in outputs for line in out.splitlines())
    _, reviews = rows(home)
    assert confirmed >= 4 and len(reviews) == confirmed


def _simulate_history(store, cards, days, seed=0):
    """A simulated student: recall succeeds with the card's FSRS retrievability (seeded).

    Returns how many reviews came on a later day than the card's previous review (the ones fsrs's
    optimizer learns from), counted here independently of dlstudy's countable_reviews.
    """
    import numpy as np

    from dlstudy.config import Config
    from dlstudy.cards.scheduling import make_scheduler, next_state, retrievability
    from dlstudy.cards.store import CardRow

    rng = np.random.default_rng(seed)
    scheduler = make_scheduler(Config(fuzz=False))
    state = {f"sim-{i}": CardRow(f"sim-{i}", "sim") for i in range(cards)}
    last_day: dict[str, int] = {}
    later_day_reviews = 0
    for day in range(days):
        now = T0 + timedelta(days=day, hours=9)
        for card_id, row in list(state.items()):
            if row.due is not None and row.due > now:
                continue
            recalled = rng.random() < (0.9 if row.state == 0 else retrievability(scheduler, row, now) * 0.95)
            rating = 3 if recalled else 1
            after = next_state(scheduler, row, rating, now)
            store.record_review(card_id, "sim", rating, now, lambda _row, after=after: after)
            state[card_id] = after
            later_day_reviews += card_id in last_day and last_day[card_id] < day
            last_day[card_id] = day
    return later_day_reviews


def test_optimize_says_when_history_is_too_small(home):
    result = runner.invoke(app, ["optimize", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"optimized": False, "reviews": 0, "needed": 512}


def test_optimize_fits_and_saves_parameters(home, monkeypatch):
    import fsrs.optimizer

    from dlstudy.config import Config
    from dlstudy.cards.scheduling import make_scheduler
    from dlstudy.cards.store import open_store

    # fsrs fits in 5 passes over the log, ~1 ms per review each; one pass runs the same dlstudy code and
    # still moves the parameters. 60 cards over 120 days is about the smallest log with the 512
    # later-day reviews fsrs needs (589 reviews in all; 120 cards over 90 days made 920).
    monkeypatch.setattr(fsrs.optimizer, "num_epochs", 1)
    with open_store() as store:
        later_day_reviews = _simulate_history(store, cards=60, days=120)
    assert later_day_reviews >= 512
    result = runner.invoke(app, ["optimize", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["optimized"] and data["reviews"] == later_day_reviews
    assert len(data["new"]) == 21 and data["new"] != data["old"]
    with open_store() as store:
        assert list(make_scheduler(Config(), store).parameters) == pytest.approx(data["new"])


def _db_snapshot(home):
    db = sqlite3.connect(home / "reviews.sqlite3")
    try:
        return db.execute("SELECT * FROM reviews").fetchall(), db.execute("SELECT * FROM cards").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("bad", ["bad yaml", "duplicate id", "unknown template", "unbalanced dollar", "python tag"])
def test_every_malformed_deck_leaves_the_database_untouched(home, deck, tmp_path, bad, monkeypatch):
    from test_decks import BAD_DECKS

    quiz(deck, ["", "3"], T0, "--limit", "1")
    before = _db_snapshot(home)
    path = tmp_path / "x.yaml"
    path.write_text(BAD_DECKS[bad][0])
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["quiz", "--deck", str(path)], input="\n3\n")
    assert result.exit_code == 2 and "x.yaml:" in result.stderr
    assert _db_snapshot(home) == before
    assert not (tmp_path / "PWNED").exists()


def test_editing_a_cards_text_keeps_its_history(home, deck):
    quiz(deck, ["", "3"], T0, "--limit", "1")
    deck.write_text(DECK.replace('front: "front a"', 'front: "front a, reworded"'))
    result = runner.invoke(app, ["decks", "--deck", str(deck), "--json"])
    mini = next(d for d in json.loads(result.stdout) if d["name"] == "mini")
    assert (mini["new"], mini["learning"]) == (3, 1)


def test_decks_listed_in_the_config_file_are_used(home, deck):
    (home / "config.toml").write_text(f'fuzz = false\ndecks = ["{deck.parent}"]\n')
    result = runner.invoke(app, ["decks", "--json"])
    assert "mini" in [d["name"] for d in json.loads(result.stdout)]


DERIVATION = """\
deck: mini
title: Mini deck
cards:
  - id: mini-derive
    kind: derivation
    front: "Derive it."
    steps: ["first step", "second step", "third step", "fourth step"]
"""


def test_derivation_order_mode_is_auto_graded(home, tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(DERIVATION)
    for seed in range(20):  # find a seed whose review asks for the order
        result = runner.invoke(app, ["quiz", "mini", "--deck", str(path), "--seed", str(seed), "--cram"], input="q\n")
        if "Put these steps in order" in result.stdout:
            break
    else:
        pytest.fail("no seed asked for the order")
    letters = {}
    for line in result.stdout.splitlines():
        if len(line) > 3 and line[1] == ")" and line[3:].endswith("step"):
            letters[line[3:]] = line[0]
    order = " ".join(letters[s] for s in ("first step", "second step", "third step", "fourth step"))
    graded = runner.invoke(app, ["quiz", "mini", "--deck", str(path), "--seed", str(seed), "--cram"], input=f"{order}\n")
    assert "✓ Right" in graded.stdout
    _, reviews = rows(home)
    assert reviews[-1][:2] == ("mini-derive", 3)


def test_cjk_deck_is_listed_whole_with_its_counts(home, tmp_path):
    from rich.cells import cell_len

    path = tmp_path / "cjk.yaml"
    path.write_text("deck: cjk\ntitle: 卷积神经网络 [cnn]\ncards:\n  - {id: cjk-a, front: 什么是步幅?, back: 卷积核移动的距离}\n")
    result = runner.invoke(app, ["decks", "--deck", str(path)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    table = [l for l in result.stdout.splitlines() if l.startswith(("┃", "│", "┏", "└"))]
    cjk = next(l for l in table if l.startswith("│ cjk "))
    # the title as written (brackets are text, not console markup), then cards, new, learning, due
    assert [cell.strip() for cell in cjk.strip("│").split("│")] == ["cjk", "卷积神经网络 [cnn]", "1", "1", "0", "0"]
    assert len({cell_len(l) for l in table}) == 1, table  # wide characters counted as two columns


SIBLINGS = """\
deck: mini
title: Mini deck
cards:
  - {id: mini-rev, front: "front", back: "back", reverse: true}
  - {id: mini-cloze, kind: cloze, text: "{{c1::one}} and {{c2::two}}"}
"""


def test_siblings_are_buried_until_the_next_session(home, tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(SIBLINGS)
    result = runner.invoke(app, ["quiz", "mini", "--deck", str(path)], input="4\n4\n4\n4\n")
    shown = [w for l in result.stdout.splitlines() if "─" in l for w in l.split() if w.startswith("mini-")]
    assert shown == ["mini-rev", "mini-cloze::c1"]
    later = runner.invoke(app, ["quiz", "mini", "--deck", str(path)], input="4\n4\n4\n4\n",
                          env={"DLSTUDY_NOW": (T0 + timedelta(days=1)).isoformat()})
    assert "mini-rev::reverse" in later.stdout and "mini-cloze::c2" in later.stdout
