"""The pinned command-line interface, driven as scripts and students use it."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app
from dlstudy.engine.templates import get_template, template_ids

runner = CliRunner()


def run(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    # A user mistake must never surface as a Python exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def as_argument(name, value) -> str:
    """How a script passes back a value that `generate --json` printed."""
    if isinstance(value, list):
        return f"{name}={json.dumps(value)}"
    return f"{name}={value}"


def test_problems_json_lists_every_template_with_pinned_fields():
    result = run("problems", "--json")
    assert result.exit_code == 0
    items = json.loads(result.stdout)
    assert sorted(i["id"] for i in items) == sorted(template_ids())
    for item in items:
        assert {"id", "topic", "title", "params"} <= set(item)
        assert all(isinstance(v, str) and v for v in item["params"].values())


def test_the_listing_reads_each_heading_from_the_cache_without_building_a_template(monkeypatch):
    """`dlstudy problems` shows each template's id, topic, answer kind and title as building it gives them, read
    from the cache of validated files (building all the templates takes about a second)."""
    from dlstudy.engine import templates as catalogue

    built = [catalogue.Heading.of(get_template(i)) for i in template_ids()]  # validated, so cached

    def no_building(template_id):
        raise AssertionError(f"built {template_id} to list it")

    monkeypatch.setattr(catalogue, "get_template", no_building)
    assert catalogue.headings() == built
    result = run("problems", "--topic", "rnn")
    assert result.exit_code == 0
    for heading in (h for h in built if h.topic == "rnn"):
        assert re.search(rf"{re.escape(heading.id)}\s+│\s+rnn\s+│\s+{heading.kind}\s", result.stdout), heading


def test_problems_topic_filter_and_unknown_topic():
    items = json.loads(run("problems", "--topic", "cnn", "--json").stdout)
    assert items and all(i["topic"] == "cnn" for i in items)
    result = run("problems", "--topic", "cnnn")
    assert result.exit_code == 2 and "did you mean 'cnn'" in result.stderr


def test_generate_json_is_reproducible_and_carries_pinned_fields():
    first = json.loads(run("generate", "conv-output-size", "--seed", "7", "--json").stdout)
    second = json.loads(run("generate", "conv-output-size", "--seed", "7", "--json").stdout)
    assert first == second
    assert {"id", "seed", "params", "statement", "answer", "steps"} <= set(first)
    assert first["seed"] == 7


@pytest.mark.parametrize("template_id", template_ids())
def test_generated_params_are_accepted_back_by_solve(template_id):
    for seed in range(3):
        generated = json.loads(run("generate", template_id, "--seed", str(seed), "--json").stdout)
        args = [as_argument(k, v) for k, v in generated["params"].items()]
        solved = run("solve", template_id, *args, "--json")
        assert solved.exit_code == 0, solved.stderr
        assert json.loads(solved.stdout)["answer"] == generated["answer"]
        typed = generated["answer_text"].split(")")[0] if generated["kind"] == "choice" else generated["answer_text"]
        asked = get_template(template_id).answer.asked
        if len(asked) > 1:  # a multi-part question: every part, by name, as its step shows it
            shown = {step["name"]: step["value"] for step in generated["steps"]}
            answers = [arg for part in asked for arg in ("--answer", f"{part}={json.dumps(shown[part])}")]
        else:
            answers = ["--answer", typed]
        checked = run("check", template_id, *args, *answers, "--json")
        assert checked.exit_code == 0, checked.stdout


ALEXNET = ["conv-output-size", "n=227", "k=11", "p=0", "s=4", "d=1"]


def test_check_exit_codes_and_json():
    right = run("check", *ALEXNET, "--answer", "55", "--json")
    assert right.exit_code == 0
    data = json.loads(right.stdout)
    assert data["correct"] is True and data["expected"] == "55"
    wrong = run("check", *ALEXNET, "--answer", "54", "--json")
    assert wrong.exit_code == 1
    data = json.loads(wrong.stdout)
    assert data["correct"] is False and "feedback" in data
    bad = run("check", *ALEXNET, "--answer", "fifty-five")
    assert bad.exit_code == 2 and "whole number" in bad.stderr


def test_check_names_the_common_mistake():
    # 32x32 input, 5x5 kernel, padding 2: "same" size 32; padding counted once gives 32 + 2 - 5 + 1 = 30.
    result = run("check", "conv-output-size", "n=32", "k=5", "p=2", "s=1", "d=1", "--answer", "30", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert data["expected"] == "32"
    assert "both sides" in data["feedback"] and data["mistakes"] == ["padding-one-side"]


def test_check_against_a_generated_seed():
    generated = json.loads(run("generate", "conv-output-size", "--seed", "3", "--json").stdout)
    result = run("check", "conv-output-size", "--seed", "3", "--answer", str(generated["answer"]))
    assert result.exit_code == 0
    off_by_one = run("check", "conv-output-size", "--seed", "3", "--answer", str(generated["answer"] + 1))
    assert off_by_one.exit_code == 1  # the seed's variant is checked, not any answer accepted


def test_steps_stop_at_the_first_wrong_one():
    ok = run("check", *ALEXNET, "--steps", input="11\n54\n55\n")  # k_eff, strides q, output size
    assert ok.exit_code == 0 and "Every step is right" in ok.stdout
    wrong = run("check", *ALEXNET, "--steps", input="11\n54\n54\n")
    assert wrong.exit_code == 1 and "First wrong step: output size" in wrong.stdout and "= 55" in wrong.stdout
    first_wrong = run("check", *ALEXNET, "--steps", "--json", input="12\n54\n55\n")
    data = json.loads(first_wrong.stdout)
    assert first_wrong.exit_code == 1 and len(data["steps"]) == 1 and data["steps"][0]["expected"] == "11"


def test_steps_reprompt_on_format_errors():
    result = run("check", *ALEXNET, "--steps", input="eleven\n11\n54\n55\n")
    assert result.exit_code == 0 and "whole number" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["solve", "conv-outpt-size"], "did you mean 'conv-output-size'"),
        (["solve", "conv-output-size", "n=5"], "needs k"),  # p, s, d and the stride rule have defaults
        (["solve", "conv-output-size", "n=5", "k=11", "p=0", "s=1", "d=1"], "kernel is larger than the padded input"),
        (["solve", "conv-output-size", "n=5", "k=3", "p=0", "s=1", "d=1", "x=1"], "no parameter 'x'"),
        (["solve", "conv-output-size", "n=five", "k=3", "p=0", "s=1", "d=1"], "parameter n"),
        (["solve", "conv-output-size", "n", "k=3"], "name=value"),
        (["solve", "conv-output-size", "n=5", "n=6"], "given twice"),
        (["check", *ALEXNET], "either --answer"),
        (["check", "conv-output-size", "--seed", "1", "n=5", "--answer", "1"], "not both"),
        (["drill", "no-such-topic"], "not a topic or a problem id"),
        (["generate", "nope"], "unknown problem id"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_drill_scripted_through_stdin():
    result = run("drill", "conv-output-size", "-n", "2", "--seed", "5", input="not-a-number\n0\nskip\n")
    assert result.exit_code == 0
    assert "whole number" in result.stdout  # the format error re-prompted
    assert "Score: 0 / 2" in result.stdout
    # Each problem names its seed; `generate` with that seed is the same problem with the same answer.
    seeds = re.findall(r"\(conv-output-size, seed (\d+)\)", result.stdout)
    assert len(seeds) == 2 and seeds[0] != seeds[1]
    words = " ".join(result.stdout.split())
    generated = [json.loads(run("generate", "conv-output-size", "--seed", s, "--json").stdout) for s in seeds]
    for problem in generated:
        assert " ".join(problem["statement"].split()) in words
    first, second = (p["answer_text"] for p in generated)
    assert f"you gave 0, expected {first}" in words and f"Answer: {second}" in words


def test_drill_ends_cleanly_when_stdin_is_closed():
    result = run("drill", "-n", "3", input="")
    assert result.exit_code == 0
    assert "No more input" in result.stdout


def test_drill_is_reproducible_by_seed():
    first = run("drill", "-n", "3", "--seed", "42", input="").stdout
    second = run("drill", "-n", "3", "--seed", "42", input="").stdout
    assert first == second


def test_search_words_after_the_first_are_searched_too():
    from dlstudy.engine import exercises

    result = runner.invoke(app, ["problems", "--search", "lstm", "gates", "--json"])
    assert result.exit_code == 0, result.output  # "gates" is not taken for a problem id
    found = {t["id"] for t in json.loads(result.stdout)}
    assert found and found == {t.id for t in exercises.search(["lstm", "gates"])}


def test_a_described_statement_reads_the_symbol_not_name_equals_name():
    result = runner.invoke(app, ["problems", "conv-output-size", "--json"])
    described = json.loads(result.stdout)
    for text in described["statement"].values():
        assert "n=n" not in text.replace(" ", "") and "k=k" not in text.replace(" ", ""), text
    # a word listed twice (drawn twice as often) is named once
    assert get_template("conv-output-size").params["fit"].domain_text() == "one of floor, invalid"
