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

from dlstudy.engine.results import Solution, Variant
from dlstudy.mathtext import lines, printer
from dlstudy.output.markup import Part


@dataclass(frozen=True)
class StepView:
    what: tuple[Part, ...]  # the label: text with math
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
    space: float = 0.0  # centimetres of blank space to work in (with --solutions key or none)

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
    notices: tuple[str, ...] = ()  # e.g. a topic with fewer templates than problems asked for

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [str(f) for f in self.files],
            "notices": list(self.notices),
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
    return lines.parts(variant.pieces, printer.LATEX)


def answer_parts(solution: Solution) -> tuple[Part, ...]:
    """The key's answer, equal to the engine's (``solution.answer_text``) entry for entry."""
    return lines.parts(solution.answer_pieces, printer.LATEX)


def step_views(solution: Solution) -> tuple[StepView, ...]:
    """Each step: its LaTeX formula, then the formula with the numbers in and its value."""
    return tuple(
        StepView(lines.parts(step.what_pieces, printer.LATEX), step.latex, lines.parts(step.work, printer.LATEX))
        for step in solution.steps
    )


def sheet_problem(number: int, variant: Variant, solution: Solution, space: float = 1.0) -> SheetProblem:
    """One problem of a sheet; ``space`` scales the room left to work in (``--space``)."""
    steps = step_views(solution)
    return SheetProblem(number, variant, solution, statement_parts(variant), answer_parts(solution), steps,
                        space_for(len(steps), space))


# ---------------------------------------------------------------------------
# What every format prints the same way


def version_label(version: SheetVersion) -> str:
    return f"Version {version.version} of {version.of} · seed {version.seed}" if version.of > 1 else f"Seed {version.seed}"


def version_line(version: SheetVersion) -> str:
    count = len(version.problems)
    return f"{version_label(version)} · {count} problem{'s' if count != 1 else ''}"


def space_for(steps: int, factor: float = 1.0) -> float:
    """Centimetres of blank space for working: more steps, more room (a 7-step LSTM step gets 7 cm)."""
    return round(factor * min(1.5 + 0.8 * steps, 14.0), 1)


# A problem, or a worked solution, longer than this many steps may break across pages; shorter ones never do.
UNBREAKABLE_STEPS = 14


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
