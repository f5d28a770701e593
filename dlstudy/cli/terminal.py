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
from dlstudy.engine.templates import Heading
from dlstudy.mathtext import lines

console = Console(highlight=False)


def _math(text: str) -> str:
    """Text with $...$ math as terminal Unicode."""
    return lines.line(lines.text_pieces(text))


def problem_table(listed: Sequence[Heading]) -> None:
    table = Table(title=f"{len(listed)} problem template{'' if len(listed) == 1 else 's'}")
    table.add_column("id", style="bold", no_wrap=True, overflow="fold")  # an id is typed back: never cut
    table.add_column("topic", no_wrap=True)
    table.add_column("answer", no_wrap=True)
    table.add_column("title", overflow="fold")
    for heading in listed:
        table.add_row(heading.id, heading.topic, heading.kind, esc(heading.title))
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
        console.print(f"  {i}. {step.label}:  {step.formula}", markup=False)
        console.print(f"     {step.substituted}", style="cyan", markup=False)


def verdict(v: Verdict, label: str = "") -> None:
    part = f" ({esc(_math(label))})" if label else ""  # one part of a question with several
    if v.correct:
        console.print(f"[bold green]✓ Correct[/bold green]{part}: {esc(v.expected)}")
    else:
        partial = f" ({v.score:.0%} right)" if 0 < v.score < 1 else ""
        console.print(f"[bold red]✗ Not right{partial}[/bold red]{part}: you gave {esc(v.given)}, expected {esc(v.expected)}")
    for line in v.feedback:
        console.print(f"  → {line}", style="yellow", markup=False)


def drill_summary(rows: Sequence, score: tuple) -> None:
    """The drill's score and one row per problem (``engine.drill.DrillRow``); ``score`` is
    ``DrillSession.score()``: (fully right, partial scores, problems)."""
    if not rows:
        return
    right, partial, total = score
    title = f"Score: {right} / {total}"
    if partial:
        title += f" · partly right: {', '.join(str(p) for p in partial)}"
    table = Table(title=title)
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


def interval_text(delta) -> str:
    """A time until the next review, as a student reads it: 1 min, 10 min, 5 h, 3 days, 2 months."""
    minutes = delta.total_seconds() / 60
    if minutes < 0.5:
        return "now"
    if minutes < 59.5:
        return f"{minutes:.0f} min"
    if minutes < 60 * 23.5:
        return f"{minutes / 60:.0f} h"
    days = minutes / 1440
    if days < 1.5:
        return "1 day"
    if days < 59.5:
        return f"{days:.0f} days"
    if days < 365:
        return f"{days / 30.4:.0f} months"
    return f"{days / 365:.1f} years"


SPARKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    peak = max(values, default=0)
    if peak <= 0:
        return "▁" * len(values)
    return "".join(SPARKS[max(1, round(8 * v / peak))] if v else "▁" for v in values)


def _bar(value: float, peak: float, width: int = 30) -> str:
    filled = 0 if peak <= 0 else round(width * value / peak)
    return "█" * filled


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def stats(data: dict, topics: int = 8) -> None:
    """``dlstudy stats`` on one 80x24 screen: activity as a sparkline, the due forecast as a bar, the exam,
    a table of the weakest topics, the weakest problems."""
    activity = data["activity"]
    counts = [d["reviews"] for d in activity]
    if len(counts) > 56:  # too wide for a line: one mark per week
        counts = [sum(counts[i:i + 7]) for i in range(0, len(counts), 7)]
    per = "week" if len(activity) > 56 else "day"
    console.print(f"[bold]Reviews[/bold], last {data['days']} days: {data['reviews']}  {sparkline(counts)}  "
                  f"(a mark per {per}; today {activity[-1]['reviews'] if activity else 0})")
    retention = data["true_retention"]
    shown = "—" if retention is None else f"{retention:.0%} of {data['matured_reviews']} reviews of learned cards"
    console.print(f"[bold]True retention[/bold]: {shown}")
    states = data["states"]
    console.print("[bold]Cards[/bold]: " + " · ".join(f"{v} {k}" for k, v in states.items()))
    forecast = [d["due"] for d in data["due_forecast"]]
    console.print(f"[bold]Due[/bold]: {data.get('due_now', forecast[0] if forecast else 0)} now · "
                  f"{forecast[1] if len(forecast) > 1 else 0} tomorrow · next 14 days {sparkline(forecast)} "
                  f"{sum(forecast)}")
    exam = data.get("exam") or {}
    by_date: dict[str, list[str]] = {}
    for item in exam.get("exams", []):
        by_date.setdefault(item["date"], []).append(item["decks"])
    for day, names in by_date.items():
        decks = [d for d in exam["decks"] if d["exam"] == day]
        left = next(e["days_left"] for e in exam["exams"] if e["date"] == day)
        target = exam["plan"]["target"] if exam.get("plan") else 0
        console.print(f"[bold]Exam[/bold] {day} ({', '.join(names)}; in {left} days): recall "
                      f"{_percent(_mean(d['recall_now'] for d in decks))} if you stop now, "
                      f"{_percent(_mean(d['recall_on_plan'] for d in decks))} on plan · {target} cards/day")
    exam_recall = {d["deck"]: d for d in exam.get("decks", [])}
    problems = data.get("problems", {}).get("topics", {})
    table = Table(box=None, padding=(0, 1), show_edge=False, title_justify="left",
                  title="[bold]Topics[/bold], weakest first (recall: FSRS's mean, unseen cards 0)")
    columns = ["topic", "cards", "seen", "recall", "", "lapses", "problems"] + (["at exam"] if exam_recall else [])
    for column in columns:
        table.add_column(column, justify="left" if column in ("topic", "") else "right", no_wrap=True)
    ordered = sorted(data["topics"], key=lambda t: (t["studied"] == 0, t["mastery"], t["deck"]))
    for topic in ordered[:topics]:
        drill = problems.get(topic["deck"])
        drill_text = f"{drill['mastery']:.0%} of {drill['templates']}" if drill and drill["tried"] else "—"
        at_exam = exam_recall.get(topic["deck"])
        cells = [topic["deck"], str(topic["cards"]), str(topic["studied"]), f"{topic['mastery']:.0%}",
                 _bar(topic["mastery"], 1.0, 10).ljust(10, "·"), str(topic["lapses"]), drill_text]
        if exam_recall:
            cells.append(_percent(at_exam["recall_now"]) if at_exam else "")
        table.add_row(*cells)
    console.print(table)
    if len(ordered) > topics:
        console.print(f"  … {len(ordered) - topics} more topics (dlstudy stats --topics {len(ordered)}, or --json)",
                      style="dim")
    weakest = data.get("problems", {}).get("weakest", [])
    if weakest:
        console.print("[bold]Weakest problems[/bold]: " + ", ".join(
            f"{esc(m['template'])} {m['mastery']:.0%}" for m in weakest[:3]) + " — try: dlstudy drill")
    elif data["weakest"]:
        console.print(f"[bold]Weakest topics[/bold]: {', '.join(data['weakest'])} — try: dlstudy quiz {data['weakest'][0]}")


def problem_mastery(data: dict) -> None:
    """``dlstudy stats --problems``: every template tried, weakest first, and the mastery per topic."""
    tried = sorted((m for m in data["problems"]["templates"] if m["attempts"]), key=lambda m: m["mastery"])
    if not tried:
        console.print("No problem tried yet: dlstudy drill picks some for you.")
        return
    table = Table(box=None, padding=(0, 1), show_edge=False, title_justify="left",
                  title="[bold]Problems[/bold], weakest first (mastery: FSRS's chance you solve one tomorrow)")
    for column in ("template", "topic", "tried", "right", "mastery", ""):
        table.add_column(column, justify="left" if column in ("template", "topic", "") else "right", no_wrap=True)
    for m in tried:
        table.add_row(esc(m["template"]), m["topic"], str(m["attempts"]), str(m["right"]), f"{m['mastery']:.0%}",
                      "due" if m["due"] else "")
    console.print(table)
    topics = data["problems"]["topics"]
    console.print("[bold]By topic[/bold]: " + " · ".join(
        f"{topic} {t['mastery']:.0%} ({t['tried']}/{t['templates']})" for topic, t in topics.items() if t["tried"]))


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def card_table(cards: Sequence, limit: int) -> None:
    """``dlstudy cards``: one row per card (``cards.browse.CardInfo``), ids never cut."""
    from datetime import datetime, timezone

    from dlstudy.clock import system_clock

    if not cards:
        console.print("No card matches.")
        return
    now = system_clock() if cards else datetime.now(timezone.utc)
    shown = cards[:limit]
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
    table.add_column("id", style="bold", no_wrap=True, min_width=max(len(c.id) for c in shown))  # never cut
    table.add_column("state", no_wrap=True, min_width=9)
    table.add_column("question", no_wrap=True, overflow="ellipsis", ratio=1)
    for card in shown:
        if card.suspended:
            state = "suspended"
        elif card.buried:
            state = "buried"
        elif card.due is None:
            state = "new"
        elif card.due <= now:
            state = "due now"
        else:
            state = f"in {interval_text(card.due - now)}"
        question = " ".join(lines.line(lines.text_pieces(card.question)).split())
        table.add_row(esc(card.id), state, esc(question))
    console.print(table)
    more = f" (showing {limit}: -n {len(cards)} for all)" if len(cards) > limit else ""
    console.print(f"{len(cards)} card(s){more}. Quiz them: dlstudy quiz DECK --kind K --tag T; "
                  "suspend one: dlstudy suspend ID", style="dim")


def cards_changed(result: dict) -> None:
    done = {"suspend": "Suspended", "unsuspend": "Unsuspended", "bury": "Buried until tomorrow",
            "unbury": "Unburied"}[result["action"]]
    if result["changed"]:
        console.print(f"{done}: {esc(', '.join(result['changed']))}")
    if result["unchanged"]:
        already = {"suspend": "already suspended", "unsuspend": "not suspended", "bury": "already buried",
                   "unbury": "not buried"}[result["action"]]
        console.print(f"Unchanged ({already}): {esc(', '.join(result['unchanged']))}", style="dim")


def exam_status(result: dict) -> None:
    """``dlstudy exam set/show``: the exams, the plan as a bar per day, predicted recall per deck."""
    if "set" in result:
        decks = ", ".join(result["set"]["decks"]) or "every deck"
        console.print(f"Exam set for {result['set']['date']} ({decks}); "
                      f"{result['moved']} review(s) moved before it.")
    if not result["exams"]:
        console.print("No exam ahead. Set one: dlstudy exam set YYYY-MM-DD [DECK ...]")
        return
    by_date: dict[str, list[str]] = {}
    for exam in result["exams"]:
        by_date.setdefault(exam["date"], []).append(exam["decks"])
    for date, decks in by_date.items():
        left = next(e["days_left"] for e in result["exams"] if e["date"] == date)
        console.print(f"[bold]Exam[/bold] {date} ({', '.join(decks)}): in {left} day(s)")
    plan = result["plan"]
    days = plan["days"]
    peak = max((d["due"] + d["new"] for d in days), default=0)
    console.print(f"[bold]Plan[/bold]: {sum(d['due'] + d['new'] for d in days)} cards over {len(days)} day(s); "
                  f"daily target {plan['target']} (due + new, if you answer Good; more after misses)")
    shown = days if len(days) <= 10 else [*days[:7], None, *days[-2:]]
    for day in shown:
        if day is None:
            console.print("  …", style="dim")
            continue
        total = day["due"] + day["new"]
        console.print(f"  {day['date']}  {_bar(total, peak, 30):<30} {total:>4}  ({day['due']} due, {day['new']} new)")
    table = Table(box=None, padding=(0, 1), show_edge=False, title_justify="left",
                  title="[bold]Predicted recall on the exam morning[/bold] (FSRS)")
    for column in ("deck", "cards", "seen", "if you stop now", "on plan"):
        table.add_column(column, justify="left" if column == "deck" else "right")
    rows = sorted(result["decks"], key=lambda d: (d["recall_now"] or 0))
    for deck in rows[:8]:
        table.add_row(deck["deck"], str(deck["cards"]), str(deck["seen"]), _percent(deck["recall_now"]),
                      _percent(deck["recall_on_plan"]))
    console.print(table)
    if len(rows) > 8:
        console.print(f"  … {len(rows) - 8} more decks (--json for all)", style="dim")
    console.print("Study: dlstudy quiz · the evening before: dlstudy exam cram", style="dim")


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
