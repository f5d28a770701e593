"""One test walks every registered template over many seeds.

For each seed: the oracle (live NumPy /
torch) returns every step and equals the closed-form formula (solving.solve
raises OracleDisagreement otherwise); the key and every intermediate value,
typed as displayed, are judged correct; every common mistake is judged wrong
and gets its own feedback. A separate test proves that a seed gives the same variant in any process.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from dlstudy.engine import exercises, sampling, solving, textlint
from dlstudy.engine.checking import check
from dlstudy.engine.model import Sentence
from dlstudy.engine.params import coerce_params
from dlstudy.engine.results import Solution, Variant
from dlstudy.engine.templates import get_template, template_ids
from dlstudy.mathtext import lines, printer
from dlstudy.mathtext.markup import split_math
from dlstudy.mathtext.numbers import to_jsonable
from typing_helpers import as_typed

SEEDS = range(200)
SHARED_SEEDS = range(6)  # the walk's first seeds, which DETERMINISM_SEEDS and TEXT_SEEDS below read again


@pytest.fixture(scope="module")
def solved_variants() -> dict[tuple[str, int], tuple[Variant, Solution]]:
    """(template id, seed) -> (variant, solution) of the SHARED_SEEDS, as the walk made them, for the tests that
    read the same seeds (sampling and solving them again cost ~1.5 s). Only read after the walk stored them; a
    test makes what it does not find, so each runs alone and in any order."""
    return {}


def solved(solved_variants, template, seed: int) -> tuple[Variant, Solution]:
    variant, solution = solved_variants.get((template.id, seed), (None, None))
    if variant is None:
        variant = sampling.sample(template, seed)
        solution = solving.solve_variant(variant)
    return variant, solution


@pytest.mark.parametrize("template_id", template_ids())
def test_template_over_seeds(template_id, solved_variants):
    generic = get_template(template_id)
    mistakes_seen = {m.id: 0 for m in generic.mistakes}
    for seed in SEEDS:
        variant = sampling.sample(generic, seed)
        # A graph template is made concrete for each variant's expression (engine.graphs): its steps and
        # mistakes are the variant's. Every other template is the same object.
        template = variant.template
        step_names = {s.name for s in template.steps}
        for mistake in template.mistakes:
            mistakes_seen.setdefault(mistake.id, 0)
        solution = solving.solve_variant(variant)
        if seed in SHARED_SEEDS:
            solved_variants[template_id, seed] = variant, solution
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
# Same seed, same variant: in another process, in another order

DETERMINISM_SEEDS = range(5)


def draw_every_template(seeds, backwards: bool, earlier=None) -> dict:
    """Each template's parameters for each seed, as JSON's [type name, value], drawn template after template
    and seed after seed, or all in the opposite order; ``earlier`` maps (template id, seed) to a variant this
    process drew before, taken as it is. Self-contained: a child process runs its source."""
    from dlstudy.engine import sampling
    from dlstudy.engine.model import Sentence
    from dlstudy.engine.templates import get_template, template_ids
    from dlstudy.mathtext.numbers import to_jsonable

    drawn = {}
    for template_id in sorted(template_ids(), reverse=backwards):
        template = get_template(template_id)
        for seed in sorted(seeds, reverse=backwards):
            variant = earlier.get((template_id, seed)) if earlier else None
            params = (variant if variant is not None else sampling.sample(template, seed)).params
            drawn[f"{template_id} {seed}"] = {
                name: [type(value).__name__, to_jsonable(str(value) if isinstance(value, Sentence) else value)]
                for name, value in params.items()
            }
    return drawn


def test_a_seed_gives_the_same_variant_in_any_process_and_order(solved_variants):
    """Everything in a variant follows from its parameters, so equal parameters are the same variant. Two
    processes with different string hashes (set and dict-of-set order) draw every template's seeds, in opposite
    orders of templates and seeds: this one, after whatever the tests before drew (the walk's variants of these
    seeds, solved and checked since, when it ran first), and a fresh one (so nothing drawn before, global random
    state included, may matter)."""
    earlier = {key: variant for key, (variant, _) in solved_variants.items()}
    forwards = draw_every_template(DETERMINISM_SEEDS, backwards=False, earlier=earlier)
    forwards = json.loads(json.dumps(forwards))  # as JSON has it
    # This process's string hash is random unless PYTHONHASHSEED fixes it: the fresh one's is another.
    child_hash_seed = "1" if os.environ.get("PYTHONHASHSEED") == "2" else "2"
    source = (f"{inspect.getsource(draw_every_template)}\nimport json\n"
              f"print(json.dumps(draw_every_template({list(DETERMINISM_SEEDS)!r}, backwards=True)))\n")
    result = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONHASHSEED": child_hash_seed}, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    backwards = json.loads(result.stdout)
    assert len(forwards) == len(template_ids()) * len(DETERMINISM_SEEDS)
    differ = [key for key in forwards if forwards[key] != backwards.get(key)]
    assert not differ, f"same seed, another variant: {differ[:10]}"


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
def test_template_reads_like_a_textbook(template_id, solved_variants):
    generic = get_template(template_id)
    solved_seeds = [solved(solved_variants, generic, seed) for seed in TEXT_SEEDS]
    variants = [variant for variant, _ in solved_seeds]
    problems = []
    # A graph template's steps are generated for each variant's expression: read those of every variant.
    templates = {id(t): t for t in [generic, *(variant.template for variant in variants)]}
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
    for _, solution in solved_seeds:
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
