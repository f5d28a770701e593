"""Printing to the terminal (rich): tables, a variant, a worked solution, a verdict, stats, what a sheet wrote.

CLI layer: these print what the core returns and read nothing; the loops that
read answers are in interactive.py.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from dlstudy.engine.answers import CHOICE_LETTERS
from dlstudy.engine.checking import Verdict
from dlstudy.engine.results import Solution, Variant
from dlstudy.engine.templates import Template
from dlstudy.mathtext import printer

console = Console(highlight=False)


def _math(text: str) -> str:
    """Text with $...$ math as terminal Unicode."""
    return printer.line(printer.text_pieces(text))


def problem_table(templates: Sequence[Template]) -> None:
    table = Table(title=f"{len(templates)} problem templates")
    table.add_column("id", style="bold", no_wrap=True, overflow="fold")  # an id is typed back: never cut
    table.add_column("topic", no_wrap=True)
    table.add_column("answer", no_wrap=True)
    table.add_column("title", overflow="fold")
    for t in templates:
        table.add_row(t.id, t.topic, t.answer.kind, esc(t.title))
    console.print(table, crop=False)
    console.print("Try: dlstudy problems ID   ·   dlstudy drill TOPIC   ·   dlstudy solve ID name=value ...")


def problem_details(described: dict) -> None:
    """``dlstudy problems ID``: the statement, every parameter, the answer, an example."""
    console.rule(f"{esc(described['title'])}  [dim]({described['id']}, topic {described['topic']})[/dim]", align="left")
    for text in described["statement"].values():
        console.print(text, markup=False)
    table = Table(title="Parameters (name=value for solve and check)", title_justify="left")
    for column in ("name", "meaning", "values", "default"):
        table.add_column(column, no_wrap=column == "name", overflow="fold")
    for p in described["parameters"]:
        name = p["name"] + (f" ({', '.join(p['aliases'])})" if p.get("aliases") else "")
        default = "" if p.get("default") is None else str(p["default"]).lower()
        table.add_row(esc(name), esc(_math(p["about"])), esc(p["domain"]), esc(default))
    console.print(table)
    parts = described["answer"]["parts"]
    asked = "; ".join(f"{part['name']} ({part['what']})" for part in parts)
    console.print(f"[bold]Answer[/bold] ({described['answer']['kind']}): {esc(asked)}")
    if len(parts) > 1:
        console.print("  Check all parts: --answer VALUE once per part, in this order (or --answer name=VALUE).", style="dim")
    console.print(f"[bold]Example[/bold]: {esc(described['example'])}")


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
        console.print(f"  {i}. {_math(step.what)}:  {step.formula}", markup=False)
        console.print(f"     {step.substituted}", style="cyan", markup=False)


def verdict(v: Verdict, label: str = "") -> None:
    part = f" {esc(_math(label))}" if label else ""
    if v.correct:
        console.print(f"[bold green]✓ Correct[/bold green]{part}: {esc(v.expected)}")
    else:
        partial = f" ({v.score:.0%} right)" if 0 < v.score < 1 else ""
        console.print(f"[bold red]✗ Not right{partial}[/bold red]{part}: you gave {esc(v.given)}, expected {esc(v.expected)}")
    for line in v.feedback:
        console.print(f"  → {line}", style="yellow", markup=False)


def drill_summary(rows: Sequence, points: float) -> None:
    """The drill's score and one row per problem (``engine.drill.DrillRow``)."""
    if not rows:
        return
    table = Table(title=f"Score: {points:g} / {len(rows)}")
    for column in ("#", "problem", "your answer", "expected", "result"):
        table.add_column(column)
    for i, row in enumerate(rows, 1):
        table.add_row(str(i), *(esc(cell) for cell in (row.problem, row.given, row.expected, row.result)))
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


def in_words(delta) -> str:
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


# ---------------------------------------------------------------------------
# dlstudy sheet


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
    for notice in getattr(result, "notices", ()):
        console.print(f"Note: {esc(notice)}.", style="yellow")
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
