"""The ``dlstudy`` command: parse options, call one core function, render its result.

Only typer is imported at module level: ``dlstudy --help`` must not pay for
NumPy, torch or sympy (tests/test_imports.py holds us to it).  User mistakes
arrive as DlstudyError and become one line on stderr in ``_Commands.invoke``.
"""


from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperGroup

from dlstudy.errors import DlstudyError


class _Commands(TyperGroup):
    """The one place a DlstudyError becomes a line on stderr and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DlstudyError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=_Commands,
    help="Study deep learning for exams: randomized exercises with answer keys from live NumPy/torch computations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

JSON_HELP = "Print JSON for scripts instead of text."
PARAMS_HELP = "Your numbers as name=value, e.g. n=227 k=11 or W=[[1,2],[3,4]] or act=relu."


def _print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("problems")
def problems_command(
    topic: Optional[str] = typer.Option(None, "--topic", "-t", help="Only this topic, e.g. cnn."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the problem templates."""
    from dlstudy.engine.templates import all_templates

    templates = all_templates(topic)
    if as_json:
        _print_json([t.summary() for t in templates])
        return
    from dlstudy.cli import display

    display.problem_table(templates)


@app.command("generate")
def generate_command(
    problem_id: str = typer.Argument(..., metavar="ID", help="Template id (see `dlstudy problems`)."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Seed; the same seed gives the same variant."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Generate one variant of a problem, with its answer key and worked solution."""
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    variant, solution = exercises.generate(problem_id, seed)
    if as_json:
        _print_json(variant.to_dict(solution))
        return
    from dlstudy.cli import display

    display.variant(variant)
    display.solution(solution)


@app.command("solve")
def solve_command(
    problem_id: str = typer.Argument(..., metavar="ID", help="Template id (see `dlstudy problems`)."),
    params: List[str] = typer.Argument(None, metavar="NAME=VALUE...", help=PARAMS_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Answer and worked steps for the numbers of your own exercise."""
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    solution = exercises.solve_numbers(problem_id, params or [])
    if as_json:
        _print_json(exercises.solution_dict(solution))
        return
    from dlstudy.cli import display

    display.solution(solution)


@app.command("check")
def check_command(
    problem_id: str = typer.Argument(..., metavar="ID", help="Template id (see `dlstudy problems`)."),
    params: List[str] = typer.Argument(None, metavar="NAME=VALUE...", help=PARAMS_HELP),
    answer: Optional[str] = typer.Option(None, "--answer", "-a", help="Your final answer, e.g. 55x55x96 or 3/4."),
    steps: bool = typer.Option(False, "--steps", help="Enter each intermediate quantity in turn; stop at the first wrong one."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Check against the variant `generate --seed` printed instead of NAME=VALUE."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check your answer (exit 0 right, 1 wrong, 2 bad input), with feedback and the worked solution."""
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    if steps == (answer is not None):
        raise DlstudyError("give either --answer TEXT or --steps")
    solution = exercises.solution_for(problem_id, params or [], seed)
    if steps:
        from dlstudy.cli import display

        verdicts = display.step_check(solution, quiet=as_json)
        if as_json:
            _print_json({"id": solution.template.id, "correct": all(v.correct for v in verdicts),
                         "steps": [v.to_dict() for v in verdicts]})
        raise typer.Exit(0 if verdicts and all(v.correct for v in verdicts) else 1)
    from dlstudy.engine.checking import check

    verdict = check(solution.template, solution, answer)
    if as_json:
        _print_json({"id": solution.template.id, **verdict.to_dict(), "steps": [s.to_dict() for s in solution.steps]})
    else:
        from dlstudy.cli import display

        display.verdict(verdict)
        display.solution(solution)
    raise typer.Exit(0 if verdict.correct else 1)


@app.command("drill")
def drill_command(
    selection: List[str] = typer.Argument(None, metavar="[TOPIC|ID]...", help="Topics or template ids; all by default."),
    count: int = typer.Option(5, "-n", "--count", min=1, help="How many problems."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Seed for a reproducible session."),
) -> None:
    """An interactive session of randomized problems, checked as you answer.

    Type `skip` to see the answer, `quit` to stop.  With stdin not a terminal,
    one answer is read per line, so a session can be scripted.
    """
    from dlstudy.cli import display

    display.drill(selection or [], count, seed)


DECK_OPTION_HELP = "Also use the decks in this file or folder (repeatable)."


@app.command("decks")
def decks_command(
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List decks with their card, new, learning and due counts."""
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    counts = study.decks_overview(deck)
    if as_json:
        _print_json([c.to_dict() for c in counts])
        return
    from dlstudy.cli import display

    display.decks_table(counts)


@app.command("quiz")
def quiz_command(
    selection: List[str] = typer.Argument(None, metavar="[DECK|TAG]...", help="Decks or tags; all decks by default."),
    new: Optional[int] = typer.Option(None, "--new", min=0, help="New cards to introduce (default: the daily allowance)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many cards."),
    cram: bool = typer.Option(False, "--cram", help="Drill the selected cards regardless of schedule; their schedule is left alone."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Seed for problem variants and card order."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
) -> None:
    """Review due cards with spaced repetition (FSRS); every grade is saved as you go.

    Keys: Enter reveals, 1-4 grade (Again, Hard, Good, Easy), u undoes the last
    grade, s suspends the card, q quits. With stdin not a terminal, one key or
    answer is read per line.
    """
    from dlstudy.cli import display
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    display.quiz(study.start_quiz(selection or [], deck, new, limit, cram, seed))


@app.command("stats")
def stats_command(
    days: int = typer.Option(30, "--days", min=1, max=3650, help="How many days of history to summarise."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Reviews per day, true retention, card states, 14-day forecast, mastery by topic."""
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    data = study.study_statistics(deck, days)
    if as_json:
        _print_json(data)
        return
    from dlstudy.cli import display

    display.stats(data)


@app.command("optimize")
def optimize_command(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Fit the FSRS scheduler's parameters to your own review history (once it is large enough)."""
    from dlstudy.cli import display
    from dlstudy.engine import exercises
    from dlstudy.cards import study

    with display.console.status("Fitting FSRS parameters to your reviews…"):
        result = study.optimize()
    if as_json:
        _print_json(result)
    else:
        display.optimize_result(result)


@app.command("formulas")
def formulas_command(
    topics: List[str] = typer.Argument(None, metavar="[TOPIC]...", help="Decks/topics; all by default."),
    fmt: str = typer.Option("pdf", "--format", "-f", help="pdf or md."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (default formulas[-TOPICS].FORMAT)."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """A compact formula sheet from the decks' formula cards and derivations, grouped by topic."""
    from dlstudy.engine import exercises
    from dlstudy.cards import study
    from dlstudy.output.formula_sheet import write_formula_sheet

    _, decks = study.open_decks(deck)
    result = write_formula_sheet(decks, topics or [], fmt, output)
    if as_json:
        _print_json(result.to_dict())
    else:
        typer.echo(f"Wrote {result.path}: {result.entries} formulas from {len(result.topics)} topic(s).")


deck_app = typer.Typer(cls=_Commands, help="Check and manage deck files.", no_args_is_help=True)
app.add_typer(deck_app, name="deck")


@deck_app.command("lint")
def deck_lint_command(
    paths: List[Path] = typer.Argument(..., metavar="PATH...", help="Deck files or folders of decks."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate decks: every problem as file:line:column with what to write instead (exit 2 on errors)."""
    from dlstudy.cards.decks import deck_files, lint_paths

    errors = lint_paths(paths)
    if as_json:
        _print_json([{"path": e.location.path, "line": e.location.line, "column": e.location.column, "message": e.message}
                     for e in errors])
    else:
        for error in errors:
            typer.echo(str(error), err=True)
        if not errors:
            typer.echo(f"{len(deck_files(paths))} deck file(s): no problems found")
    raise typer.Exit(2 if errors else 0)


@app.command("sheet")
def sheet_command(
    selection: List[str] = typer.Argument(None, metavar="[TOPIC|ID]...", help="Topics or template ids; all by default."),
    count: int = typer.Option(10, "-n", "--count", help="Problems per sheet."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Seed of the sheet (printed on it); version v uses seed + v - 1."),
    versions: int = typer.Option(1, "--versions", help="How many different versions, each from its own seed."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", metavar="pdf|tex|md", help="Output format; default: from -o's suffix, else pdf."),
    output: Optional[str] = typer.Option(
        None, "-o", "--output", metavar="PATH",
        help="File to write (a folder with --versions); default sheet-SEED.pdf, or the folder sheet-SEED/, here.",
    ),
    solutions: str = typer.Option(
        "key", "--solutions", metavar="key|inline|none",
        help="key: answer key with worked solutions on separate pages (md: a -key.md file); inline: under each problem; none.",
    ),
    title: Optional[str] = typer.Option(None, "--title", help="Heading printed on the sheet."),
    merge: bool = typer.Option(False, "--merge", help="With --versions: one file holding every version, each followed by its key."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (files, seeds, problem ids and seeds) instead of text."),
) -> None:
    """Printable practice sheets with answer keys: PDF (no TeX needed), LaTeX or Markdown.

    Problems are chosen as in `drill`. Every sheet prints its seed and the
    command that regenerates it; every problem its id and seed for
    `dlstudy generate ID --seed S`.
    """
    from dlstudy.cli import display
    from dlstudy.output import sheets

    with display.sheet_progress(show=not as_json and versions > 1) as progress:
        result = sheets.make_sheets(
            selection or [], count=count, seed=seed, versions=versions, fmt=fmt, output=output,
            solutions=solutions, title=title, merge=merge, progress=progress,
        )
    if as_json:
        _print_json(result.to_dict())
    else:
        display.sheet_written(result)


export_app = typer.Typer(cls=_Commands, help="Export decks to Anki, or cards and reviews to CSV/JSON.", no_args_is_help=True)
app.add_typer(export_app, name="export")
import_app = typer.Typer(cls=_Commands, help="Import flashcards from other tools as a deck of your own.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@export_app.command("anki")
def export_anki_command(
    names: List[str] = typer.Argument(None, metavar="[DECK]...", help="Deck names; all decks by default."),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE.apkg", help="The Anki package to write."),
    variants: int = typer.Option(3, "--variants", min=0, max=100, help="Fixed variants (seeds 1..N) per problem card."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Write decks as an Anki package (.apkg); re-importing an updated export updates the notes in Anki."""
    from dlstudy.output.anki import export_anki_decks

    result = export_anki_decks(names or [], output, variants, deck)
    if as_json:
        _print_json(result.to_dict())
        return
    models = ", ".join(f"{count} {model}" for model, count in sorted(result.by_model.items()))
    typer.echo(f"Wrote {result.path}: {len(result.decks)} deck(s), {result.notes} notes ({models}), {result.cards} cards.")


@export_app.command("csv")
def export_csv_command(
    names: List[str] = typer.Argument(None, metavar="[DECK]...", help="Deck names; all decks by default."),
    reviews: bool = typer.Option(False, "--reviews", help="The review log instead of the cards."),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of objects with the same fields instead of CSV."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE", help="File to write; default: standard output."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
) -> None:
    """Cards with their text and scheduling state (or, with --reviews, every review) as CSV or JSON."""
    from dlstudy.output.tables import export_table

    result = export_table(names or [], deck, reviews, as_json, output)
    if result.path is None:
        typer.echo(result.text, nl=False)
    else:
        typer.echo(f"Wrote {result.rows} {'reviews' if reviews else 'cards'} to {result.path}.", err=True)


@import_app.command("csv")
def import_csv_command(
    file: Path = typer.Argument(..., metavar="FILE", help="CSV (or tab-separated) rows: front, back, optional tags."),
    name: Optional[str] = typer.Option(None, "--deck", metavar="NAME", help="Deck name; default: the file name, lowercased with dashes."),
    title: Optional[str] = typer.Option(None, "--title", help="Deck title; default: the file name."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite your deck of the same name; cards whose front is unchanged keep their history."),
) -> None:
    """Turn a CSV of flashcards into a deck of your own (checked row by row; on any error nothing is written)."""
    from dlstudy.cards.importing import import_csv

    result = import_csv(file, name, title, replace)
    kept = f"; {result.kept} unchanged card(s) keep their history" if result.replaced else ""
    typer.echo(f"Imported {result.cards} cards into deck '{result.deck}' ({result.path}){kept}. Review them: dlstudy quiz {result.deck}")


def _version(value: bool) -> None:
    if value:
        from dlstudy import __version__

        typer.echo(f"dlstudy {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Study deep learning for exams: randomized exercises checked against live NumPy/torch computations."""


def main() -> None:
    app()
