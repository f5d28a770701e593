"""What the engine returns: a sampled variant, a worked solution and its steps, as data.

What a statement, a step or an answer shows is decided here once, as printer
pieces (``mathtext.printer``); the terminal renders them as Unicode, sheets,
Markdown and Anki as LaTeX, the PDF as Typst.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping

from dlstudy.engine.evaluation import UNKNOWN, carried_mistake
from dlstudy.engine.model import Mistake, Sentence, Template
from dlstudy.mathtext import expr, lines, printer
from dlstudy.mathtext.numbers import to_jsonable


class OracleDisagreement(AssertionError):
    """A template's formula and its oracle disagree: a bug in dlstudy, never a user error."""


@dataclass(frozen=True)
class StepResult:
    """One line of a worked solution: its formula as the template writes it, then the numbers in and the value."""

    name: str
    what: str
    latex: str  # the closed form, as the template writes it (LaTeX)
    value: Any
    value_text: str  # the value as a student would type it
    make_work: Callable[[], tuple[lines.Piece, ...]] = field(compare=False, repr=False)

    @cached_property
    def work(self) -> tuple[lines.Piece, ...]:
        """The formula with the numbers substituted, then the value: made when first read (checking an answer
        only needs the value, and a test walking thousands of variants never reads it)."""
        return self.make_work()

    @property
    def formula(self) -> str:
        return printer.formula(self.latex)

    @property
    def what_pieces(self) -> tuple[lines.Piece, ...]:
        """The step's label, text with ``$...$`` math, as printer pieces."""
        return lines.text_pieces(self.what)

    @property
    def label(self) -> str:
        """The step's label as one line of terminal text."""
        return lines.line(self.what_pieces)

    @property
    def substituted(self) -> str:
        return lines.line(self.work)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "what": lines.line(lines.text_pieces(self.what)),
            "formula": self.formula,
            "substituted": self.substituted,
            "value": to_jsonable(self.value) if not isinstance(self.value, expr.Node.__args__) else self.value_text,
        }


@dataclass(frozen=True)
class Solution:
    template: Template
    params: Mapping[str, Any]
    answer: Any  # from the oracle
    answer_text: str  # as a student would type it
    answer_pieces: tuple[lines.Piece, ...]  # as a sheet shows it
    steps: tuple[StepResult, ...]
    values: Mapping[str, Any]  # params + every step's value, for mistakes and hand-checks
    oracle_values: Mapping[str, Any]
    # mistake id -> its value at its step, as sampling computed them (None: it does not apply)
    slips: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def step_value(self, name: str) -> Any:
        return self.oracle_values.get(name, self.values[name])

    def step(self, name: str) -> StepResult:
        return self._steps_by_name[name]

    @cached_property
    def _steps_by_name(self) -> dict[str, StepResult]:  # checking a step's answer reads its value text
        return {s.name: s for s in self.steps}

    @cached_property
    def _carried(self) -> tuple[dict[str, Any], ...]:
        slips = self.slips or {}
        return tuple(carried_mistake(self.template, m, self.values, slips.get(m.id, UNKNOWN)) for m in self.template.mistakes)

    def carried(self, mistake: Mistake) -> dict[str, Any]:
        """What a student who makes ``mistake`` gives at its step and every later step (``carried_mistake``),
        computed once per solution."""
        return self._carried[self.template.mistakes.index(mistake)]

    def mistakes_at(self, step: str) -> list[tuple[Mistake, Any]]:
        """Each listed mistake that applies at ``step`` (made there or carried from an earlier step), with the
        value it gives; computed once per solution."""
        return [(m, carried[step]) for m, carried in zip(self.template.mistakes, self._carried) if step in carried]


def statement_pieces(template: Template, params: Mapping[str, Any]) -> tuple[lines.Piece, ...]:
    """The statement's words and math with each ``{name}`` replaced by the parameter's value
    (a word or flag by its phrase, e.g. "PyTorch's nn.LSTM (two bias vectors)")."""
    return lines.text_pieces(template.statement[template.case_of(params)], template.display_values(params))


@dataclass(frozen=True)
class Variant:
    template: Template
    seed: int
    params: Mapping[str, Any]
    # params + every step by its closed form, and each mistake's value, as sampling computed them (so solving
    # needn't again)
    formula_values: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    slips: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def pieces(self) -> tuple[lines.Piece, ...]:
        """The statement: words and parameter values (made when first read: a test walking thousands of
        variants never reads it)."""
        return statement_pieces(self.template, self.params)

    @property
    def statement(self) -> str:
        return lines.line(self.pieces)

    def to_dict(self, solution: Solution | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.template.id,
            "topic": self.template.topic,
            "title": self.template.title,
            "seed": self.seed,
            "params": {k: to_jsonable(str(v) if isinstance(v, Sentence) else v) for k, v in self.params.items()},
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
