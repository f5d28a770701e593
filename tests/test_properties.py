"""Property tests (hypothesis) over every input surface: whatever a user types or writes, dlstudy answers, refuses in one
line (exit 2), or says "wrong" (exit 1) -- never a traceback, and never slowly.

Each example must finish within hypothesis's deadline (2 s); memory is bounded by construction (every array an
expression builds is checked before it is allocated: tests/test_security.py).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dlstudy.cli.app import app
from dlstudy.config import load_config
from dlstudy.engine import exercises
from dlstudy.engine.checking import check
from dlstudy.errors import DlstudyError

# DLSTUDY_PROPERTY_EXAMPLES=300 for a deeper hunt than CI can afford.
PROPERTY = settings(max_examples=int(__import__("os").environ.get("DLSTUDY_PROPERTY_EXAMPLES", 25)), deadline=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
runner = CliRunner()

# What people (and attackers) type: digits, operators, brackets, names of functions, Unicode look-alikes.
_ALPHABET = string.digits + "+-*/^()[],;.:eEx '=<>!" + "−×·²√π①٣"
_WORDS = ["sigmoid", "outer", "diag", "concat", "sum", "exp", "log", "ifelse", "1e308", "9^9^9", "[1,2;3,4]", "'"]
typed = st.one_of(
    st.text(_ALPHABET, max_size=60),
    st.lists(st.sampled_from(list(_ALPHABET) + _WORDS), max_size=40).map("".join),
    st.text(max_size=30),
)


@pytest.fixture(scope="module")
def solutions():
    return {tid: exercises.generate(tid, 1)[1] for tid in ("conv-output-size", "iou-boxes", "activation-derivative-formula")}


def _no_crash(call) -> None:
    try:
        call()
    except DlstudyError:
        pass  # a one-line refusal


@PROPERTY
@given(text=typed)
def test_any_answer_is_judged_or_refused(solutions, text):
    for solution in solutions.values():
        _no_crash(lambda: check(solution.template, solution, text))
        for step in solution.template.steps:
            _no_crash(lambda: check(solution.template, solution, text, step=step.name))


@PROPERTY
@given(values=st.lists(typed, min_size=1, max_size=5), names=st.lists(st.sampled_from(["n", "k", "p", "s", "d", "x", ""]), min_size=1, max_size=5))
def test_any_parameters_are_solved_or_refused(values, names):
    assignments = [f"{name}={value}" for name, value in zip(names, values)]
    _no_crash(lambda: exercises.solve_numbers("conv-output-size", assignments))
    _no_crash(lambda: exercises.solve_numbers("iou-boxes", assignments))


@PROPERTY
@given(lines=st.lists(typed, max_size=4))
def test_any_stdin_for_steps_and_drill_ends_cleanly(lines):
    stdin = "\n".join(lines) + "\n"
    for args in (["check", "conv-output-size", "--seed", "1", "--steps"], ["drill", "conv-output-size", "-n", "2", "--seed", "1"]):
        result = runner.invoke(app, args, input=stdin)
        assert result.exit_code in (0, 1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


_YAML_PIECES = ["deck: d\n", "title: T\n", "cards:\n", "  - id: a\n", "    front: '$\\frac{a}{b}$'\n", "    back: B\n",
                "    kind: typed\n", "    answer: '1/0'\n", "    answer_kind: real\n", "    sigfigs: 2\n", "    kind: cloze\n",
                "    text: '{{c1::x}}'\n", "  - [\n", "    related: [zz]\n", ": :\n", "    back: B\n", "\t\n", "&a [*a]\n"]


@PROPERTY
@given(pieces=st.lists(st.sampled_from(_YAML_PIECES), max_size=12), noise=st.text(max_size=20))
def test_any_deck_file_is_linted_in_located_lines(tmp_path_factory, pieces, noise):
    folder = tmp_path_factory.mktemp("decks")
    deck = folder / "d.yaml"
    deck.write_text("".join(pieces) + noise)
    result = runner.invoke(app, ["deck", "lint", str(deck)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


_CSV_CELL = st.one_of(st.text(max_size=20), st.sampled_from(["=1+1", "+cmd", "@x", "-x", '"', "$x$", "$\\frac{", "a,b"]))


@PROPERTY
@given(rows=st.lists(st.lists(_CSV_CELL, min_size=0, max_size=4), max_size=6))
def test_any_csv_is_imported_or_refused(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("csv")
    source = folder / "cards.csv"
    source.write_text("\n".join(",".join(row) for row in rows))
    result = runner.invoke(app, ["import", "csv", str(source), "--deck", "prop", "--replace"])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


_TOML = st.lists(st.sampled_from([
    "fuzz = true\n", "fuzz = 3\n", "new_per_day = 1e9\n", "learning_steps = [1, 10]\n", "learning_steps = [1e308]\n",
    "desired_retention = 0.95\n", "decks = [1]\n", "backups_kept = -1\n", "[table]\n", "x = \n", "= 1\n", "colour = 'red'\n",
]), max_size=5)


@PROPERTY
@given(lines=_TOML, noise=st.text(max_size=10))
def test_any_config_is_read_or_refused(tmp_path_factory, lines, noise):
    path = tmp_path_factory.mktemp("config") / "config.toml"
    path.write_text("".join(lines) + noise)
    _no_crash(lambda: load_config(path))
