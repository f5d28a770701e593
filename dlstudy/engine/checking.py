"""Judge an answer: tolerance, partial credit, named wrong entries, common-mistake feedback."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from dlstudy.mathtext import expr
from dlstudy.mathtext import lines, printer
from dlstudy.engine.answers import parse_answer
from dlstudy.engine.results import Solution
from dlstudy.mathtext.numbers import format_number, format_value, ndim
from dlstudy.engine.model import Template
from dlstudy.errors import DlstudyError


@dataclass(frozen=True)
class Match:
    score: float  # 1.0 is fully right; vectors/matrices/shapes get the fraction of right entries
    wrong: tuple[str, ...] = ()  # e.g. "x[2]: you gave 0.3, expected 0.35"
    detail: str = ""


_RIGHT, _WRONG = Match(1.0), Match(0.0)  # immutable: one of each serves every comparison


@dataclass(frozen=True)
class Verdict:
    correct: bool
    score: float
    step: str
    given: str
    expected: str
    feedback: tuple[str, ...]
    mistakes: tuple[str, ...] = ()  # ids of the common mistakes the answer matches

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "score": round(self.score, 4),
            "step": self.step,
            "given": self.given,
            "expected": self.expected,
            "feedback": " ".join(self.feedback),
            "mistakes": list(self.mistakes),
        }


def step_kind(template: Template, step: str, value: Any) -> str:
    """How a step's value is typed and judged."""
    if step == template.answer.step:
        return template.answer.kind
    declared = template.step(step).kind
    if declared is not None:
        return declared
    if isinstance(value, expr.Node.__args__):
        return "expression"
    dimensions = ndim(value)
    if dimensions == 1:
        return "vector"
    if dimensions == 2:
        return "matrix"
    if template.answer.kind in ("integer", "shape"):
        return "integer"
    return "real"


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 0.01
    atol: float = 1e-9
    sigfigs: int | None = None


def tolerance_of(template: Template, step: str | None) -> Tolerance:
    """The answer's tolerance, or an intermediate step's own rtol/atol where it declares them."""
    answer = template.answer
    declared = template.step(step) if step is not None and step != answer.step else None
    if declared is None:
        return Tolerance(answer.rtol, answer.atol, answer.sigfigs)
    return Tolerance(
        declared.rtol if declared.rtol is not None else answer.rtol,
        declared.atol if declared.atol is not None else answer.atol,
    )


def _whole(x: Any) -> int | None:
    """``x`` as an exact int when it is a whole number (an int of any size, or an integral float), else None."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)
    value = float(x)
    return int(value) if math.isfinite(value) and value.is_integer() else None


def _same_integer(given: Any, expected: Any) -> bool:
    """Whole numbers are compared exactly, as ints: as floats, 8000000008000000001 == 8000000008000000000."""
    g, e = _whole(given), _whole(expected)
    if g is not None and e is not None:
        return g == e
    return float(given) == float(expected)


def _close_scalar(given: float, expected: float, kind: str, tolerance: Tolerance) -> bool:
    """``_close`` for one number, without NumPy's per-call cost (this runs for every mistake of every check)."""
    if kind == "integer":
        return _same_integer(given, expected)
    if kind in ("shape", "choice"):
        return given == expected
    if tolerance.sigfigs:
        if expected == 0:
            return abs(given) <= tolerance.atol
        unit = 10 ** (math.floor(math.log10(abs(expected))) - int(tolerance.sigfigs) + 1)
        return abs(given - expected) <= 0.5 * unit * (1 + 1e-9)
    return abs(given - expected) <= max(tolerance.rtol * abs(expected), tolerance.atol)


def _close(given: list[float], expected: list[float], kind: str, tolerance: Tolerance) -> list[bool]:
    """Entry by entry: is ``given`` right?  Plain Python: arrays typed as answers have a handful of entries,
    where NumPy's per-call cost is most of the time."""
    if kind in ("integer", "shape", "choice"):
        return [g == e for g, e in zip(given, expected)]
    if tolerance.sigfigs:
        # NumPy's log10, as arrays have always been judged: near a power of ten it can differ from math.log10
        # in the last bit, and so pick another unit
        e = np.array(expected)
        with np.errstate(divide="ignore"):
            unit = 10.0 ** (np.floor(np.log10(np.abs(e))) - int(tolerance.sigfigs) + 1)
        g = np.array(given)
        return np.where(e == 0, np.abs(g) <= tolerance.atol, np.abs(g - e) <= 0.5 * unit * (1 + 1e-9)).tolist()
    rtol, atol = tolerance.rtol, tolerance.atol  # _close_scalar's rule, inlined (max too): it runs for every entry
    return [abs(g - e) <= (atol if atol > (relative := rtol * abs(e)) else relative) for g, e in zip(given, expected)]


def judge(
    template: Template,
    kind: str,
    given: Any,
    expected: Any,
    params: Mapping[str, Any] = {},
    step: str | None = None,
    explain: bool = True,
) -> Match:
    """Compare two values of ``kind`` under the tolerance of ``step`` (default: the answer's).

    Expressions are compared with the key formula, which ``engine.solve`` has
    just proven equal to the live oracle at probe points.
    """
    return compare(kind, given, expected, tolerance_of(template, step), template.answer.variable, params, explain)


def compare(
    kind: str,
    given: Any,
    expected: Any,
    tolerance: Tolerance,
    variable: str = "x",
    params: Mapping[str, Any] = {},
    explain: bool = True,
) -> Match:
    """Compare two values of ``kind``: exact, within ``tolerance``, or (expressions) as functions of ``variable``.

    With ``explain``, a wrong vector, matrix or shape names its wrong entries (only worth the cost for the
    student's own answer, not for each common mistake compared with it).
    """
    if kind == "expression":
        from dlstudy.engine.symbolic import equivalent

        return _RIGHT if equivalent(given, expected, variable, params) else _WRONG
    if kind == "integer":
        return _RIGHT if _same_integer(given, expected) else _WRONG
    if kind in ("real", "choice"):
        return _RIGHT if _close_scalar(float(given), float(expected), kind, tolerance) else _WRONG
    g = np.asarray(given, dtype=float)
    e = np.asarray(expected, dtype=float)
    if kind == "shape":
        g, e = g.reshape(-1), e.reshape(-1)
    if g.shape != e.shape:
        shown = " x ".join(map(str, e.shape))
        got = " x ".join(map(str, g.shape)) or "a single number"
        what = f"{e.size} dimensions" if kind == "shape" else f"size {shown}"
        return Match(0.0, detail=f"expected {what}, got {got if kind != 'shape' else str(g.size) + ' dimensions'}")
    given_entries, expected_entries = g.ravel().tolist(), e.ravel().tolist()
    right = _close(given_entries, expected_entries, kind, tolerance)
    score = right.count(True) / len(right) if right else 1.0
    if not explain or score == 1.0:
        return _RIGHT if score == 1.0 else Match(score)
    wrong = []
    for flat, ok in enumerate(right):
        if not ok:
            label = _position_label(kind, np.unravel_index(flat, e.shape))
            wrong.append(f"{label}: you gave {format_number(given_entries[flat])}, "
                         f"expected {format_number(expected_entries[flat])}")
    return Match(score, tuple(wrong))


def _position_label(kind: str, position: tuple[int, ...]) -> str:
    if kind == "matrix":
        return f"row {position[0] + 1}, column {position[1] + 1}"
    if kind == "shape":
        return f"dimension {position[0] + 1}"
    return f"entry {position[0] + 1}"


def check(template: Template, solution: Solution, text: str, step: str | None = None) -> Verdict:
    """Judge ``text`` as the answer (or as the value of intermediate ``step``).

    Raises AnswerFormatError (a DlstudyError, exit 2) when the text is not of the right kind.
    """
    step = step or template.answer.step
    kind = step_kind(template, step, solution.values[step])
    expected = solution.values[step] if kind == "expression" else solution.step_value(step)
    given = parse_answer(kind, text, choices=template.answer.choices, variables=(template.answer.variable,))
    if kind == "expression":
        expected_text = printer.expression(solution.values[step])
        given_text = printer.expression(given)
    else:
        expected_text = solution.step(step).value_text
        given_text = format_value(given) if kind != "choice" else text.strip()
    tolerance, variable = tolerance_of(template, step), template.answer.variable
    match = compare(kind, given, expected, tolerance, variable, solution.params)
    correct = match.score == 1.0
    feedback: list[str] = []
    mistakes: list[str] = []
    if not correct:
        # Every listed slip that reproduces the answer, including a slip in an earlier step
        # carried through the later formulas; two slips can land on the same number.
        for mistake, wrong in solution.mistakes_at(step):
            if compare(kind, given, wrong, tolerance, variable, solution.params, explain=False).score == 1.0:
                feedback.append(mistake.feedback)
                mistakes.append(mistake.id)
        if not mistakes:
            feedback.extend(_other_quantity(template, solution, given, kind, step))
        if match.detail:
            feedback.append(match.detail[0].upper() + match.detail[1:] + ".")
        if match.wrong and 0 < match.score:
            right = round(match.score * (len(match.wrong) / (1 - match.score)))
            feedback.append(f"{right} of {right + len(match.wrong)} right; wrong: " + "; ".join(match.wrong) + ".")
        elif match.wrong:
            feedback.append("Every entry is wrong: " + "; ".join(match.wrong[:4]) + ("; …" if len(match.wrong) > 4 else "") + ".")
        if not feedback:
            feedback.append("Not this one; compare your working with the steps below.")
    return Verdict(correct, match.score, step, given_text, expected_text, tuple(feedback), tuple(mistakes))


def _other_quantity(template: Template, solution: Solution, given: Any, kind: str, step: str) -> list[str]:
    """"That is <another quantity of the worked solution>": the student answered a different part."""
    if kind in ("expression", "choice"):
        return []
    asked = lines.line(lines.text_pieces(template.step(step).what))
    for other in template.steps:
        if other.name == step:
            continue
        value = solution.step_value(other.name)
        if isinstance(value, expr.Node.__args__) or np.shape(value) != np.shape(given):
            continue
        other_kind = "real" if kind == "integer" and np.ndim(value) == 0 else kind
        if judge(template, other_kind, given, value, solution.params, other.name, explain=False).score == 1.0:
            what = lines.line(lines.text_pieces(other.what))
            return [f"That is {what} ({other.name}); the question asks for {asked}."]
    return []


def check_parts(template: Template, solution: Solution, texts: Sequence[str]) -> tuple[Verdict, ...]:
    """Judge one answer per part the question asks for, given in order or as ``name=value``."""
    asked = template.answer.asked
    named: dict[str, str] = {}
    positional: list[str] = []
    for text in texts:
        name, sep, value = text.partition("=")
        if sep and name.strip() in asked:
            if name.strip() in named:
                raise DlstudyError(f"{name.strip()} is answered twice")
            named[name.strip()] = value
        else:
            positional.append(text)
    missing = [part for part in asked if part not in named]
    if len(positional) > len(missing):
        raise DlstudyError(
            f"{template.id} asks for {len(asked)} part(s) ({', '.join(asked)}); {len(texts)} answers were given"
        )
    named.update(zip(missing, positional))
    return tuple(check(template, solution, named[part], step=part) for part in asked if part in named)
