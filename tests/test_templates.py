"""One test walks every registered template over many seeds.

For each seed: the oracle (live NumPy /
torch) returns every step and equals the closed-form formula (solving.solve
raises OracleDisagreement otherwise); the key and every intermediate value,
typed as displayed, are judged correct; every common mistake is judged wrong
and gets its own feedback. Every fifth seed, sampling again gives the same variant.
"""

from __future__ import annotations

import pytest
from dlstudy.engine import sampling, solving

import json

import numpy as np

from dlstudy.engine import exercises, textlint
from dlstudy.engine.checking import check
from dlstudy.engine.model import Sentence
from dlstudy.engine.params import coerce_params
from dlstudy.mathtext import lines, printer
from dlstudy.mathtext.markup import split_math
from dlstudy.mathtext.numbers import to_jsonable
from dlstudy.engine.templates import get_template, template_ids
from typing_helpers import as_typed

SEEDS = range(200)
# Sampling again with the same seed is half the cost of a seed; a variant that depended on anything but the
# seed (global random state, set order) would differ on any seed, so every fifth one is enough.
DETERMINISM_EVERY = 5


def _exact(params):
    return {name: (type(value).__name__, to_jsonable(str(value) if isinstance(value, Sentence) else value))
            for name, value in params.items()}


@pytest.mark.parametrize("template_id", template_ids())
def test_template_over_seeds(template_id):
    generic = get_template(template_id)
    mistakes_seen = {m.id: 0 for m in generic.mistakes}
    for seed in SEEDS:
        variant = sampling.sample(generic, seed)
        if seed % DETERMINISM_EVERY == 0:  # everything else in a variant follows from its parameters
            assert _exact(sampling.sample(generic, seed).params) == _exact(variant.params), "same seed, same variant"
        # A graph template is made concrete for each variant's expression (engine.graphs): its steps and
        # mistakes are the variant's. Every other template is the same object.
        template = variant.template
        step_names = {s.name for s in template.steps}
        for mistake in template.mistakes:
            mistakes_seen.setdefault(mistake.id, 0)
        solution = solving.solve_variant(variant)
        assert set(solution.oracle_values) == step_names, "the oracle must compute every step shown"

        symbolic = template.answer.kind == "expression"
        shown_key = solution.values[template.answer.step] if symbolic else solution.answer
        key = as_typed(template, template.answer.step, shown_key, solution.values[template.answer.step])
        verdict = check(template, solution, key)
        assert verdict.correct, f"seed {seed}: key {key!r} judged wrong: {verdict}"

        for step in template.steps:
            value = shown_key if symbolic and step.name == template.answer.step else solution.step_value(step.name)
            typed = as_typed(template, step.name, value, solution.values[step.name])
            assert check(template, solution, typed, step=step.name).correct, f"seed {seed}: step {step.name} = {typed!r}"

        for mistake in template.mistakes:
            carried_values = solution.carried(mistake)  # the slip at its step and carried through the later ones
            wrong = carried_values.get(mistake.step)
            if wrong is None:
                continue
            mistakes_seen[mistake.id] += 1
            typed = as_typed(template, mistake.step, wrong, solution.values[mistake.step])
            verdict = check(template, solution, typed, step=mistake.step)
            assert not verdict.correct, f"seed {seed}: mistake {mistake.id} ({typed!r}) judged correct"
            assert mistake.feedback in verdict.feedback, f"seed {seed}: mistake {mistake.id} got {verdict.feedback}"
            # The same slip carried through to the final answer is recognised there too.
            carried = carried_values.get(template.answer.step)
            if mistake.step != template.answer.step and carried is not None:
                typed = as_typed(template, template.answer.step, carried, solution.values[template.answer.step])
                verdict = check(template, solution, typed)
                if not verdict.correct:
                    assert mistake.feedback in verdict.feedback, f"seed {seed}: carried {mistake.id} got {verdict.feedback}"
    never = [m for m, n in mistakes_seen.items() if n == 0]
    assert not never, f"mistakes that never apply: {never}"


# ---------------------------------------------------------------------------
# The domain: what a student may bring from their own sheet

DOMAIN_SEEDS = range(30)


def _typed_param(value) -> str:
    """A parameter value as a student types it for `solve`, with every digit."""
    if isinstance(value, Sentence):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value)) if np.ndim(value) else repr(float(value)) if not float(value).is_integer() else str(int(value))


@pytest.mark.parametrize("template_id", template_ids())
def test_template_over_its_domain(template_id):
    """Values drawn from the domain (reals where reals make sense, other sizes, beyond the sampling range),
    typed in as `solve` reads them: formula and oracle agree and the key checks."""
    generic = get_template(template_id)
    for seed in DOMAIN_SEEDS:
        drawn = sampling.sample_domain(generic, seed)
        raw = {name: _typed_param(value) for name, value in drawn.params.items()}
        params = coerce_params(generic, raw)
        solution = solving.solve(generic, params)
        template = solution.template  # a graph template made concrete for the drawn expression
        symbolic = template.answer.kind == "expression"
        shown_key = solution.values[template.answer.step] if symbolic else solution.answer
        key = as_typed(template, template.answer.step, shown_key, solution.values[template.answer.step])
        assert check(template, solution, key).correct, f"domain seed {seed}: key {key!r} for {raw}"


# ---------------------------------------------------------------------------
# What a student reads: math typeset, no code

TEXT_SEEDS = range(1, 6)


@pytest.mark.parametrize("template_id", template_ids())
def test_template_reads_like_a_textbook(template_id):
    generic = get_template(template_id)
    problems = []
    # A graph template's steps are generated for each variant's expression: read those of every variant.
    templates = {id(t): t for t in [generic, *(sampling.sample(generic, seed).template for seed in TEXT_SEEDS)]}
    for template in templates.values():
        prose = [*template.statement.values(), *(s.what for s in template.steps), *(p.about for p in template.params.values())]
        for text in prose:
            problems += [f"{text[:60]!r}: {p}" for p in textlint.ascii_math(text)]
        for latex in [*(l for s in template.steps for l in s.latex.values()), *template.symbols.values()]:
            problems += textlint.words_in_math(latex)
        for text in template.statement.values():
            for kind, content in split_math(text):
                if kind != "text":
                    problems += textlint.words_in_math(content)
    for seed in TEXT_SEEDS:
        solution = solving.solve_variant(sampling.sample(generic, seed))
        for step in solution.steps:
            for style in printer.STYLES:
                line = "".join(content for _, content in lines.parts(step.work, style))
                problems += [f"step {step.name}: {p}" for p in textlint.code_in_line(line)]
    assert not problems, "\n".join(dict.fromkeys(problems))
    # `dlstudy problems ID` reads the statement before any number is drawn: no placeholder left in it
    described = exercises.describe(template_id)
    for case, text in described["statement"].items():
        assert "{" not in text and "}" not in text, f"{template_id} {case}: {text}"
    assert described["example"].startswith(f"dlstudy solve {template_id}")
