"""The core functions behind each command: they return data and never print."""

from __future__ import annotations

import secrets
from typing import Any, Sequence

import numpy as np

from dlstudy import engine
from dlstudy.engine import Solution, Variant
from dlstudy.errors import DlstudyError
from dlstudy.templates import Template, all_templates, get_template, template_ids, did_you_mean


def new_seed() -> int:
    """A fresh seed short enough to copy off a printed sheet."""
    return secrets.randbelow(1_000_000)


def generate(problem_id: str, seed: int | None = None) -> tuple[Variant, Solution]:
    template = get_template(problem_id)
    variant = engine.sample(template, new_seed() if seed is None else seed)
    return variant, engine.solve(template, variant.params)


def solve_numbers(problem_id: str, assignments: Sequence[str]) -> Solution:
    """Solve a template for the student's own numbers (``name=value`` strings)."""
    template = get_template(problem_id)
    params = engine.coerce_params(template, engine.parse_assignments(list(assignments)))
    return engine.solve(template, params)


def solution_for(problem_id: str, assignments: Sequence[str], seed: int | None) -> Solution:
    """The solution to check against: a generated variant (``seed``) or the student's numbers."""
    if seed is not None:
        if assignments:
            raise DlstudyError("give either --seed or NAME=VALUE parameters, not both")
        return generate(problem_id, seed)[1]
    return solve_numbers(problem_id, assignments)


def solution_dict(solution: Solution) -> dict[str, Any]:
    from dlstudy.formatting import to_jsonable

    return {
        "id": solution.template.id,
        "params": {k: to_jsonable(v) for k, v in solution.params.items()},
        "answer": engine.answer_jsonable(solution),
        "answer_text": solution.answer_text,
        "steps": [s.to_dict() for s in solution.steps],
    }


def select_templates(selection: Sequence[str]) -> list[Template]:
    """Templates for a drill: every word is a topic or an id; nothing means all."""
    if not selection:
        return all_templates()
    ids = template_ids()
    topics = sorted({t.topic for t in all_templates()})
    chosen: dict[str, Template] = {}
    for word in selection:
        if word in topics:
            chosen.update((t.id, t) for t in all_templates(word))
        elif word in ids:
            chosen[word] = get_template(word)
        else:
            hint = did_you_mean(word, [*topics, *ids])
            raise DlstudyError(f"{word!r} is neither a topic nor a problem id{hint} (topics: {', '.join(topics)})")
    return list(chosen.values())


def plan_drill(selection: Sequence[str], count: int, seed: int | None) -> tuple[int, list[tuple[Template, int]]]:
    """Which templates, with which seeds: as varied as the selection allows, reproducible by ``seed``."""
    templates = select_templates(selection)
    seed = new_seed() if seed is None else seed
    rng = np.random.default_rng(seed)
    plan: list[tuple[Template, int]] = []
    while len(plan) < count:
        for index in rng.permutation(len(templates)):
            plan.append((templates[index], int(rng.integers(1_000_000))))
            if len(plan) == count:
                break
    return seed, plan
