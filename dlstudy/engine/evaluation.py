"""A template's closed-form formulas evaluated: constraints, worked-step values, common mistakes."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from dlstudy.engine.model import LOOP_INDEX, PREVIOUS_SUFFIX, Constraint, Formula, Template
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
        if not holds(constraint.formula, values):
            return constraint
    return None


def describe_violation(constraint: Constraint, values: Mapping[str, Any]) -> str:
    used = sorted(expr.names(constraint.formula.node) & set(values))
    shown = ", ".join(f"{n}={format_value(values[n])}" for n in used)
    return f"{constraint.message} (needs {constraint.formula.text}; here {shown})"


MAX_REPEATS = 10_000  # time steps of a repeated step (sizes bound them far lower)


def formula_values(template: Template, params: Mapping[str, Any], env: dict[str, Any] | None = None) -> dict[str, Any]:
    """What formulas see (``Template.env``) plus every step evaluated by its closed-form formula. ``env`` is
    ``template.env(params)`` if the caller has made it (it is filled in place)."""
    values = template.env(params) if env is None else env
    case = template.case_of(params)
    if template.answer.kind == "expression":
        for step in template.steps:
            if step.name == template.answer.step:
                values[step.name] = step.formula[case].node
            else:
                values[step.name] = _checked_finite(step.name, step.formula[case].run(values))
        return values
    for name, value in evaluate_steps(template, values, case):
        _checked_finite(name, value)
    return values


def values_within_constraints(
    template: Template, params: Mapping[str, Any], sampling: bool, env: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """``formula_values`` when every constraint on the steps holds, else None (also when a step fails).

    Each constraint is tried as soon as the last step it names is known (``Template.step_checks``), so a
    sampler that rejects most draws on a step's value stops there instead of evaluating every later step: the
    same verdict as ``formula_values`` followed by ``first_violated(..., after_steps=True)``, for less work.
    ``env`` is ``template.env(params)`` if the caller has made it (it is filled in place)."""
    checks = template.step_checks(sampling)
    try:
        if template.answer.kind == "expression":  # the answer step is a formula, not a value: every step first
            values = formula_values(template, params, env)
            return values if all(all_hold(cs, values) for cs in checks.values()) else None
        values = template.env(params) if env is None else env
        for name, value in evaluate_steps(template, values, template.case_of(params)):
            _checked_finite(name, value)
            if name in checks and not all_hold(checks[name], values):
                return None
    except expr.ExprError:
        return None
    return values


def all_hold(conditions: Iterable[Formula], values: Mapping[str, Any]) -> bool:
    """Whether every condition holds (``holds``), tried in order until one does not."""
    for condition in conditions:
        if not holds(condition, values):
            return False
    return True


def holds(formula: Formula, values: Mapping[str, Any]) -> bool:
    """Whether a condition holds (every entry, for an array); a formula that cannot be evaluated does not."""
    try:
        ok = formula.run(values)
    except expr.ExprError:
        return False
    if ok is True or ok is False:
        return ok
    # a comparison of NumPy numbers or arrays: their own methods, without np.all's dispatch (sampling checks
    # each condition tens of thousands of times)
    if type(ok) is np.bool_:
        return bool(ok)
    return bool(ok.all()) if type(ok) is np.ndarray else bool(np.all(ok))


def _checked_finite(name: str, value: Any) -> Any:
    if not finite(value):
        raise expr.ExprError(f"step {name!r} is not finite")
    return value


def evaluate_steps(
    template: Template, values: dict[str, Any], case: str, first: int = 0, override: tuple[str, Formula] | None = None
) -> Iterator[tuple[str, Any]]:
    """Evaluate ``template.steps[first:]`` in order into ``values``, yielding each (name, value).

    A loop of repeated steps runs t = 1..T: each step sees t, X_prev for each step X of the loop (its row at
    t - 1, or its start) and the loop's earlier steps at t; its value is its rows stacked.  ``override``
    replaces one step's formula (a common mistake), carried through the steps after it.  Raises ExprError.
    """
    steps = template.steps
    index = first
    while index < len(steps):
        step = steps[index]
        formula = override[1] if override and override[0] == step.name else step.formula[case]
        if not step.loop:
            values[step.name] = formula.run(values)
            yield step.name, values[step.name]
            index += 1
            continue
        loop = steps[index : index + len(step.loop)]
        for name, value in _run_loop(loop, values, case, override).items():
            values[name] = value
            yield name, value
        index += len(loop)


def _run_loop(loop: Any, values: Mapping[str, Any], case: str, override: tuple[str, Formula] | None) -> dict[str, Any]:
    count = float(np.asarray(loop[0].repeat.run(values)))
    if not count.is_integer() or not 0 <= count <= MAX_REPEATS:
        raise expr.ExprError(f"a step repeats {count:g} times, not a whole number from 0 to {MAX_REPEATS}")
    env = dict(values)
    for step in loop:
        env[step.name + PREVIOUS_SUFFIX] = step.start.run(values) if step.start is not None else 0.0
    rows: dict[str, list[Any]] = {step.name: [] for step in loop}
    for t in range(1, int(count) + 1):
        env[LOOP_INDEX] = float(t)
        for step in loop:
            formula = override[1] if override and override[0] == step.name else step.formula[case]
            env[step.name] = formula.run(env)
            rows[step.name].append(env[step.name])
        for step in loop:
            env[step.name + PREVIOUS_SUFFIX] = env[step.name]
    try:
        return {name: np.array(stacked, dtype=float) for name, stacked in rows.items()}
    except ValueError:
        raise expr.ExprError("a repeated step gives values of different shapes at different t") from None


def _applies(template: Template, mistake: Any, values: Mapping[str, Any]) -> Formula | None:
    formula = mistake.formula.get(template.case_of(values))
    if formula is None:
        return None
    if mistake.when is not None and not holds(mistake.when, values):
        return None
    return formula


def _loop_start(template: Template, step_name: str) -> int:
    """The index of the step, or of the first step of its loop."""
    names = [s.name for s in template.steps]
    step = template.steps[names.index(step_name)]
    return names.index(step.loop[0]) if step.loop else names.index(step_name)


def mistake_value(template: Template, mistake: Any, values: Mapping[str, Any]) -> Any | None:
    """What a student who makes ``mistake`` would answer, or None when it does not apply (also when it is not
    finite). Callers run it under ``np.errstate(all="ignore")``, as every formula: entering one costs as much as
    a small formula, and sampling tries each mistake on every variant."""
    formula = _applies(template, mistake, values)
    if formula is None:
        return None
    if template.answer.kind == "expression" and mistake.step == template.answer.step:
        return formula.node
    step = template.step(mistake.step)
    try:
        if step.loop:  # the slip made at every t of its loop
            loop = [template.step(name) for name in step.loop]
            value = _run_loop(loop, values, template.case_of(values), (mistake.step, formula))[mistake.step]
        else:
            value = formula.run(values)
    except expr.ExprError:
        return None
    return value if finite(value) else None


UNKNOWN = object()  # a slip not computed yet


def carried_mistake(template: Template, mistake: Any, values: Mapping[str, Any], slip: Any = UNKNOWN) -> dict[str, Any]:
    """What a student who makes ``mistake`` gives at its step and at every later step (the slip carried through
    the later formulas); a step is missing where the mistake does not apply or the chain breaks. ``slip`` is the
    mistake's value at its step (``mistake_value``) when already known."""
    wrong = slip
    if wrong is UNKNOWN:
        with np.errstate(all="ignore"):
            wrong = mistake_value(template, mistake, values)
    if wrong is None:
        return {}
    carried_values = {mistake.step: wrong}
    if template.answer.kind == "expression":
        return carried_values
    carried = dict(values)
    names = [s.name for s in template.steps]
    made = names.index(mistake.step)
    with np.errstate(all="ignore"):  # also over the mistake's `when`, a formula like any other
        if template.step(mistake.step).loop:  # the loop runs again from its start with the slip at every t
            first, override = _loop_start(template, mistake.step), (mistake.step, _applies(template, mistake, values))
        else:  # the later steps see the slip's value
            carried[mistake.step] = wrong
            first, override = made + 1, None
        evaluated = evaluate_steps(template, carried, template.case_of(values), first, override)
        while True:
            try:
                name, value = next(evaluated)
            except (StopIteration, expr.ExprError):
                break
            if names.index(name) > made and finite(value):
                carried_values[name] = value
    return carried_values


def mistake_value_at(template: Template, mistake: Any, values: Mapping[str, Any], step: str) -> Any | None:
    """What a student who makes ``mistake`` would give for ``step``, or None."""
    return carried_mistake(template, mistake, values).get(step)
