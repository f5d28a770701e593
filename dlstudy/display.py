"""Terminal rendering and the interactive loops (drill, step-by-step check).

This is the CLI layer: it prints and reads; the logic it calls lives in the
core modules.
"""

from __future__ import annotations

import sys
from typing import Callable, Sequence

from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from dlstudy import engine
from dlstudy.answers import FORMAT_EXAMPLES, AnswerFormatError
from dlstudy.checking import Verdict, check, step_kind
from dlstudy.engine import Solution, Variant
from dlstudy.templates import Template

console = Console(highlight=False)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
END_OF_INPUT = object()  # sentinel: stdin closed


def problem_table(templates: Sequence[Template]) -> None:
    table = Table(title=f"{len(templates)} problem templates")
    table.add_column("id", style="bold")
    table.add_column("topic")
    table.add_column("answer")
    table.add_column("title")
    for t in templates:
        table.add_row(t.id, t.topic, t.answer.kind, esc(t.title))
    console.print(table)
    console.print("Try: dlstudy generate ID   ·   dlstudy drill TOPIC   ·   dlstudy solve ID name=value ...")


def variant(v: Variant, number: str = "") -> None:
    console.rule(f"{number}{esc(v.template.title)}  [dim]({v.template.id}, seed {v.seed})[/dim]", align="left")
    console.print(v.statement, markup=False)
    if v.template.answer.kind == "choice":
        for letter, option in zip(LETTERS, v.template.answer.choices):
            console.print(f"  {letter}) {option}", markup=False)


def solution(s: Solution) -> None:
    console.print(f"[bold]Answer:[/bold] {esc(s.answer_text)}")
    console.print("[bold]Worked solution[/bold]")
    for i, step in enumerate(s.steps, 1):
        console.print(f"  {i}. {step.what}:  {step.formula}", markup=False)
        console.print(f"     {step.substituted}", style="cyan", markup=False)


def verdict(v: Verdict) -> None:
    if v.correct:
        console.print(f"[bold green]✓ Correct[/bold green]: {esc(v.expected)}")
    else:
        partial = f" ({v.score:.0%} right)" if 0 < v.score < 1 else ""
        console.print(f"[bold red]✗ Not right{partial}[/bold red]: you gave {esc(v.given)}, expected {esc(v.expected)}")
    for line in v.feedback:
        console.print(f"  → {line}", style="yellow", markup=False)


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
        kind = step_kind(template, step.name, s.values[step.name])
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
    from concurrent.futures import ThreadPoolExecutor

    from dlstudy import session

    seed, plan = session.plan_drill(selection, count, seed)
    ask = _reader()
    interactive = sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()
    console.print(
        f"[bold]Drill[/bold]: {len(plan)} problem{'s' if len(plan) != 1 else ''} (seed {seed}). "
        "Answer each; type [bold]skip[/bold] to see the solution, [bold]quit[/bold] to stop."
    )
    rows: list[tuple[str, str, str, str]] = []
    points = 0.0
    # Solving runs in the background while the statement is on screen, so a torch
    # oracle's import (seconds) overlaps with the student's reading.
    with ThreadPoolExecutor(max_workers=1) as pool:
        for number, (template, problem_seed) in enumerate(plan, 1):
            v = engine.sample(template, problem_seed)
            pending = pool.submit(engine.solve, template, v.params)
            console.print()
            variant(v, f"{number}/{len(plan)}  ")
            outcome = _drill_answer(ask, interactive, template, pending)
            if outcome is END_OF_INPUT:
                console.print("No more input; stopping.")
                break
            if outcome is None:
                console.print("Stopped.")
                break
            given, result = outcome
            answer = pending.result()
            if result is not None:
                verdict(result)
                points += result.score
            solution(answer)
            status = "skipped" if result is None else ("✓" if result.correct else f"✗ {result.score:.0%}")
            rows.append((template.title, given, answer.answer_text, status))
    _drill_summary(rows, points)


def _drill_answer(ask, interactive: bool, template: Template, pending) -> tuple[str, Verdict | None] | None:
    """The student's verdict for one problem; None when they quit, END_OF_INPUT when stdin ends."""
    kind = template.answer.kind
    while True:
        text = ask("Your answer: ")
        if text is None:
            return END_OF_INPUT
        if text.lower() in ("quit", "q", "exit"):
            return None
        if text.lower() in ("skip", "?") or (text == "" and not interactive):
            return "—", None
        if text == "":
            console.print(f"  Type your answer ({FORMAT_EXAMPLES[kind]}), or skip.", style="dim", markup=False)
            continue
        try:
            return text, check(template, pending.result(), text)
        except AnswerFormatError as exc:
            console.print(f"  {exc.message}", style="yellow", markup=False)


def _drill_summary(rows: list[tuple[str, str, str, str]], points: float) -> None:
    if not rows:
        return
    table = Table(title=f"Score: {points:g} / {len(rows)}")
    for column in ("#", "problem", "your answer", "expected", "result"):
        table.add_column(column)
    for i, row in enumerate(rows, 1):
        table.add_row(str(i), *(esc(cell) for cell in row))
    console.print()
    console.print(table)
