"""Adaptive drill: every problem is logged, each template has a mastery, weak and due templates come first,
a session never repeats a variant or asks the same question back to back, scores are integers or fractions."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from dlstudy.cli.app import app

runner = CliRunner()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def headers(result) -> list[tuple[str, int]]:
    """(template id, seed) of each problem the drill showed."""
    import re

    return [(m.group(1), int(m.group(2))) for m in re.finditer(r"\(([a-z0-9-]+), seed (\d+)\)", result.stdout)]


def test_a_template_with_cases_asks_a_different_question_each_time():
    result = runner.invoke(app, ["drill", "activation-derivative-formula", "-n", "3", "--seed", "2"],
                           input="skip\nskip\nskip\n", env={"COLUMNS": "200"})
    statements = [line for line in result.stdout.splitlines() if line.startswith("Write the derivative")]
    assert len(set(statements)) == 3, statements  # sigmoid, then two other activations
    seeds = [seed for _, seed in headers(result)]
    assert len(seeds) == 3 and len(set(seeds)) == 3


def test_cases_do_not_repeat_back_to_back_and_variants_never_repeat():
    from dlstudy.engine.drill import DrillSession

    with DrillSession(["activation-derivative-formula"], 12, 5) as drill:
        problems = list(drill.problems())
    cases = [p.case for p in problems]
    assert all(a != b for a, b in zip(cases, cases[1:])), cases
    assert len({p.variant.seed for p in problems}) == 12
    from dlstudy.engine.templates import get_template

    template = get_template("activation-derivative-formula")
    assert set(cases) == set(template.params[template.cases].options)  # 12 draws reach every case


def test_partial_scores_are_fractions():
    from dlstudy.engine.exercises import plan_drill, generate

    _, [(template, problem_seed)] = plan_drill(["sgd-momentum-step"], 1, 3)
    key = generate(template.id, problem_seed)[1].answer
    typed = [float(key[0])] + [float(v) + 100 for v in key[1:]]  # the first entry right, the others wrong
    result = runner.invoke(app, ["drill", "sgd-momentum-step", "-n", "1", "--seed", "3"], input=f"{typed}\n")
    n = len(key)
    assert f"Score: 0 / 1 · partly right: 1/{n}" in result.stdout and f"✗ 1/{n} right" in result.stdout
    assert "0.333" not in result.stdout and "0.5 " not in result.stdout


def test_every_drilled_problem_is_logged(home):
    result = runner.invoke(app, ["drill", "conv-output-size", "-n", "2", "--seed", "5"], input="0\nskip\n")
    assert result.exit_code == 0
    db = sqlite3.connect(home / "reviews.sqlite3")
    rows = db.execute("SELECT template, score, answer FROM drills ORDER BY id").fetchall()
    db.close()
    assert rows == [("conv-output-size", 0.0, "0"), ("conv-output-size", None, None)]


def _history(home):
    """conv-output-size failed twice a week ago; rnn-param-count solved twice, days apart."""
    from dlstudy.cards.store import open_store

    with open_store() as store:
        for days, template, score in [(9, "conv-output-size", 0.0), (7, "conv-output-size", 0.0),
                                      (20, "rnn-param-count", 1.0), (10, "rnn-param-count", 1.0),
                                      (1, "rnn-param-count", 1.0)]:
            store.record_drill(template, days, "", score, "x", T0 - timedelta(days=days))


def test_mastery_is_fsrs_recall_per_template_and_topic(home):
    _history(home)
    data = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["problems"]
    by_id = {m["template"]: m for m in data["templates"]}
    weak, strong = by_id["conv-output-size"], by_id["rnn-param-count"]
    assert weak["attempts"] == 2 and weak["right"] == 0 and weak["due"]
    assert strong["right"] == 3 and not strong["due"] and strong["mastery"] > 0.9 > weak["mastery"] > 0
    assert data["weakest"][0]["template"] == "conv-output-size"
    assert data["topics"]["rnn"]["tried"] == 1 and 0 < data["topics"]["rnn"]["mastery"] < 1
    text = runner.invoke(app, ["stats"], env={"COLUMNS": "80"}).stdout
    assert "Weakest problems: conv-output-size" in text
    listed = runner.invoke(app, ["stats", "--problems"], env={"COLUMNS": "80"}).stdout.splitlines()
    first = next(i for i, line in enumerate(listed) if "conv-output-size" in line)
    assert "due" in listed[first] and first < next(i for i, line in enumerate(listed) if "rnn-param-count" in line)


def test_drill_without_arguments_starts_with_the_weak_and_due(home):
    _history(home)
    result = runner.invoke(app, ["drill", "-n", "3", "--seed", "1"], input="")
    assert "weakest and due problems first" in result.stdout
    assert headers(result)[0][0] == "conv-output-size"
    order_of_three = runner.invoke(app, ["drill", "-n", "3", "--seed", "1"], input="skip\nskip\nskip\n")
    shown = [template for template, _ in headers(order_of_three)]
    assert shown[0] == "conv-output-size" and "rnn-param-count" not in shown  # strong and not due: last


def test_problem_card_reviews_count_for_mastery(home):
    from dlstudy.cards.store import open_store

    with open_store() as store:  # the built-in problem card of conv-output-size, answered right twice
        for days in (12, 4):
            store.record_review("problem-conv-output-size", "cnn", 3, T0 - timedelta(days=days), None)
    data = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["problems"]
    conv = next(m for m in data["templates"] if m["template"] == "conv-output-size")
    assert conv["attempts"] == 2 and conv["right"] == 2 and conv["mastery"] > 0
