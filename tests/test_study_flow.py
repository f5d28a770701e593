"""The study flow around the quiz: undo of any action, bury, suspend that can be taken back, related cards
kept apart, typed cards that reveal, counts that add up, the card browser, Ctrl-C, single keys in a terminal."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app

runner = CliRunner()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

DECK = """\
deck: flow
title: Flow deck
cards:
  - {id: flow-formula, front: "Logistic sigmoid", back: "1/(1+e^-x)", tags: [formula], related: [flow-range]}
  - {id: flow-range, front: "Range of the sigmoid?", back: "(0, 1)"}
  - {id: flow-slope, front: "Largest slope of the sigmoid?", back: "1/4", related: [flow-range]}
  - {id: flow-other, front: "Why non-linear activations?", back: "depth"}
  - id: flow-typed
    kind: typed
    front: "d/dx tanh(x)?"
    answer: "1 - tanh(x)^2"
    answer_kind: expression
  - {id: flow-cloze, kind: cloze, text: "{{c1::alpha}} and {{c2::beta}}"}
"""


@pytest.fixture
def deck(tmp_path):
    path = tmp_path / "flow.yaml"
    path.write_text(DECK)
    return path


def quiz(deck, lines, when=T0, *args):
    env = {"DLSTUDY_NOW": when.isoformat(), "COLUMNS": "100"}
    result = runner.invoke(app, ["quiz", "flow", "--deck", str(deck), "--seed", "1", *args],
                           input="".join(f"{line}\n" for line in lines), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def shown(result) -> list[str]:
    return [w for line in result.stdout.splitlines() if "─" in line for w in line.split() if w.startswith("flow-")]


def db_rows(home, query):
    db = sqlite3.connect(home / "reviews.sqlite3")
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_related_cards_wait_for_the_next_day_unless_asked(home, deck):
    first = quiz(deck, ["4"] * 10, T0, "--kind", "basic")
    # formula and range are related, slope and range share 'flow-range': one card of that family a day
    assert shown(first) == ["flow-formula", "flow-other"]
    assert "2 related card(s) wait until tomorrow" in first.stdout
    again = quiz(deck, ["4"] * 10, T0 + timedelta(hours=3), "--kind", "basic")
    assert shown(again) == []  # still the same day
    asked = quiz(deck, ["4"] * 10, T0 + timedelta(hours=3), "--kind", "basic", "--siblings")
    assert shown(asked) == ["flow-range", "flow-slope"]


def test_related_cards_come_back_the_next_day(home, deck):
    quiz(deck, ["4"] * 10, T0, "--kind", "basic")
    later = quiz(deck, ["4"] * 10, T0 + timedelta(days=1), "--kind", "basic")
    assert shown(later) == ["flow-range"]  # slope shares flow-range: it waits one more day


def test_undo_takes_back_a_suspend_and_a_bury(home, deck):
    result = quiz(deck, ["s", "u", "b", "u", "3", "q"], T0, "--kind", "basic")
    out = result.stdout
    assert "Undid the suspend (flow-formula)" in out and "Undid the bury (flow-formula)" in out
    assert shown(result) == ["flow-formula", "flow-other"] * 3  # each undo brings flow-formula back
    assert db_rows(home, "SELECT card_id, suspended, buried_until FROM cards") == [("flow-formula", 0, None)]
    assert db_rows(home, "SELECT card_id, rating FROM reviews") == [("flow-formula", 3)]


def test_suspend_then_unsuspend_by_id(home, deck):
    quiz(deck, ["s", "q"], T0, "--kind", "basic")
    listed = runner.invoke(app, ["cards", "--suspended", "--deck", str(deck), "--json"])
    assert [c["id"] for c in json.loads(listed.stdout)] == ["flow-formula"]
    back = runner.invoke(app, ["unsuspend", "flow-formula", "--deck", str(deck)])
    assert back.exit_code == 0 and "Unsuspended: flow-formula" in back.stdout
    assert db_rows(home, "SELECT * FROM cards") == []  # a card to which nothing happened has no row
    assert shown(quiz(deck, ["q"], T0, "--kind", "basic")) == ["flow-formula"]


def test_bury_hides_until_the_next_study_day(home, deck):
    quiz(deck, ["b", "q"], T0, "--kind", "basic")
    # flow-formula was buried, not reviewed: its related cards may come today
    assert shown(quiz(deck, ["q"], T0 + timedelta(hours=2), "--kind", "basic")) == ["flow-range"]
    assert shown(quiz(deck, ["q"], T0 + timedelta(days=1), "--kind", "basic")) == ["flow-formula"]
    runner.invoke(app, ["bury", "flow-cloze", "--deck", str(deck)], env={"DLSTUDY_NOW": T0.isoformat()})
    assert shown(quiz(deck, ["q"], T0, "--kind", "cloze")) == []
    runner.invoke(app, ["unbury", "flow-cloze::c1", "--deck", str(deck)], env={"DLSTUDY_NOW": T0.isoformat()})
    assert shown(quiz(deck, ["q"], T0, "--kind", "cloze")) == ["flow-cloze::c1"]


def test_cram_suspend_only_sets_aside_and_says_nothing_is_saved_to_the_schedule(home, deck):
    result = quiz(deck, ["s", "3", "q"], T0, "--cram", "--kind", "basic")
    assert "Set aside for this cram" in result.stdout
    assert "every grade so far is saved" not in result.stdout
    assert "Crammed 1 card(s) (1 Good); your schedule is unchanged." in result.stdout
    assert db_rows(home, "SELECT * FROM cards") == []
    assert db_rows(home, "SELECT cram FROM reviews") == [(1,)]


def test_typed_card_reveals_on_an_empty_line_and_the_student_grades(home, deck):
    result = quiz(deck, ["", "3"], T0, "--kind", "typed")
    assert "empty expression" not in result.stdout
    assert "Answer: 1 - tanh(x)^2" in result.stdout and "3 Good 10 min" in result.stdout
    assert db_rows(home, "SELECT rating, answer FROM reviews") == [(3, None)]
    skipped = quiz(deck, ["skip", "1"], T0 + timedelta(days=1), "--kind", "typed", "--cram")
    assert "Answer: 1 - tanh(x)^2" in skipped.stdout


def test_counter_previews_and_counts(home, deck):
    result = quiz(deck, ["", "1", "q"], T0, "--kind", "basic")
    out = result.stdout
    assert "Quiz: 2 card(s) for today." in out  # four new cards, two of them related to flow-formula
    assert "1/2  flow · basic  flow-formula" in out
    assert "1 Again 1 min · 2 Hard 6 min · 3 Good 10 min · 4 Easy 8 days" in out
    assert "→ Again · next review in 1 min" in out  # not "now": the first learning step is a minute
    assert "2/3  flow · basic  flow-other" in out  # the Again card comes back today
    assert "Reviewed 1 card(s) (1 Again); 2 left for today; 2 related card(s) wait until tomorrow" in out
    quit_at_once = quiz(deck, ["q"], T0 + timedelta(days=2), "--kind", "cloze")
    assert "Reviewed 0 card(s); 1 left for today" in quit_at_once.stdout  # the card on screen still counts


def test_where_and_keys_help(home, deck):
    result = quiz(deck, ["e", "?", "q"], T0, "--kind", "basic")
    assert f"{deck}:4:5  (flow-formula)" in result.stdout
    assert "b            bury the card until tomorrow" in result.stdout


def test_cards_browser_filters(home, deck):
    def ids(*args):
        result = runner.invoke(app, ["cards", "--deck", str(deck), *args, "--json"])
        assert result.exit_code == 0, result.output
        return [c["id"] for c in json.loads(result.stdout)]

    assert ids("--search", "sigmoid") == ["flow-formula", "flow-range", "flow-slope"]
    assert ids("--search", "sigmoid", "--search", "slope") == ["flow-slope"]
    assert ids("--kind", "cloze") == ["flow-cloze::c1", "flow-cloze::c2"]
    assert ids("--tag", "formula") == ["flow-formula"]
    assert ids("--due") == []
    builtin = runner.invoke(app, ["cards", "--deck", "activations", "--search", "sigmoid", "--kind", "basic", "--json"])
    assert "activations-sigmoid-formula" in [c["id"] for c in json.loads(builtin.stdout)]
    text = runner.invoke(app, ["cards", "--deck", str(deck)], env={"COLUMNS": "80"})
    assert "flow-cloze::c2" in text.stdout and "7 card(s)" in text.stdout


@pytest.mark.parametrize("args, message", [
    (["suspend", "flow-nope"], "no card 'flow-nope'"),
    (["cards", "--kind", "clozes"], "did you mean 'cloze'"),
    (["cards", "--tag", "formul"], "did you mean 'formula'"),
    (["quiz", "--kind", "problemm"], "did you mean 'problem'"),
])
def test_mistakes_are_one_line_exit_2(home, deck, args, message):
    result = runner.invoke(app, [*args, "--deck", str(deck)])
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_quiz_kind_filter(home, deck):
    result = quiz(deck, ["q"], T0, "--kind", "cloze")
    assert shown(result) == ["flow-cloze::c1"]


def test_stats_counts_lapses_of_learned_cards_only_and_fits_a_screen(home, deck):
    quiz(deck, ["1", "1", "1", "1", "q"], T0, "--kind", "basic", "--siblings")
    data = json.loads(runner.invoke(app, ["stats", "--deck", str(deck), "--json"]).stdout)
    flow = next(t for t in data["topics"] if t["deck"] == "flow")
    assert flow["lapses"] == 0  # Again on a new card is not a lapse
    text = runner.invoke(app, ["stats", "--deck", str(deck)], env={"COLUMNS": "80"}).stdout
    lines = text.splitlines()
    assert len(lines) <= 23 and max(len(line) for line in lines) <= 80, text
    assert "Reviews, last 14 days" in text


def _spawn(deck, home, *args):
    env = {**os.environ, "DLSTUDY_HOME": str(home), "DLSTUDY_NOW": T0.isoformat(), "COLUMNS": "100"}
    # A shell without job control starts background jobs with SIGINT ignored, and Python keeps it ignored:
    # the child gets the default action back, so Ctrl-C reaches it however the suite was started.
    return subprocess.Popen([sys.executable, "-m", "dlstudy", *args, "--deck", str(deck)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_ctrl_c_ends_the_quiz_with_its_summary_and_exit_130(home, deck):
    proc = _spawn(deck, home, "quiz", "flow", "--kind", "basic")
    proc.stdin.write("\n3\n")
    proc.stdin.flush()
    deadline = time.time() + 60
    out = ""
    while "→ Good" not in out and time.time() < deadline:
        out += proc.stdout.readline()
    time.sleep(0.5)  # waiting at the next card's prompt
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Reviewed 1 card(s) (1 Good); 2 left for today; 2 related card(s) wait" in rest
    assert "Traceback" not in err


def _pty_run(deck, home, keys: list[bytes]) -> str:
    """Drive the quiz in a pseudo-terminal, one key at a time, no Enter; returns what it printed."""
    pty = pytest.importorskip("pty")
    import select

    master, slave = pty.openpty()
    env = {**os.environ, "DLSTUDY_HOME": str(home), "DLSTUDY_NOW": T0.isoformat(), "COLUMNS": "100",
           "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "dlstudy", "quiz", "flow", "--kind", "basic", "--deck", str(deck)],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output = b""
    start = 0  # look for the next marker only in what came after the last key

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal output
        deadline = time.time() + timeout
        while marker not in output[start:] and time.time() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    output += os.read(master, 4096)
                except OSError:
                    return

    try:
        for key, wait_for in keys:
            read_until(wait_for)
            start = len(output)
            os.write(master, key)
        proc.wait(timeout=60)
        read_until(b"\x00", timeout=0.5)
    finally:
        os.close(master)
    return output.decode("utf-8", "replace")


def test_single_keys_in_a_terminal(home, deck):
    out = _pty_run(deck, home, [(b" ", b"show answer"), (b"3", b"Grade"), (b"b", b"show answer"),
                                (b"q", b"show answer")])
    assert "→ Good · next review in 10 min" in out
    assert "Buried until tomorrow" in out
    assert "Reviewed 1 card(s) (1 Good)" in out
    assert db_rows(home, "SELECT card_id, rating FROM reviews") == [("flow-formula", 3)]


def test_keys_typed_ahead_are_not_lost(home, deck):
    out = _pty_run(deck, home, [(b" 3", b"show answer"), (b"q", b"show answer")])
    assert "→ Good · next review in 10 min" in out
    assert db_rows(home, "SELECT card_id, rating FROM reviews") == [("flow-formula", 3)]
