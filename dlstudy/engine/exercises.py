"""Exercises for the commands: generate a variant, solve a student's numbers, choose templates for a drill or sheet.

These return data and never print."""

from __future__ import annotations

import re
import secrets
import shlex
from typing import Any, Sequence

import numpy as np

from dlstudy.engine import graphs, results, sampling, solving
from dlstudy.engine.params import coerce_params, parse_assignments
from dlstudy.engine.results import Solution, Variant
from dlstudy.errors import DlstudyError
from dlstudy.engine.templates import Template, all_templates, get_template, headings, template_ids
from dlstudy.mathtext import lines
from dlstudy.mathtext.numbers import format_value
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
    """Template ids for a drill or sheet: every word is a template id, a topic or a search word
    (matched in ids, titles, topics, tags and statements); nothing means all."""
    ids = template_ids()
    chosen: dict[str, None] = {}
    topic_of: dict[str, str] = {}  # read once, at the first word that is not an id
    for word in selection or ids:
        if word in ids:
            chosen[word] = None
            continue
        topic_of = topic_of or {heading.id: heading.topic for heading in headings()}
        topics = sorted(set(topic_of.values()))
        if word in topics:
            chosen.update((template_id, None) for template_id, topic in topic_of.items() if topic == word)
            continue
        found = search([word])
        if not found:
            hint = did_you_mean(word, [*topics, *ids])
            raise DlstudyError(
                f"{word!r} is not a topic or a problem id and no problem mentions it{hint} (topics: {', '.join(topics)})"
            )
        chosen.update((t.id, None) for t in found)
    return list(chosen)


_WORD = re.compile(r"[a-z0-9]+")


def _search_text(template: Template) -> dict[str, set[str]]:
    """The words of a template a search matches, by field (stronger fields first)."""
    def words(*texts: str) -> set[str]:
        return {w for text in texts for w in _WORD.findall(text.lower())}

    return {
        "name": words(template.id, template.title, template.topic, " ".join(template.tags)),
        "text": words(*template.statement.values(), *(p.about for p in template.params.values()),
                      *(s.what for s in template.steps)),
    }


def search(words: Sequence[str]) -> list[Template]:
    """Templates mentioning every one of ``words`` (as a word or a word's start: "conv" finds convolution),
    those that name them in their id, title, topic or tags first."""
    wanted = [w for word in words for w in _WORD.findall(word.lower())]
    if not wanted:
        return []
    scored = []
    for template in all_templates():
        fields = _search_text(template)
        score = 0
        for word in wanted:
            if any(w.startswith(word) for w in fields["name"]):
                score += 2
            elif any(w.startswith(word) for w in fields["text"]):
                score += 1
            else:
                break
        else:
            scored.append((-score, template.id, template))
    return [template for _, _, template in sorted(scored, key=lambda item: item[:2])]


def describe(problem_id: str) -> dict[str, Any]:
    """Everything a student needs to ask ``solve``/``check`` about their own exercise: the statement, every
    parameter (meaning, kind, shape, domain, default, other names), what the answer is, an example line."""
    template = get_template(problem_id)
    variant = sampling.sample(template, 1)
    example = " ".join(["dlstudy solve", template.id, *(
        shlex.quote(f"{name}={_typed(value)}") for name, value in variant.params.items()
        # a graph's inputs are variant parameters of their own, with no default
        if name not in template.params or template.params[name].default is None or np.ndim(value)
        or value != template.params[name].default
    )])
    return {
        **template.summary(),
        "statement": {case: _described(template, case, text) for case, text in template.statement.items()},
        "parameters": [p.to_dict() for p in template.params.values()],
        "answer": {
            "kind": template.answer.kind,
            "parts": [{"name": part, "what": _what(template, part)} for part in template.answer.asked],
        },
        "steps": [{"name": s.name, "what": lines.line(lines.text_pieces(s.what))} for s in template.steps],
        "example": example,
    }


def _what(template: Template, step: str) -> str:
    """What a step computes; a graph template's steps are the nodes of the graph it is given."""
    if any(s.name == step for s in template.steps):
        return lines.line(lines.text_pieces(template.step(step).what))
    return f"the value of {step}"


def _described(template: Template, case: str, text: str) -> str:
    """A statement with no numbers yet: each placeholder reads as its parameter's name, except the parameter
    that picks this case, which reads as its phrase for the case ("in PyTorch's convention")."""
    names: dict[str, Any] = {name: name for name in template.params}
    names[graphs.INPUTS_PLACEHOLDER] = "values of its inputs"
    if template.cases and case.lower() in template.params[template.cases].phrases:
        names[template.cases] = template.params[template.cases].phrases[case.lower()]
    # "$n = {n}$" reads as the symbol alone, not "n = n"
    text = re.sub(r"\s*=\s*\{(\w+)\}", lambda m: "" if m.group(1) in template.params else m.group(0), text)
    return lines.line(lines.text_pieces(text, names))


def _typed(value: Any) -> str:
    """A parameter value as ``solve`` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return format_value(value) if not hasattr(value, "words") else str(value)


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
