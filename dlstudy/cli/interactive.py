"""The interactive loops of ``check --steps`` and ``drill``, reading stdin and printing as they go
(``quiz`` is in quizloop.py).

CLI layer: the logic is the core's (``engine.drill.DrillSession``, ``engine.checking``); these only loop,
print and read.
"""

from __future__ import annotations

from typing import Callable

from rich.markup import escape as esc

from dlstudy.cli.keys import Input, stdin_is_terminal
from dlstudy.cli.terminal import console, drill_summary, solution, variant, verdict
from dlstudy.engine.answers import FORMAT_EXAMPLES, AnswerFormatError
from dlstudy.engine.checking import Verdict, check
from dlstudy.engine.results import Solution

END_OF_INPUT = object()  # sentinel: stdin closed


def _reader(echo: bool = True) -> Callable[[str], str | None]:
    """A line reader (``keys.Input.line``): prompted in a terminal, one line per answer when piped."""
    return Input(console, echo).line


def step_check(s: Solution, quiet: bool = False) -> list[Verdict]:
    """Ask for each step in order; stop at the first wrong one."""
    template = s.template
    ask = _reader(echo=not quiet)
    verdicts: list[Verdict] = []
    if not quiet:
        console.print(f"[bold]{esc(template.title)}[/bold]: enter each quantity in turn.")
    for i, (step, shown) in enumerate(zip(template.steps, s.steps), 1):
        while True:
            text = ask("" if quiet else esc(f"{i}/{len(template.steps)} {shown.label} ({step.name}) = "))
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
            if result.correct:
                console.print(f"  [green]✓[/green] {esc(step.name)} = {esc(result.expected)}")
            else:
                console.print(f"  [bold red]✗ First wrong step: {esc(shown.label)}[/bold red]")
                console.print(f"    {shown.formula}", markup=False)
                console.print(f"    {shown.substituted}", style="cyan", markup=False)
                for line in result.feedback:
                    console.print(f"  → {line}", style="yellow", markup=False)
        if not result.correct:
            return verdicts
    if not quiet:
        console.print("[bold green]Every step is right.[/bold green]")
    return verdicts


def drill(session) -> None:
    """Ask each planned problem of a DrillSession (``cards.study.start_drill``); verdict and worked solution
    after each answer (each logged as it is answered), a score table at the end, also after Ctrl-C (exit 130)."""
    ask = _reader()
    interactive = stdin_is_terminal()
    count = len(session.plan)
    adaptive = " · weakest and due problems first" if getattr(session, "adaptive", False) else ""
    console.print(
        f"[bold]Drill[/bold]: {count} problem{'s' if count != 1 else ''} (seed {session.seed}){adaptive}. "
        "Answer each; [bold]skip[/bold] shows the solution (counts as not solved), [bold]quit[/bold] stops."
    )
    interrupted = False
    try:
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
    except KeyboardInterrupt:
        interrupted = True
        console.print()
        console.print("Interrupted; every answered problem is saved.")
    finally:
        session.close(wait=not interrupted)
        store = getattr(session, "store", None)
        if store is not None:
            store.close()
    drill_summary(session.rows, session.score())
    if interrupted:
        raise SystemExit(130)


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
            if text.lower() == "skip" or (text == "" and not interactive):
                return "—", None
            if text in ("", "?"):
                console.print(f"  Type your answer ({FORMAT_EXAMPLES.get(kind, 'a number')}); skip shows the solution "
                              "(counts as not solved); quit stops.", style="dim", markup=False)
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
    from dlstudy.mathtext import lines

    return lines.line(lines.text_pieces(text))


