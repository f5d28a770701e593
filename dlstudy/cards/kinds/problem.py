"""``problem``: a problem template; every review is a fresh variant, graded by the engine."""

from __future__ import annotations

from typing import Any

from dlstudy.cards.content import Content, ProblemRef
from dlstudy.cards.kinds.base import Asking, CardKind, NoteReader
from dlstudy.cards.model import Card, Note
from dlstudy.cards.prompts import Checked, Prompt
from dlstudy.suggest import did_you_mean


class Problem(CardKind):
    name = "problem"
    keys = ("template",)
    required = ("template",)

    def read(self, note: NoteReader) -> dict[str, Any]:
        from dlstudy.engine.templates import template_ids

        template = note.text("template")
        if template and template not in (ids := template_ids()):
            note.problem(
                "template",
                f"unknown problem template '{template}'{did_you_mean(template, ids)} (list them: `dlstudy problems`)",
            )
        return {"template": template}

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        from dlstudy.engine import sampling, solving
        from dlstudy.engine.templates import get_template

        template = get_template(card.note.fields["template"])
        variant = sampling.sample(template, int(asking.rng.integers(1_000_000)))
        # Solved in the background while the statement is on screen: a torch oracle's import overlaps reading.
        pending = asking.submit(solving.solve_variant, variant)

        def checker(text: str) -> Checked:
            from dlstudy.engine.checking import check

            solution = pending.result()
            verdict = check(solution.template, solution, text)
            return Checked(verdict.score, verdict.expected, verdict.feedback)

        return Prompt(card, variant.statement, "", checker=checker, solution=pending, variant=variant)

    def content(self, note: Note) -> Content:
        return ProblemRef(note.fields["template"])


KIND = Problem()
