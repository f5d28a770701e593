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

from dlstudy.engine import sampling, solving
from dlstudy.engine.answers import CHOICE_LETTERS, FORMAT_EXAMPLES, AnswerFormatError
from dlstudy.engine.checking import Verdict, check
from dlstudy.engine.results import Solution, Variant
from dlstudy.engine.templates import Template

console = Console(highlight=False)
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
        for letter, option in zip(CHOICE_LETTERS, v.template.answer.choices):
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

    from dlstudy.engine import exercises

    seed, plan = exercises.plan_drill(selection, count, seed)
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
            v = sampling.sample(template, problem_seed)
            pending = pool.submit(solving.solve, template, v.params)
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


# ---------------------------------------------------------------------------
# Decks, quiz, stats


def decks_table(counts) -> None:
    table = Table(title="Decks")
    for column in ("deck", "title", "cards", "new", "learning", "due"):
        table.add_column(column, justify="right" if column not in ("deck", "title") else "left")
    for c in counts:
        table.add_row(c.name, esc(c.title), str(c.cards), str(c.new), str(c.learning), f"[bold]{c.due}[/bold]" if c.due else "0")
    console.print(table)
    total_due = sum(c.due for c in counts)
    console.print(f"{total_due} card(s) due. Start with: dlstudy quiz [DECK ...]")


QUIZ_KEYS = "Enter reveal · 1 Again · 2 Hard · 3 Good · 4 Easy · u undo · s suspend · q quit"
_RATINGS = {"1": 1, "2": 2, "3": 3, "4": 4, "again": 1, "hard": 2, "good": 3, "easy": 4}


def quiz(session) -> None:
    """The review loop; every grade is committed by the session before the next card."""
    import time

    from dlstudy.cards.markup import render_math
    from dlstudy.cards.scheduling import RATING_NAMES

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
            outcome = _quiz_card(session, prompt, ask, render_math)
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
            when = "" if graded.due is None else f" · next review {_in_words(graded.due - session.clock())}"
            console.print(f"[dim]→ {RATING_NAMES[rating]}{when}[/dim]")
    finally:
        session.store.close()
    console.print()
    console.print(f"Reviewed {reviewed} card(s); {session.remaining()} left in this session.")


def _quiz_card(session, prompt, ask, render_math):
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


def _in_words(delta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 1:
        return "now"
    if minutes < 60:
        return f"in {minutes:.0f} min"
    if minutes < 60 * 24:
        return f"in {minutes / 60:.0f} h"
    return f"in {minutes / 1440:.0f} day(s)"


def _bar(value: float, peak: float, width: int = 30) -> str:
    filled = 0 if peak <= 0 else round(width * value / peak)
    return "█" * filled


def stats(data: dict) -> None:
    console.print(f"[bold]Last {data['days']} days[/bold]: {data['reviews']} reviews")
    peak = max((d["reviews"] for d in data["activity"]), default=0)
    for day in data["activity"][-14:]:
        console.print(f"  {day['date']}  {_bar(day['reviews'], peak):<30} {day['reviews']}")
    retention = data["true_retention"]
    shown = "—" if retention is None else f"{retention:.1%} of {data['matured_reviews']} reviews of mature cards"
    console.print(f"[bold]True retention[/bold]: {shown}")
    states = data["states"]
    console.print("[bold]Cards[/bold]: " + " · ".join(f"{k} {v}" for k, v in states.items()))
    console.print("[bold]Due in the next 14 days[/bold]")
    peak = max((d["due"] for d in data["due_forecast"]), default=0)
    for day in data["due_forecast"]:
        console.print(f"  {day['date']}  {_bar(day['due'], peak):<30} {day['due']}")
    table = Table(title="Mastery by topic (mean recall probability; unseen cards count 0)")
    for column in ("deck", "cards", "studied", "mastery", "recall of studied", "lapses"):
        table.add_column(column, justify="left" if column == "deck" else "right")
    for topic in sorted(data["topics"], key=lambda t: -t["mastery"]):
        recall = "—" if topic["recall_of_studied"] is None else f"{topic['recall_of_studied']:.0%}"
        table.add_row(topic["deck"], str(topic["cards"]), str(topic["studied"]),
                      f"{_bar(topic['mastery'], 1.0, 10):<10} {topic['mastery']:.0%}", recall, str(topic["lapses"]))
    console.print(table)
    if data["weakest"]:
        console.print(f"[bold]Weakest topics[/bold]: {', '.join(data['weakest'])} — try: dlstudy quiz {data['weakest'][0]} --cram")


def optimize_result(result: dict) -> None:
    if not result["optimized"]:
        console.print(
            f"Not yet: {result['reviews']} of your reviews count for fitting (a card reviewed again on a later day); "
            f"FSRS needs {result['needed']}. Until then dlstudy uses FSRS-6's default parameters."
        )
        return
    console.print(f"Fitted FSRS-6 parameters to {result['reviews']} reviews; future reviews use them.")
    table = Table()
    for column in ("w", "before", "after"):
        table.add_column(column, justify="right")
    for i, (old, new) in enumerate(zip(result["old"], result["new"])):
        table.add_row(str(i), f"{old:.4f}", f"{new:.4f}")
    console.print(table)


# --- dlstudy sheet -----------------------------------------------------------


from contextlib import contextmanager  # noqa: E402  (this section was added in one piece)
from typing import Iterator  # noqa: E402


@contextmanager
def sheet_progress(show: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (only on a terminal) and the callback ``(done, total)`` that advances it."""
    err = Console(stderr=True)
    if not (show and err.is_terminal):
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("Writing sheets"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("sheets", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def sheet_written(result) -> None:
    """What `dlstudy sheet` wrote: the files, the problems, the seeds that regenerate them."""
    from pathlib import Path

    from dlstudy.output.sheets import formats

    def shown(path) -> str:
        try:
            return str(Path(path).relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    versions = result.versions
    count = len(versions[0].problems)
    where = {"key": "answer key on separate pages", "inline": "solutions under each problem",
             "none": "no solutions"}[result.solutions]
    sheet_format = formats.get(result.format)
    if sheet_format.separate_key and result.solutions == "key":
        where = f"answer key in the -key{sheet_format.suffix} file"
    problems = f"{count} problem{'s' if count != 1 else ''}"
    if len(versions) == 1:
        v = versions[0]
        console.print(f"Wrote {esc(', '.join(shown(f) for f in result.files))}: {problems}, {where}, seed {v.seed}.")
        console.print(f"  Regenerate: {esc(v.command)}", style="dim")
        return
    seeds = f"seeds {versions[0].seed}–{versions[-1].seed}"
    if result.merged:
        console.print(f"Wrote {esc(shown(result.files[0]))}: {len(versions)} versions ({seeds}) of {problems}, {where}.")
    else:
        names = [f.name for f in result.files]
        listed = ", ".join(names if len(names) <= 6 else [*names[:3], "...", *names[-2:]])
        console.print(
            f"Wrote {len(result.files)} files to {esc(shown(result.files[0].parent))}/: "
            f"{len(versions)} versions ({seeds}) of {problems}, {where}."
        )
        console.print(f"  {esc(listed)}", style="dim")
    first, last = versions[0], versions[-1]
    console.print(f"  Regenerate version 1: {esc(first.command)}   version {last.version}: {esc(last.command)}", style="dim")
