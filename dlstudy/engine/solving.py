"""From seed to worked solution: sample parameters, run the oracle, evaluate the formulas.

    seed -> numpy Generator -> params (constraints hold, no common mistake
    gives the right answer) -> oracle (live NumPy/torch) -> answer key
    -> closed-form steps (must equal the oracle) -> worked solution

Nothing here prints; the CLI renders what these functions return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from dlstudy.mathtext import expr
from dlstudy.engine import oracles
from dlstudy.engine.answers import CHOICE_LETTERS, AnswerFormatError, parse_answer
from dlstudy.errors import DlstudyError
from dlstudy.suggest import did_you_mean
from dlstudy.mathtext.numbers import DISPLAY_SIGFIGS, format_value, round_as_displayed, to_jsonable
from dlstudy.mathtext.functions import finite
from dlstudy.engine.templates import PLACEHOLDER, Constraint, Param, Template

MAX_ATTEMPTS = 2000
AGREEMENT_RTOL = 1e-6
AGREEMENT_ATOL = 1e-9


class OracleDisagreement(AssertionError):
    """A template's formula and its oracle disagree: a bug in dlstudy, never a user error."""


@dataclass(frozen=True)
class StepResult:
    """One line of a worked solution."""

    name: str
    what: str
    formula: str  # the closed form, as readable Unicode
    substituted: str  # the formula with the numbers in
    value: Any
    value_text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "what": self.what,
            "formula": self.formula,
            "substituted": self.substituted,
            "value": to_jsonable(self.value) if not isinstance(self.value, expr.Node.__args__) else self.value_text,
        }


@dataclass(frozen=True)
class Solution:
    template: Template
    params: Mapping[str, Any]
    answer: Any  # from the oracle
    answer_text: str
    steps: tuple[StepResult, ...]
    values: Mapping[str, Any]  # params + every step's value, for mistakes and hand-checks
    oracle_values: Mapping[str, Any]

    def step_value(self, name: str) -> Any:
        return self.oracle_values.get(name, self.values[name])


@dataclass(frozen=True)
class Variant:
    template: Template
    seed: int
    params: Mapping[str, Any]
    statement: str

    def to_dict(self, solution: Solution | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.template.id,
            "topic": self.template.topic,
            "title": self.template.title,
            "seed": self.seed,
            "params": {k: to_jsonable(v) for k, v in self.params.items()},
            "statement": self.statement,
            "kind": self.template.answer.kind,
        }
        if self.template.answer.kind == "choice":
            data["choices"] = list(self.template.answer.choices)
        if solution is not None:
            data["answer"] = answer_jsonable(solution)
            data["answer_text"] = solution.answer_text
            data["steps"] = [s.to_dict() for s in solution.steps]
        return data


def answer_jsonable(solution: Solution) -> Any:
    if solution.template.answer.kind == "expression":
        return solution.answer_text
    return to_jsonable(solution.answer)


# ---------------------------------------------------------------------------
# Sampling


def _draw(param: Param, rng: np.random.Generator, drawn: Mapping[str, Any]) -> Any:
    if param.kind in ("choice", "word"):
        return param.options[int(rng.integers(len(param.options)))]
    if param.kind == "int":
        while True:
            value = int(rng.integers(int(param.low), int(param.high) + 1))
            if value not in param.exclude:
                return value
    if param.kind == "real":
        while True:
            value = round(float(rng.uniform(param.low, param.high)), param.decimals)
            if value not in param.exclude:
                return value
    shape = tuple(int(drawn[d]) if isinstance(d, str) else int(d) for d in param.size)
    return _draw_entries(param, rng, shape)


def _draw_entries(param: Param, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    def entries(n: int) -> np.ndarray:
        if param.decimals == 0:
            return rng.integers(int(param.low), int(param.high) + 1, n).astype(float)
        return np.round(rng.uniform(param.low, param.high, n), param.decimals)

    flat = entries(int(np.prod(shape)))
    for _ in range(100):
        bad = np.isin(flat, param.exclude)
        if not bad.any():
            break
        flat[bad] = entries(int(bad.sum()))
    return flat.reshape(shape)


def sample(template: Template, seed: int) -> Variant:
    """The variant for ``seed``: same seed, same variant, on every machine."""
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for _ in range(MAX_ATTEMPTS):
            params: dict[str, Any] = {}
            for name, param in template.params.items():
                params[name] = _draw(param, rng, params)
            if _first_violated(template, params, sampling=True) is not None:
                continue
            try:
                values = formula_values(template, params)
            except expr.ExprError:
                continue
            if _first_violated(template, values, sampling=True, after_steps=True) is not None:
                continue
            if _mistake_collides(template, values):
                continue
            return Variant(template, seed, params, render_statement(template, params))
    raise DlstudyError(f"{template.source}: could not sample valid parameters in {MAX_ATTEMPTS} tries (seed {seed})")


def render_statement(template: Template, params: Mapping[str, Any]) -> str:
    text = template.statement[template.case_of(params)]
    return PLACEHOLDER.sub(lambda m: format_value(params[m.group(1)]), text)


def _first_violated(
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


def _describe_violation(constraint: Constraint, values: Mapping[str, Any]) -> str:
    used = sorted(expr.names(constraint.formula.node) & set(values))
    shown = ", ".join(f"{n}={format_value(values[n])}" for n in used)
    return f"{constraint.message} (needs {constraint.formula.text}; here {shown})"


def formula_values(template: Template, params: Mapping[str, Any]) -> dict[str, Any]:
    """Params plus every step evaluated by its closed-form formula."""
    values = dict(params)
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


def mistake_value_at(template: Template, mistake: Any, values: Mapping[str, Any], step: str) -> Any | None:
    """What a student who makes ``mistake`` would give for ``step``: the slip carried through later formulas."""
    wrong = mistake_value(template, mistake, values)
    if wrong is None or mistake.step == step:
        return wrong
    names = [s.name for s in template.steps]
    if names.index(mistake.step) > names.index(step):
        return None
    if template.answer.kind == "expression":
        return None
    carried = {**values, mistake.step: wrong}
    case = template.case_of(values)
    try:
        with np.errstate(all="ignore"):
            for later in template.steps[names.index(mistake.step) + 1 : names.index(step) + 1]:
                carried[later.name] = later.formula[case].run(carried)
    except expr.ExprError:
        return None
    return carried[step] if finite(carried[step]) else None


def _mistake_collides(template: Template, values: Mapping[str, Any]) -> bool:
    from dlstudy.engine.checking import judge, step_kind

    for mistake in template.mistakes:
        wrong = mistake_value(template, mistake, values)
        if wrong is None:
            continue
        kind = step_kind(template, mistake.step, values[mistake.step])
        right = values[mistake.step]
        if judge(template, kind, wrong, right, values, mistake.step).score == 1.0:
            return True
        # Also as the student would type it off the screen: a slip 1.01% away must not round into tolerance.
        if kind in ("real", "vector", "matrix"):
            shown = round_as_displayed(wrong, max(DISPLAY_SIGFIGS, int(template.answer.sigfigs or 0)))
            if judge(template, kind, shown, right, values, mistake.step).score == 1.0:
                return True
    return False


# ---------------------------------------------------------------------------
# Solving


def solve(template: Template, params: Mapping[str, Any]) -> Solution:
    """Run the oracle, evaluate the worked steps, and prove they agree."""
    with np.errstate(all="ignore"):
        values = formula_values(template, params)
    oracle_values = oracles.get(template.oracle)(params)
    if template.answer.step not in oracle_values:
        raise OracleDisagreement(f"oracle {template.oracle!r} gives no value for answer step {template.answer.step!r}")
    for name, live in oracle_values.items():
        if name in values:
            _assert_agree(template, name, values[name], live, params)
    answer = oracle_values[template.answer.step]
    return Solution(
        template=template,
        params=params,
        answer=answer,
        answer_text=_value_text(template, template.answer.step, answer, values),
        steps=tuple(_step_results(template, values, oracle_values)),
        values=values,
        oracle_values=oracle_values,
    )


def _assert_agree(template: Template, name: str, formula: Any, live: Any, params: Mapping[str, Any]) -> None:
    if callable(live):  # an expression answer: the oracle gives the live function
        from dlstudy.engine.symbolic import evaluate_at, numeric_equal, probe_points

        points = probe_points([template.answer.variable])
        env = {**params, **points}
        ok = numeric_equal(evaluate_at(formula, env), live(points[template.answer.variable])) is True
    else:
        a = np.asarray(formula, dtype=float)
        b = np.asarray(live, dtype=float)
        ok = a.shape == b.shape and np.allclose(a, b, rtol=AGREEMENT_RTOL, atol=AGREEMENT_ATOL)
    if not ok:
        raise OracleDisagreement(
            f"{template.id}: step {name!r} formula gives {format_value(formula) if not callable(live) else formula}"
            f" but oracle {template.oracle!r} gives {live if callable(live) else format_value(live)} for {dict(params)}"
        )


def _value_text(template: Template, name: str, value: Any, values: Mapping[str, Any]) -> str:
    if template.answer.kind == "expression" and name == template.answer.step:
        return expr.to_text(values[name])
    if template.answer.kind == "choice" and name == template.answer.step:
        index = int(value)
        return f"{CHOICE_LETTERS[index - 1]}) {template.answer.choices[index - 1]}"
    if template.answer.kind == "shape" and name == template.answer.step:
        return format_value(tuple(int(v) for v in np.asarray(value).reshape(-1)))
    sigfigs = max(4, int(template.answer.sigfigs or 0))
    return format_value(value, sigfigs)


def _step_results(template: Template, values: Mapping[str, Any], oracle_values: Mapping[str, Any]):
    from dlstudy.mathtext.unicode import latex_to_unicode

    case = template.case_of(values)
    for index, step in enumerate(template.steps):
        node = step.formula[case].node
        symbolic = template.answer.kind == "expression" and step.name == template.answer.step
        # An expression answer is shown as its formula; the oracle's live function only checks it.
        value = values[step.name] if symbolic else oracle_values.get(step.name, values[step.name])
        text = _value_text(template, step.name, value, values)
        if symbolic:
            substituted = expr.to_text(node)
        else:
            # what a student knows at this step: the parameters and the steps before it
            known = {*template.params, *(s.name for s in template.steps[:index])}
            earlier = {k: v for k, v in values.items() if k in known}
            substituted = f"{expr.to_text(node, earlier)} = {text}"
        yield StepResult(step.name, step.what, latex_to_unicode(step.latex[case]), substituted, value, text)


# ---------------------------------------------------------------------------
# Parameters typed by a student (solve / check)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["n=32", "W=[[1,2],[3,4]]"]`` -> ``{"n": "32", "W": "[[1,2],[3,4]]"}``."""
    raw: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise DlstudyError(f"parameter {item!r} must look like name=value, e.g. n=32")
        if name in raw:
            raise DlstudyError(f"parameter {name!r} is given twice")
        raw[name] = text.strip()
    return raw


def coerce_params(template: Template, raw: Mapping[str, str]) -> dict[str, Any]:
    """Check and convert a student's parameters; every problem is a one-line DlstudyError."""
    unknown = [name for name in raw if name not in template.params]
    if unknown:
        hint = did_you_mean(unknown[0], template.params)
        raise DlstudyError(
            f"{template.id} has no parameter {unknown[0]!r}{hint} (parameters: {', '.join(template.params)})"
        )
    missing = [name for name in template.params if name not in raw]
    if missing:
        described = "; ".join(f"{n} = {template.params[n].describe()}" for n in missing)
        raise DlstudyError(f"{template.id} needs {', '.join(missing)}: {described}")
    params: dict[str, Any] = {}
    for name, param in template.params.items():
        params[name] = _coerce(param, raw[name], params)
    violated = _first_violated(template, params, sampling=False)
    if violated is not None:
        raise DlstudyError(f"invalid parameters for {template.id}: {_describe_violation(violated, params)}")
    try:
        with np.errstate(all="ignore"):
            values = formula_values(template, params)
    except expr.ExprError as exc:
        raise DlstudyError(f"invalid parameters for {template.id}: {exc.message}") from None
    violated = _first_violated(template, values, sampling=False, after_steps=True)
    if violated is not None:
        raise DlstudyError(f"invalid parameters for {template.id}: {_describe_violation(violated, values)}")
    return params


def _coerce(param: Param, text: str, earlier: Mapping[str, Any]) -> Any:
    where = f"parameter {param.name} ({param.about})"
    if param.kind == "word":
        if text not in param.options:
            raise DlstudyError(f"{where} must be one of {', '.join(param.options)}, not {text!r}")
        return text
    if param.kind == "choice":
        kind = "integer" if all(float(o).is_integer() for o in param.options) else "real"
    else:
        kind = {"int": "integer", "real": "real", "vector": "vector", "matrix": "matrix"}[param.kind]
    try:
        value = parse_answer(kind, text)
    except AnswerFormatError as exc:
        raise DlstudyError(f"{where}: {exc.message}") from None
    if param.kind in ("vector", "matrix"):
        want = tuple(int(earlier[d]) if isinstance(d, str) else int(d) for d in param.size)
        if value.shape != want:
            dims = " x ".join(f"{d}={earlier[d]}" if isinstance(d, str) else str(d) for d in param.size)
            raise DlstudyError(f"{where} must have shape {dims}, got {' x '.join(map(str, value.shape))}")
        return value
    if param.minimum is not None and value < param.minimum:
        raise DlstudyError(f"{where} must be >= {param.minimum:g}, got {text}")
    if param.maximum is not None and value > param.maximum:
        raise DlstudyError(f"{where} must be <= {param.maximum:g}, got {text}")
    return value
