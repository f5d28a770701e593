"""The interactive loops: ``check --steps``, ``drill`` and ``quiz``, reading stdin and printing as they go.

CLI layer: the logic is the core's (``engine.drill.DrillSession``,
``cards.quiz.QuizSession``, ``engine.checking``); these only loop, print and read.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Sequence

from rich.markup import escape as esc

from dlstudy.cards.markup import render_math
from dlstudy.cards.scheduling import RATING_NAMES
from dlstudy.cli.terminal import console, drill_summary, in_words, solution, variant, verdict
from dlstudy.engine.answers import FORMAT_EXAMPLES, AnswerFormatError
from dlstudy.engine.checking import Verdict, check
from dlstudy.engine.results import Solution

END_OF_INPUT = object()  # sentinel: stdin closed


def _reader(echo: bool = True) -> Callable[[str], str | None]:
    """Prompted input on a terminal; one line per answer otherwise (None at end of input).

    Piped answers are echoed after the prompt so a scripted session reads like a live one.
    """
    if sys.stdin is None or sys.stdin.closed:  # e.g. CI runs us with no standard input at all
        return lambda prompt: None
    if sys.stdin.isatty():

        def ask(prompt: str) -> str | None:
            try:
                return console.input(prompt)
            except EOFError:
                return None

        return ask

    def read(prompt: str) -> str | None:
        line = sys.stdin.readline()
        if echo:
            console.print(prompt, end="")
            console.print(line.rstrip("\n"), style="dim", markup=False)
        return line.strip() if line else None

    return read


def step_check(s: Solution, quiet: bool = False) -> list[Verdict]:
    """Ask for each step in order; stop at the first wrong one."""
    template = s.template
    ask = _reader(echo=not quiet)
    verdicts: list[Verdict] = []
    if not quiet:
        console.print(f"[bold]{esc(template.title)}[/bold]: enter each quantity in turn.")
    for i, step in enumerate(template.steps, 1):
        while True:
            text = ask("" if quiet else esc(f"{i}/{len(template.steps)} {step.what} ({step.name}) = "))
            if text is None:
                if not quiet:
                    console.print("Stopped: no more input.")
                return verdicts
            try:
                result = check(template, s, text, step=step.name)
            except AnswerFormatError as exc:
                if not quiet:
                    console.print(f"  {exc.message}", style="yellow", markup=False)
                continue
            break
        verdicts.append(result)
        if not quiet:
            shown = next(r for r in s.steps if r.name == step.name)
            if result.correct:
                console.print(f"  [green]✓[/green] {esc(step.name)} = {esc(result.expected)}")
            else:
                console.print(f"  [bold red]✗ First wrong step: {esc(step.what)}[/bold red]")
                console.print(f"    {shown.formula}", markup=False)
                console.print(f"    {shown.substituted}", style="cyan", markup=False)
                for line in result.feedback:
                    console.print(f"  → {line}", style="yellow", markup=False)
        if not result.correct:
            return verdicts
    if not quiet:
        console.print("[bold green]Every step is right.[/bold green]")
    return verdicts


def drill(selection: Sequence[str], count: int, seed: int | None) -> None:
    """Ask each planned problem; verdict and worked solution after each answer, a score table at the end."""
    from dlstudy.engine.drill import DrillSession

    with DrillSession(selection, count, seed) as session:
        ask = _reader()
        interactive = sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()
        count = len(session.plan)
        console.print(
            f"[bold]Drill[/bold]: {count} problem{'s' if count != 1 else ''} (seed {session.seed}). "
            "Answer each; type [bold]skip[/bold] to see the solution, [bold]quit[/bold] to stop."
        )
        for problem in session.problems():
            console.print()
            variant(problem.variant, f"{problem.number}/{problem.total}  ")
            outcome = _drill_answer(ask, interactive, session, problem)
            if outcome is END_OF_INPUT:
                console.print("No more input; stopping.")
                break
            if outcome is None:
                console.print("Stopped.")
                break
            given, results = outcome
            answer = problem.solution()
            for part in results or ():
                label = problem.template.step(part.step).what if len(problem.template.answer.asked) > 1 else ""
                verdict(part, label=label)
            solution(answer)
            session.record(problem, given, results)
    drill_summary(session.rows, session.points)


def _drill_answer(ask, interactive: bool, session, problem) -> tuple[str, list[Verdict] | None] | None:
    """The student's verdicts for one problem (one per part it asks for); None when they quit,
    END_OF_INPUT when stdin ends."""
    template = problem.template
    parts = template.answer.asked
    given: list[str] = []
    verdicts: list[Verdict] = []
    for number, part in enumerate(parts, 1):
        label = "Your answer: " if len(parts) == 1 else f"Part {number}/{len(parts)}, {_math(template.step(part).what)}: "
        kind = template.answer.kind if part == template.answer.step else "real"
        while True:
            text = ask(esc(label))
            if text is None:
                return END_OF_INPUT
            if text.lower() in ("quit", "q", "exit"):
                return None
            if text.lower() in ("skip", "?") or (text == "" and not interactive):
                return "—", None
            if text == "":
                console.print(f"  Type your answer ({FORMAT_EXAMPLES.get(kind, 'a number')}), or skip.", style="dim", markup=False)
                continue
            try:
                verdicts.append(session.check(problem, text, part if len(parts) > 1 else None))
            except AnswerFormatError as exc:
                console.print(f"  {exc.message}", style="yellow", markup=False)
                continue
            given.append(text)
            break
    return "; ".join(given), verdicts


def _math(text: str) -> str:
    from dlstudy.mathtext import printer

    return printer.line(printer.text_pieces(text))


# ---------------------------------------------------------------------------
# Quiz

QUIZ_KEYS = "Enter reveal · 1 Again · 2 Hard · 3 Good · 4 Easy · u undo · s suspend · q quit"
_RATINGS = {"1": 1, "2": 2, "3": 3, "4": 4, "again": 1, "hard": 2, "good": 3, "easy": 4}


def quiz(session) -> None:
    """The review loop; every grade is committed by the session before the next card."""
    ask = _reader()
    mode = "cram (schedule untouched)" if session.cram else "review"
    console.print(f"[bold]Quiz[/bold] ({mode}): {session.remaining()} card(s). {QUIZ_KEYS}")
    reviewed = 0
    try:
        while (card := session.next_card()) is not None:
            prompt = session.prompt(card)
            console.print()
            console.rule(f"{card.deck} · {card.kind}  [dim]{card.id}[/dim]", align="left")
            console.print(render_math(prompt.question), markup=False)
            started = time.monotonic()
            outcome = _quiz_card(session, prompt, ask)
            if outcome == "quit":
                console.print("Stopped; every grade so far is saved.")
                break
            if outcome == "undo":
                session.put_back(card)
                undone = session.undo()  # after put_back, so the undone card comes first
                if undone is not None:
                    console.print(f"Undid the last grade ({undone.id}); it comes up again.", style="yellow", markup=False)
                    reviewed -= 1
                continue
            if outcome == "suspend":
                session.suspend(card)
                console.print("Suspended: it won't come up again until you unsuspend it.", style="yellow")
                continue
            rating, answer = outcome
            graded = session.grade(card, rating, answer=answer, duration_ms=int((time.monotonic() - started) * 1000))
            reviewed += 1
            when = "" if graded.due is None else f" · next review {in_words(graded.due - session.clock())}"
            console.print(f"[dim]→ {RATING_NAMES[rating]}{when}[/dim]")
    finally:
        session.store.close()
    console.print()
    console.print(f"Reviewed {reviewed} card(s); {session.remaining()} left in this session.")


def _quiz_card(session, prompt, ask):
    """('rating', answer) for one card, or 'quit' / 'undo' / 'suspend'."""
    commands = {"q": "quit", "quit": "quit", "u": "undo", "undo": "undo", "s": "suspend", "suspend": "suspend"}
    if prompt.self_graded:
        text = ask("[Enter] reveal: ")
        if text is None:
            return "quit"
        if text.lower() in commands:
            return commands[text.lower()]
        console.print(render_math(prompt.answer), style="cyan", markup=False)
        if text in _RATINGS:  # graded straight away
            return _RATINGS[text], None
        while True:
            text = ask("Grade 1-4: ")
            if text is None:
                return "quit"
            if text.lower() in commands:
                return commands[text.lower()]
            if text.lower() in _RATINGS:
                return _RATINGS[text.lower()], None
            console.print("  Type 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy); u undo, s suspend, q quit.", style="yellow")
    while True:
        text = ask("Your answer: ")
        if text is None:
            return "quit"
        if text.lower() in commands:
            return commands[text.lower()]
        try:
            checked = session.check(prompt, text)
        except AnswerFormatError as exc:
            console.print(f"  {exc.message}", style="yellow", markup=False)
            continue
        mark = "[bold green]✓ Right[/bold green]" if checked.score >= 1 else (
            f"[bold yellow]½ Partly right ({checked.score:.0%})[/bold yellow]" if checked.score >= 0.5 else "[bold red]✗ Not right[/bold red]"
        )
        console.print(f"{mark}: expected {esc(render_math(checked.expected))}")
        for line in checked.feedback:
            console.print(f"  → {line}", style="yellow", markup=False)
        if prompt.solution is not None:
            solution(prompt.solution.result())
        elif prompt.answer:
            console.print(render_math(prompt.answer), style="cyan", markup=False)
        return checked.rating, text
