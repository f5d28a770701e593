"""What a practice sheet holds: its versions and problems, each problem's math as LaTeX parts.

A ``SheetProblem`` is the view every format renders: the statement with its
values as text or LaTeX (the terminal shows [[1, 2], [3, 4]]; a sheet shows a
matrix), the answer, and the worked steps with the numbers substituted.
``SheetFormat`` is what a format module registers (``formats.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from dlstudy.engine.results import Solution, Variant
from dlstudy.engine.templates import PLACEHOLDER
from dlstudy.mathtext import latex as latexmath
from dlstudy.mathtext.numbers import format_value
from dlstudy.output.markup import Part


@dataclass(frozen=True)
class StepView:
    what: str
    formula: str  # LaTeX, as the template writes it
    work: tuple[Part, ...]  # the numbers substituted, then the value


@dataclass(frozen=True)
class SheetProblem:
    number: int
    variant: Variant
    solution: Solution
    statement: tuple[Part, ...]
    answer: tuple[Part, ...]
    steps: tuple[StepView, ...]

    @property
    def id(self) -> str:
        return self.variant.template.id

    @property
    def seed(self) -> int:
        return self.variant.seed


@dataclass(frozen=True)
class SheetVersion:
    version: int  # 1-based
    of: int
    seed: int
    problems: tuple[SheetProblem, ...]
    command: str  # the command that regenerates exactly this version


@dataclass(frozen=True)
class SheetResult:
    files: tuple[Path, ...]
    versions: tuple[SheetVersion, ...]
    format: str
    solutions: str
    merged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [str(f) for f in self.files],
            "format": self.format,
            "solutions": self.solutions,
            "merged": self.merged,
            "versions": [
                {
                    "version": v.version,
                    "seed": v.seed,
                    "command": v.command,
                    "problems": [{"number": p.number, "id": p.id, "seed": p.seed} for p in v.problems],
                }
                for v in self.versions
            ],
        }


# ---------------------------------------------------------------------------
# Problems as math: the terminal shows [[1, 2], [3, 4]]; a sheet shows a matrix


def statement_parts(variant: Variant) -> tuple[Part, ...]:
    """The statement with each ``{name}`` as text (words, plain numbers) or math (arrays, negative numbers)."""
    template = variant.template
    text = template.statement[template.case_of(variant.params)]
    parts: list[Part] = []
    last = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(("text", text[last:match.start()]))
        parts.append(_param_part(variant.params[match.group(1)]))
        last = match.end()
    parts.append(("text", text[last:]))
    return _merge(parts)


def _param_part(value: Any) -> Part:
    if isinstance(value, (str, tuple)):
        return ("text", format_value(value))
    if np.ndim(value) == 0:
        shown = format_value(value)
        return ("math", latexmath.number_text(shown)) if shown.startswith("-") or "e" in shown else ("text", shown)
    return ("math", latexmath.value(value))


def _merge(parts: list[Part]) -> tuple[Part, ...]:
    merged: list[Part] = []
    for kind, content in parts:
        if not content:
            continue
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + content)
        else:
            merged.append((kind, content))
    return tuple(merged)


def _sigfigs(solution: Solution) -> int:
    return max(4, int(solution.template.answer.sigfigs or 0))  # as engine._value_text


def _value_latex(solution: Solution, name: str, value: Any) -> str:
    template = solution.template
    if template.answer.kind == "shape" and name == template.answer.step:
        return latexmath.value(tuple(int(v) for v in np.asarray(value).reshape(-1)))
    return latexmath.value(value, _sigfigs(solution))


def answer_parts(solution: Solution) -> tuple[Part, ...]:
    """The key's answer, equal to the engine's (``solution.answer_text``) entry for entry."""
    template = solution.template
    kind = template.answer.kind
    if kind == "choice":
        return (("text", solution.answer_text),)
    if kind == "expression":
        return (("math", latexmath.expression(solution.values[template.answer.step])),)
    return (("math", _value_latex(solution, template.answer.step, solution.answer)),)


def step_views(solution: Solution) -> tuple[StepView, ...]:
    """Each step: its LaTeX formula, then the formula with the numbers in and its value (as engine._step_results)."""
    template = solution.template
    values = solution.values
    case = template.case_of(values)
    views = []
    for index, (step, result) in enumerate(zip(template.steps, solution.steps)):
        node = step.formula[case].node
        if template.answer.kind == "expression" and step.name == template.answer.step:
            work: tuple[Part, ...] = (("math", latexmath.expression(node)),)
        else:
            earlier_names = {s.name for s in template.steps[:index]}
            earlier = {k: v for k, v in values.items() if k in template.params or k in earlier_names}
            substituted = latexmath.expression(node, earlier)
            if template.answer.kind == "choice" and step.name == template.answer.step:
                shown = str(int(result.value))
                work = (("math", f"{substituted} = {shown}"), ("text", f"  (answer {result.value_text})"))
            else:
                shown = _value_latex(solution, step.name, result.value)
                work = (("math", shown if substituted == shown else f"{substituted} = {shown}"),)
        views.append(StepView(step.what, step.latex[case], work))
    return tuple(views)


def sheet_problem(number: int, variant: Variant, solution: Solution) -> SheetProblem:
    return SheetProblem(number, variant, solution, statement_parts(variant), answer_parts(solution), step_views(solution))


# ---------------------------------------------------------------------------
# What every format prints the same way


def version_label(version: SheetVersion) -> str:
    return f"Version {version.version} of {version.of} · seed {version.seed}" if version.of > 1 else f"Seed {version.seed}"


def version_line(version: SheetVersion) -> str:
    count = len(version.problems)
    return f"{version_label(version)} · {count} problem{'s' if count != 1 else ''}"


def space_for(problem: SheetProblem) -> float:
    """Centimetres of blank space left for working under a problem."""
    return min(1.0 + 0.4 * len(problem.steps), 3.0)


@dataclass(frozen=True)
class SheetFormat:
    """An output format of ``dlstudy sheet``: a module builds one and ``formats.py`` registers it."""

    name: str  # what --format takes
    suffix: str  # of the files written
    render: Callable[[Sequence[SheetVersion], str, str], tuple[str, str]]  # (versions, title, solutions) -> (sheet, key)
    encode: Callable[[str], bytes]  # rendered text -> the file's bytes (Typst compiles it to a PDF)
    separate_key: bool = False  # the key (with --solutions key) is a file of its own, NAME-key.SUFFIX; else "" from render


def utf8(text: str) -> bytes:
    return text.encode("utf-8")
