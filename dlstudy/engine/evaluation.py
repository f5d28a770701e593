"""A template's closed-form formulas evaluated: constraints, worked-step values, common mistakes."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.model import Constraint, Template
from dlstudy.mathtext import expr
from dlstudy.mathtext.functions import finite
from dlstudy.mathtext.numbers import format_value

def first_violated(
    template: Template, values: Mapping[str, Any], sampling: bool, after_steps: bool = False
) -> Constraint | None:
    """The first constraint that fails: those on parameters alone, or (``after_steps``) those using steps."""
    for constraint in template.constraints:
        if (constraint.sampling_only and not sampling) or constraint.uses_steps != after_steps:
            continue
        try:
            ok = constraint.formula.run(values)
            ok = ok if ok is True or ok is False else bool(np.all(ok))
        except expr.ExprError:
            ok = False
        if not ok:
            return constraint
    return None


def describe_violation(constraint: Constraint, values: Mapping[str, Any]) -> str:
    used = sorted(expr.names(constraint.formula.node) & set(values))
    shown = ", ".join(f"{n}={format_value(values[n])}" for n in used)
    return f"{constraint.message} (needs {constraint.formula.text}; here {shown})"


def formula_values(template: Template, params: Mapping[str, Any]) -> dict[str, Any]:
    """What formulas see (``Template.env``) plus every step evaluated by its closed-form formula."""
    values = template.env(params)
    case = template.case_of(params)
    for step in template.steps:
        if template.answer.kind == "expression" and step.name == template.answer.step:
            values[step.name] = step.formula[case].node
            continue
        value = step.formula[case].run(values)
        if not finite(value):
            raise expr.ExprError(f"step {step.name!r} is not finite")
        values[step.name] = value
    return values


def mistake_value(template: Template, mistake: Any, values: Mapping[str, Any]) -> Any | None:
    """What a student who makes ``mistake`` would answer, or None when it does not apply."""
    formula = mistake.formula.get(template.case_of(values))
    if formula is None:
        return None
    if mistake.when is not None:
        try:
            applies = mistake.when.run(values)
        except expr.ExprError:
            return None
        if not np.all(applies):
            return None
    if template.answer.kind == "expression" and mistake.step == template.answer.step:
        return formula.node
    try:
        with np.errstate(all="ignore"):
            value = formula.run(values)
    except expr.ExprError:
        return None
    return value if finite(value) else None


def carried_mistake(template: Template, mistake: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a student who makes ``mistake`` gives at its step and at every later step (the slip carried through
    the later formulas); a step is missing where the mistake does not apply or the chain breaks."""
    wrong = mistake_value(template, mistake, values)
    if wrong is None:
        return {}
    carried_values = {mistake.step: wrong}
    if template.answer.kind == "expression":
        return carried_values
    names = [s.name for s in template.steps]
    carried = {**values, mistake.step: wrong}
    case = template.case_of(values)
    with np.errstate(all="ignore"):
        for later in template.steps[names.index(mistake.step) + 1 :]:
            try:
                carried[later.name] = later.formula[case].run(carried)
            except expr.ExprError:
                break
            if finite(carried[later.name]):
                carried_values[later.name] = carried[later.name]
    return carried_values


def mistake_value_at(template: Template, mistake: Any, values: Mapping[str, Any], step: str) -> Any | None:
    """What a student who makes ``mistake`` would give for ``step``, or None."""
    return carried_mistake(template, mistake, values).get(step)
