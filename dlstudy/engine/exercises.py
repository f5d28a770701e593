"""Exercises for the commands: generate a variant, solve a student's numbers, choose templates for a drill or sheet.

These return data and never print."""

from __future__ import annotations

import secrets
from typing import Any, Sequence

import numpy as np

from dlstudy.engine import results, sampling, solving
from dlstudy.engine.params import coerce_params, parse_assignments
from dlstudy.engine.results import Solution, Variant
from dlstudy.errors import DlstudyError
from dlstudy.engine.templates import Template, all_templates, get_template, template_ids
from dlstudy.suggest import did_you_mean


def new_seed() -> int:
    """A fresh seed short enough to copy off a printed sheet."""
    return secrets.randbelow(1_000_000)


def generate(problem_id: str, seed: int | None = None) -> tuple[Variant, Solution]:
    template = get_template(problem_id)
    variant = sampling.sample(template, new_seed() if seed is None else seed)
    return variant, solving.solve_variant(variant)


def solve_numbers(problem_id: str, assignments: Sequence[str]) -> Solution:
    """Solve a template for the student's own numbers (``name=value`` strings)."""
    template = get_template(problem_id)
    values = coerce_params(template, parse_assignments(list(assignments)))
    return solving.solve(template, values)


def solution_for(problem_id: str, assignments: Sequence[str], seed: int | None) -> Solution:
    """The solution to check against: a generated variant (``seed``) or the student's numbers."""
    if seed is not None:
        if assignments:
            raise DlstudyError("give either --seed or NAME=VALUE parameters, not both")
        return generate(problem_id, seed)[1]
    return solve_numbers(problem_id, assignments)


def solution_dict(solution: Solution) -> dict[str, Any]:
    from dlstudy.mathtext.numbers import to_jsonable

    return {
        "id": solution.template.id,
        "params": {k: to_jsonable(v) for k, v in solution.params.items()},
        "answer": results.answer_jsonable(solution),
        "answer_text": solution.answer_text,
        "steps": [s.to_dict() for s in solution.steps],
    }


def selected_ids(selection: Sequence[str]) -> list[str]:
    """Template ids for a drill or sheet: every word is a topic or an id; nothing means all.

    Only topic words need the templates parsed (to read their topics).
    """
    ids = template_ids()
    chosen: dict[str, None] = {}
    for word in selection or ids:
        if word in ids:
            chosen[word] = None
            continue
        topics = sorted({t.topic for t in all_templates()})
        if word not in topics:
            hint = did_you_mean(word, [*topics, *ids])
            raise DlstudyError(f"{word!r} is neither a topic nor a problem id{hint} (topics: {', '.join(topics)})")
        chosen.update((t.id, None) for t in all_templates(word))
    return list(chosen)


def plan_drill(selection: Sequence[str], count: int, seed: int | None) -> tuple[int, list[tuple[Template, int]]]:
    """Which templates, with which seeds: as varied as the selection allows, reproducible by ``seed``.

    Only the templates drawn are parsed.
    """
    ids = selected_ids(selection)
    seed = new_seed() if seed is None else seed
    rng = np.random.default_rng(seed)
    plan: list[tuple[Template, int]] = []
    while len(plan) < count:
        for index in rng.permutation(len(ids)):
            plan.append((get_template(ids[index]), int(rng.integers(1_000_000))))
            if len(plan) == count:
                break
    return seed, plan
