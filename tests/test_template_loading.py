"""Malformed problem files give one located error line; valid features load."""

from __future__ import annotations

import functools
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from dlstudy.engine import evaluation, solving
from dlstudy.engine.checking import check
from dlstudy.errors import DlstudyError
from dlstudy.engine.templates import get_template, parse_template, template_ids
from dlstudy import paths

GOOD = """\
id: demo
topic: cnn
title: Demo
statement: "Input {n}, kernel {k}."
params:
  n: {int: [5, 20], min: 1}
  k: {int: [1, 3], min: 1}
oracle: conv2d_output_size
answer: {kind: integer}
steps:
  - name: o
    latex: 'o = n - k + 1'
    expr: 'n - k + 1'
"""


def write(tmp_path, text, name="demo"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("title: Demo", "title: Demo\ncolour: red", r"demo.yaml:\d+:\d+: unknown key 'colour'"),
        ("expr: 'n - k + 1'", "expr: 'n - k +'", r"demo.yaml:\d+:\d+: step 'o': cannot parse"),
        ("expr: 'n - k + 1'", "expr: 'n - q + 1'", r"demo.yaml:\d+:\d+: step 'o': unknown name 'q'"),
        ("expr: 'n - k + 1'", "expr: 'system(n)'", r"unknown function 'system'"),
        ("latex: 'o = n - k + 1'", r"latex: 'o = \frac{n'", r"demo.yaml:\d+:\d+: step 'o' latex: cannot render"),
        ("oracle: conv2d_output_size", "oracle: conv2d_output_sise", r"did you mean 'conv2d_output_size'"),
        ("id: demo", "id: other", r"must match the file name"),
        ("{kind: integer}", "{kind: complex}", r"answer kind 'complex' is not one of"),
        ("n: {int: [5, 20], min: 1}", "n: {int: [20, 5]}", r"range must be \[low, high\]"),
        ("n: {int: [5, 20], min: 1}", "n: {vector: 3}", r"give the entries' range"),
        ('"Input {n}, kernel {k}."', '"Input {m}."', r"placeholder \{m\} is not a parameter"),
        ("title: Demo", "title: [unclosed", r"demo.yaml:\d+:\d+: "),
    ],
)
def test_malformed_templates_give_located_errors(tmp_path, old, new, message):
    assert old in GOOD
    with pytest.raises(DlstudyError, match=message) as info:
        parse_template(write(tmp_path, GOOD.replace(old, new)))
    assert "\n" not in info.value.message


def test_duplicate_ids_across_folders_raise(tmp_path, monkeypatch):
    write(tmp_path, GOOD.replace("id: demo", "id: conv-output-size"), name="conv-output-size")
    monkeypatch.setenv("DLSTUDY_PROBLEMS", str(tmp_path))
    paths.problem_dirs.cache_clear()
    try:
        with pytest.raises(DlstudyError, match="duplicate problem id 'conv-output-size'"):
            template_ids()
    finally:
        monkeypatch.delenv("DLSTUDY_PROBLEMS")
        paths.problem_dirs.cache_clear()


def test_user_folder_templates_are_found(tmp_path, monkeypatch):
    write(tmp_path, GOOD.replace("id: demo", "id: my-demo"), name="my-demo")
    monkeypatch.setenv("DLSTUDY_PROBLEMS", str(tmp_path))
    paths.problem_dirs.cache_clear()
    try:
        assert "my-demo" in template_ids()
        assert get_template("my-demo").title == "Demo"
    finally:
        monkeypatch.delenv("DLSTUDY_PROBLEMS")
        paths.problem_dirs.cache_clear()


def test_mistake_when_limits_where_a_slip_applies(tmp_path):
    text = GOOD.replace("oracle: conv2d_output_size", "oracle: conv2d_output_size") + textwrap.dedent(
        """\
        mistakes:
          - id: off-by-one
            expr: 'n - k'
            when: 'k > 1'
            feedback: Count the first position too.
        """
    )
    template = parse_template(write(tmp_path, text))
    values = {"n": 10, "k": 1, "o": 10}
    assert evaluation.mistake_value(template, template.mistakes[0], values) is None
    values = {"n": 10, "k": 3, "o": 8}
    assert evaluation.mistake_value(template, template.mistakes[0], values) == 7


def test_step_kind_override_makes_a_scalar_step_tolerant():
    template = get_template("conv-output-size")
    import dataclasses

    steps = (dataclasses.replace(template.steps[0], kind="real"), *template.steps[1:])
    relaxed = dataclasses.replace(template, steps=steps)
    solution = solving.solve(relaxed, {"n": 227, "k": 11, "p": 0, "s": 4, "d": 1, "fit": "floor"})
    assert check(relaxed, solution, "11.05", step="k_eff").correct
    assert not check(template, solving.solve(template, solution.params), "11.05", step="k_eff").correct


def private_template_cache(monkeypatch):
    """Give ``templates`` an empty cache of built templates for this test only: clearing it must not throw
    away the process-wide one, which every later test would then rebuild (166 templates, ~1.2 s)."""
    from dlstudy.engine import templates

    monkeypatch.setattr(templates, "_load", functools.lru_cache(maxsize=None)(templates._load.__wrapped__))


def test_template_cache_follows_edits_and_survives_corruption(tmp_path, monkeypatch):
    import os

    from dlstudy.engine import templates

    private_template_cache(monkeypatch)
    folder = tmp_path / "mine"
    folder.mkdir()
    path = write(folder, GOOD.replace("id: demo", "id: my-cached"), name="my-cached")
    monkeypatch.setenv("DLSTUDY_PROBLEMS", str(folder))
    paths.problem_dirs.cache_clear()
    templates._template_files.cache_clear()
    try:
        assert get_template("my-cached").title == "Demo"
        cache_files = list(Path(os.environ["DLSTUDY_HOME"]).glob("cache/problems/my-cached-*.json"))
        assert len(cache_files) == 1
        templates._load.cache_clear()
        assert get_template("my-cached").title == "Demo"  # from the cache
        path.write_text(path.read_text().replace("title: Demo", "title: Edited demo"))
        os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
        assert get_template("my-cached").title == "Edited demo"
        cache_files[0].write_text("{not json")
        templates._load.cache_clear()
        assert get_template("my-cached").title == "Edited demo"
    finally:
        monkeypatch.delenv("DLSTUDY_PROBLEMS")
        paths.problem_dirs.cache_clear()
        templates._template_files.cache_clear()


ARRAY_DEFAULT = """\
id: demo
topic: vision
title: Demo
statement: "Boxes {x} wide {w}."
params:
  n: {size: [2, 3], max: 10}
  a: {real: [0, 0], min: 0, default: 0}
  x: {vector: n, range: [0, 3]}
  w: {vector: n, range: [1, 2], above: 0, default: 'a'}
oracle: softmax_cross_entropy
answer: {kind: real}
steps:
  - name: o
    latex: 'o = \\sum_i w_i'
    expr: 'sum(w)'
"""


def test_an_array_may_default_to_a_formula_of_the_numbers(tmp_path):
    from dlstudy.engine.params import coerce_params

    template = parse_template(write(tmp_path, ARRAY_DEFAULT))
    assert template.params["w"].optional
    filled = coerce_params(template, {"x": "[0, 1, 2]", "a": "1.5"})
    np.testing.assert_array_equal(filled["w"], [1.5, 1.5, 1.5])  # the shape comes from x
    given = coerce_params(template, {"x": "[0, 1]", "a": "1.5", "w": "[1, 2]"})
    np.testing.assert_array_equal(given["w"], [1, 2])  # a value given wins over the default
    with pytest.raises(DlstudyError, match="w .*was left out, and its default a gives 0: every entry must be > 0"):
        coerce_params(template, {"x": "[0, 1]"})
    with pytest.raises(DlstudyError, match="unknown name 'b'"):
        parse_template(write(tmp_path, ARRAY_DEFAULT.replace("default: 'a'", "default: 'b'")))


def test_a_placeholder_after_an_operator_command_is_a_value():
    from dlstudy.mathtext.markup import placeholder_names

    assert placeholder_names(r"an $h \times w = {h} \times {w}$ grid") == ["h", "w"]
    assert placeholder_names(r"$a \le {b}$") == ["b"]
    assert placeholder_names(r"$\frac{n}{s}$, $x_{t}$, $\mathrm{x}{a}$") == []  # LaTeX's own groups


def test_word_cases_with_codes_resolve_from_formula_values():
    # label-smoothing-cross-entropy's convention word has codes (all = 1, others = 2): formulas see the number,
    # the worked steps still pick the case by its word.
    template = get_template("label-smoothing-cross-entropy")
    assert template.case_of({"spread": 2.0}) == "others" and template.case_of({"spread": "all"}) == "all"
    from dlstudy.engine import exercises

    solution = exercises.solve_numbers("label-smoothing-cross-entropy", ["z=[2,1,0.1]", "c=1", "eps=0.1", "spread=others"])
    assert solution.answer == pytest.approx(0.562, abs=1e-3)


def test_an_array_default_is_described_by_its_formula():
    import json

    from dlstudy.engine import exercises

    described = exercises.describe("nms-keep")
    defaults = {p["name"]: p.get("default") for p in described["parameters"]}
    assert defaults["w"] == "a" and defaults["h"] == "a"
    json.dumps(described)  # what `problems nms-keep --json` prints
# ---------------------------------------------------------------------------
# Repeated steps (recurrences), sizes read off k*m, array defaults


LOOP = """\
id: loop
topic: rnn
title: Loop
statement: "A recurrence over {T} steps."
params:
  T: {size: [2, 3], max: 10}
  a: {real: [0.1, 0.9], decimals: 1}
oracle: rnn_forward
answer: {kind: real}
steps:
  - name: S
    latex: 's_t = a s_{t-1} + t'
    repeat: T
    start: '1'
    expr: 'a*S_prev + t'
    show: 'S = {S}'
  - name: P
    latex: 'p_t = s_t^2 + p_{t-1}'
    repeat: T
    expr: 'S^2 + P_prev'
    show: 'P = {P}'
  - name: last
    latex: 'p_T'
    expr: 'row(P, T)'
mistakes:
  - id: no-decay
    step: S
    expr: 'S_prev + t'
    feedback: "decay"
"""


def test_repeated_steps_run_as_one_loop_and_carry_mistakes(tmp_path):
    template = parse_template(write(tmp_path, LOOP, "loop"))
    assert [s.loop for s in template.steps] == [("S", "P"), ("S", "P"), ()]
    values = evaluation.formula_values(template, {"T": 3, "a": 0.5})
    # s_1 = 0.5*1 + 1 = 1.5, s_2 = 0.75 + 2 = 2.75, s_3 = 1.375 + 3 = 4.375; p_t sums s_t^2 (p_0 = 0)
    assert values["S"].tolist() == [1.5, 2.75, 4.375]
    assert values["P"].tolist() == pytest.approx([2.25, 2.25 + 2.75**2, 2.25 + 2.75**2 + 4.375**2])
    assert values["last"] == pytest.approx(2.25 + 2.75**2 + 4.375**2)
    # the slip made at every t (s_t = s_{t-1} + t: 2, 4, 7) is carried into P and the answer
    carried = evaluation.carried_mistake(template, template.mistakes[0], values)
    assert carried["S"].tolist() == [2, 4, 7] and carried["last"] == 4 + 16 + 49


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("    show: 'S = {S}'\n", "", r"step 'S' is repeated: give a 'show' line"),
        ("expr: 'a*S_prev + t'", "expr: 'a*P + t'", r"unknown name 'P'"),  # a later step of the loop: only P_prev
        ("  - name: last\n", "  - name: last\n    start: '0'\n", r"'start' belongs to a repeated step"),
    ],
)
def test_repeated_steps_are_checked_when_loaded(tmp_path, old, new, message):
    assert old in LOOP
    with pytest.raises(DlstudyError, match=message):
        parse_template(write(tmp_path, LOOP.replace(old, new), "loop"))


def test_sizes_read_off_scaled_dimensions_and_array_defaults():
    from dlstudy.engine.params import coerce_params

    # 4*m biases show m = 1, so flat lists orient as columns; h0 and c0 default to zeros of size m
    params = coerce_params(get_template("lstm-sequence"), {"x": "[1, -1]", "w": "[0.5, -0.3, 0.2, 0.1]",
                                                           "u": "[0.1, 0.4, -0.6, 0.3]", "b": "[0.1, 0.2, 0.3, 0.4]"})
    assert (params["m"], params["n"], params["T"]) == (1, 1, 2)
    assert params["w"].shape == (4, 1) and params["h0"].tolist() == [0.0] and params["c0"].tolist() == [0.0]
    params = coerce_params(get_template("rnn-bptt-gradient"), {"x": "[1, -1, 0.5]", "w": "0.5", "u": "-1", "h0": "0.2"})
    assert params["dh"].tolist() == [1.0] and params["x"].shape == (3, 1)


ARRAYS = """\
id: arrays
topic: gnn
title: Arrays
statement: "{A} {B} {P}"
params:
  n: {size: [3, 6], max: 10}
  A: {matrix: [n, n], range: [0, 1], domain: integer, min: 0, max: 1, adjacency: undirected}
  B: {matrix: [n, n], range: [0, 1], domain: integer, min: 0, max: 1, adjacency: directed}
  P: {matrix: [n, 4], range: [0.1, 0.4], decimals: 1, stochastic: true, min: 0, max: 1}
oracle: conv2d_output_size
answer: {kind: integer}
steps:
  - name: o
    latex: 'o = n'
    expr: 'n'
"""


def test_sampled_adjacency_and_probability_rows_keep_their_shape(tmp_path):
    """adjacency: no self-loops, mirrored only when undirected; stochastic rows sum to 1 inside the range."""
    from dlstudy.engine import sampling

    template = parse_template(write(tmp_path, ARRAYS, "arrays"))
    directed_somewhere = False
    for seed in range(40):
        params = sampling.sample(template, seed).params
        A, B, P = params["A"], params["B"], params["P"]
        assert not np.diag(A).any() and not np.diag(B).any()
        assert np.array_equal(A, A.T) and set(np.unique(A)) <= {0.0, 1.0} and set(np.unique(B)) <= {0.0, 1.0}
        directed_somewhere |= not np.array_equal(B, B.T)
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        assert P.min() >= 0.1 - 1e-12 and P.max() <= 0.4 + 1e-12
    assert directed_somewhere


def test_adjacency_needs_a_square_matrix(tmp_path):
    with pytest.raises(DlstudyError, match=r"arrays.yaml:\d+:\d+: parameter 'B': 'adjacency' is directed or undirected"):
        parse_template(write(tmp_path, ARRAYS.replace("B: {matrix: [n, n]", "B: {matrix: [n, 2]"), "arrays"))
    with pytest.raises(DlstudyError, match=r"'adjacency' is directed or undirected"):
        parse_template(write(tmp_path, ARRAYS.replace("adjacency: directed", "adjacency: both"), "arrays"))


def test_choosing_problems_by_topic_builds_only_the_chosen_templates(monkeypatch):
    """Headings (id, topic, title) come from the cache of validated files (or, the first time, from the templates
    themselves), so a sheet or drill of one topic, or the drill's order by mastery, builds no other template."""
    from dlstudy.engine import exercises, templates

    built = {t: (get_template(t).topic, get_template(t).title) for t in template_ids()}  # usually built already
    private_template_cache(monkeypatch)
    templates.headings()  # the first time: a heading whose file is not in the cache comes from its built template
    templates._load.cache_clear()
    assert {h.id: (h.topic, h.title) for h in templates.headings()} == built
    chosen = exercises.selected_ids(["gnn"])
    assert chosen == [t for t, (topic, _) in built.items() if topic == "gnn"]
    assert templates._load.cache_info().currsize == 0  # no template was built to find them


def test_a_looped_mistakes_condition_is_evaluated_quietly_when_carried(tmp_path):
    """Carrying a looped slip reads the mistake's `when` again: there, as in every formula, 1/0 is inf without a
    RuntimeWarning on the student's screen."""
    text = LOOP.replace("    expr: 'S_prev + t'\n", "    expr: 'S_prev + t'\n    when: '1/(a - 0.5) != 0'\n")
    template = parse_template(write(tmp_path, text, "loop"))
    mistake = template.mistakes[0]
    values = evaluation.formula_values(template, {"T": 3, "a": 0.5})
    with np.errstate(all="ignore"):
        slip = evaluation.mistake_value(template, mistake, values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        carried = evaluation.carried_mistake(template, mistake, values, slip)
    assert carried["last"] == 4 + 16 + 49
