"""What the engine returns: a sampled variant, a worked solution and its steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dlstudy.engine.templates import Template
from dlstudy.mathtext import expr
from dlstudy.mathtext.numbers import to_jsonable

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
