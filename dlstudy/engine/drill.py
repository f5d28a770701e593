"""A drill session: planned problems, each sampled, solved in the background, checked and scored.

The logic behind ``dlstudy drill``; the terminal loop (cli/interactive.py)
shows each problem, reads the answers and prints what this returns.

    with DrillSession(selection, count, seed, journal=...) as drill:
        for problem in drill.problems():        # sampled; its oracle starts on a worker thread
            verdict = drill.check(problem, text)  # AnswerFormatError: ask again
            drill.record(problem, text, [verdict])  # or None: skipped; the journal logs it at once
        drill.rows, drill.score()                # the summary

Which templates: ``order`` when given (the adaptive order the caller worked
out from the student's mastery), else the selection shuffled round after
round, as varied as it allows. Which variant of each: never a seed already
used in the session, never the question (statement) already asked when
another can be drawn, and for a template with cases (sigmoid, tanh, ...) the
case asked least so far, not the one asked last time when there is another.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator, Sequence

import numpy as np

from dlstudy.engine import exercises, sampling, solving
from dlstudy.engine.checking import Verdict, check
from dlstudy.engine.results import Solution, Variant
from dlstudy.engine.templates import Template, get_template

VARIANT_TRIES = 40  # draws to find a question not asked yet in the session


@dataclass(frozen=True)
class DrillProblem:
    number: int  # 1-based
    total: int
    variant: Variant
    pending: Future  # the Solution, being solved in the background
    shown_at: float = 0.0  # time.monotonic() when it was planned (just before it is shown)

    @property
    def template(self) -> Template:
        return self.variant.template

    @property
    def case(self) -> str:
        return self.template.case_of(self.variant.params)

    def solution(self) -> Solution:
        """The worked solution; waits for the background solve."""
        return self.pending.result()


@dataclass(frozen=True)
class DrillRow:
    """One line of the summary."""

    problem: str  # the template's title
    given: str  # what the student typed, or "—" when skipped
    expected: str
    result: str  # "✓", "✗", "✗ 1/3 right" or "skipped"
    score: Fraction | None  # None: skipped


def as_fraction(score: float) -> Fraction:
    """A score such as 0.333333 as 1/3 (parts or entries right never have a large denominator)."""
    return Fraction(score).limit_denominator(100)


# what the journal gets for each problem: template id, seed, case, score (None: skipped), answer, duration in ms
Journal = Callable[[str, int, str, float | None, str | None, int], None]


class DrillSession:
    """Plan ``count`` problems of ``selection`` (or of ``order``) from ``seed`` (a fresh one when None)."""

    def __init__(
        self, selection: Sequence[str], count: int, seed: int | None,
        order: Sequence[str] | None = None, journal: Journal | None = None,
    ) -> None:
        self.seed = exercises.new_seed() if seed is None else seed
        self._rng = np.random.default_rng(self.seed)
        if order is None:
            ids = exercises.selected_ids(selection)
            sequence: list[str] = []
            while len(sequence) < count:
                sequence.extend(ids[i] for i in self._rng.permutation(len(ids)))
        else:
            sequence = [order[i % len(order)] for i in range(count)] if order else []
        self.plan: list[Template] = [get_template(i) for i in sequence[:count]]
        self.rows: list[DrillRow] = []
        self.journal = journal
        self._asked: dict[str, list[tuple[str, int]]] = defaultdict(list)  # template -> (case, seed) asked
        self._statements: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1)

    def __enter__(self) -> "DrillSession":
        return self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        self.close(wait=kind is None)

    def close(self, wait: bool = True) -> None:
        """Stop the worker: wait for a solve still running, unless the session was interrupted."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def problems(self) -> Iterator[DrillProblem]:
        """Each planned problem in turn; it is solved in the background while its statement is on screen,
        so a torch oracle's import (seconds) overlaps with the student's reading."""
        for number, template in enumerate(self.plan, 1):
            variant = self._choose(template)
            pending = self._pool.submit(solving.solve_variant, variant)
            yield DrillProblem(number, len(self.plan), variant, pending, time.monotonic())

    def _choose(self, template: Template) -> Variant:
        """A variant of ``template``: an unused seed, a question not asked yet, a case other than the last."""
        asked = self._asked[template.id]
        seeds = {seed for _, seed in asked}
        cases = _cases(template)
        counts = Counter(case for case, _ in asked)
        others = [c for c in cases if not asked or c != asked[-1][0]] or cases
        fewest = min((counts[c] for c in others), default=0)
        wanted = {c for c in others if counts[c] == fewest}
        best, best_score = None, (-1, -1)
        for _ in range(VARIANT_TRIES):
            seed = int(self._rng.integers(1_000_000))
            if seed in seeds:
                continue
            variant = sampling.sample(template, seed)
            score = (int(not cases or template.case_of(variant.params) in wanted), int(variant.statement not in self._statements))
            if score > best_score:
                best, best_score = variant, score
            if score == (1, 1):
                break
        assert best is not None
        asked.append((template.case_of(best.params), best.seed))
        self._statements.add(best.statement)
        return best

    def check(self, problem: DrillProblem, text: str, part: str | None = None) -> Verdict:
        """Judge ``text`` as the answer (or as ``part``, one of the quantities a multi-part question asks for);
        AnswerFormatError when it is not of the right form."""
        return check(problem.template, problem.solution(), text, step=part)

    def record(self, problem: DrillProblem, given: str, verdicts: Sequence[Verdict] | None) -> DrillRow:
        """Score the problem (``verdicts`` None: skipped; one per part asked), add its summary row, and log it
        to the journal (committed before this returns)."""
        asked = len(problem.template.answer.asked)
        score = None if verdicts is None else as_fraction(sum(v.score for v in verdicts) / asked)
        correct = verdicts is not None and len(verdicts) == asked and all(v.correct for v in verdicts)
        if verdicts is None:
            status = "skipped"
        elif correct:
            status = "✓"
        else:
            status = f"✗ {score} right" if score else "✗"
        solution = problem.solution()
        expected = "; ".join(solution.step(part).value_text if part != problem.template.answer.step
                             else solution.answer_text for part in problem.template.answer.asked)
        row = DrillRow(problem.template.title, given, expected, status, score if not correct else Fraction(1))
        self.rows.append(row)
        if self.journal is not None:
            duration = int((time.monotonic() - problem.shown_at) * 1000) if problem.shown_at else None
            self.journal(problem.template.id, problem.variant.seed, problem.case,
                         None if score is None else float(row.score), None if verdicts is None else given, duration)
        return row

    def score(self) -> tuple[int, list[Fraction], int]:
        """(problems fully right, the partial scores of the others partly right, problems answered or skipped)."""
        right = sum(1 for r in self.rows if r.score == 1)
        partial = [r.score for r in self.rows if r.score is not None and 0 < r.score < 1]
        return right, partial, len(self.rows)


def _cases(template: Template) -> list[str]:
    """The cases a template's questions come in (e.g. sigmoid, tanh), [] when it has none."""
    if not template.cases:
        return []
    param = template.params.get(template.cases)
    return [str(option) for option in getattr(param, "options", ())]
