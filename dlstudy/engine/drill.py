"""A drill session: planned problems, each sampled, solved in the background, checked and scored.

The logic behind ``dlstudy drill``; the terminal loop (cli/interactive.py)
shows each problem, reads the answers and prints what this returns.

    with DrillSession(selection, count, seed) as drill:
        for problem in drill.problems():        # sampled; its oracle starts on a worker thread
            verdict = drill.check(problem, text)  # AnswerFormatError: ask again
            drill.record(problem, text, [verdict])  # or None: skipped
        drill.rows, drill.points                 # the summary
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator, Sequence

from dlstudy.engine import exercises, sampling, solving
from dlstudy.engine.checking import Verdict, check
from dlstudy.engine.results import Solution, Variant
from dlstudy.engine.templates import Template


@dataclass(frozen=True)
class DrillProblem:
    number: int  # 1-based
    total: int
    variant: Variant
    pending: Future  # the Solution, being solved in the background

    @property
    def template(self) -> Template:
        return self.variant.template

    def solution(self) -> Solution:
        """The worked solution; waits for the background solve."""
        return self.pending.result()


@dataclass(frozen=True)
class DrillRow:
    """One line of the summary."""

    problem: str  # the template's title
    given: str  # what the student typed, or "—" when skipped
    expected: str
    result: str  # "✓", "✗ 40%" or "skipped"


class DrillSession:
    """Plan ``count`` problems of ``selection`` from ``seed`` (a fresh one when None); a context manager."""

    def __init__(self, selection: Sequence[str], count: int, seed: int | None) -> None:
        self.seed, self.plan = exercises.plan_drill(selection, count, seed)
        self.rows: list[DrillRow] = []
        self.points = 0.0
        self._pool = ThreadPoolExecutor(max_workers=1)

    def __enter__(self) -> "DrillSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait for a solve still running, then stop the worker."""
        self._pool.shutdown(wait=True)

    def problems(self) -> Iterator[DrillProblem]:
        """Each planned problem in turn; it is solved in the background while its statement is on screen,
        so a torch oracle's import (seconds) overlaps with the student's reading."""
        for number, (template, problem_seed) in enumerate(self.plan, 1):
            variant = sampling.sample(template, problem_seed)
            yield DrillProblem(number, len(self.plan), variant, self._pool.submit(solving.solve_variant, variant))

    def check(self, problem: DrillProblem, text: str, part: str | None = None) -> Verdict:
        """Judge ``text`` as the answer (or as ``part``, one of the quantities a multi-part question asks for);
        AnswerFormatError when it is not of the right form."""
        return check(problem.template, problem.solution(), text, step=part)

    def record(self, problem: DrillProblem, given: str, verdicts: Sequence[Verdict] | None) -> DrillRow:
        """Score the problem (``verdicts`` None: skipped; one per part asked) and add its summary row."""
        asked = len(problem.template.answer.asked)
        score = 0.0 if verdicts is None else sum(v.score for v in verdicts) / asked
        if verdicts is not None:
            self.points += score
        correct = verdicts is not None and len(verdicts) == asked and all(v.correct for v in verdicts)
        status = "skipped" if verdicts is None else ("✓" if correct else f"✗ {score:.0%}")
        solution = problem.solution()
        expected = "; ".join(solution.step(part).value_text if part != problem.template.answer.step
                             else solution.answer_text for part in problem.template.answer.asked)
        row = DrillRow(problem.template.title, given, expected, status)
        self.rows.append(row)
        return row
