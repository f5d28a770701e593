"""Commands on decks and the review history: decks, quiz, stats, optimize, deck lint."""

from pathlib import Path
from typing import List, Optional

import typer

from dlstudy.cli.base import DECK_OPTION_HELP, JSON_HELP, app, group, print_json


@app.command("decks")
def decks_command(
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List decks with their card, new, learning and due counts."""
    from dlstudy.cards import study

    counts = study.decks_overview(deck)
    if as_json:
        print_json([c.to_dict() for c in counts])
        return
    from dlstudy.cli import terminal

    terminal.decks_table(counts)


@app.command("quiz")
def quiz_command(
    selection: List[str] = typer.Argument(None, metavar="[DECK|TAG]...", help="Decks or tags; all decks by default."),
    new: Optional[int] = typer.Option(None, "--new", min=0, help="New cards to introduce (default: the daily allowance)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many cards."),
    cram: bool = typer.Option(False, "--cram", help="Drill the selected cards regardless of schedule; their schedule is left alone."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Seed for problem variants and card order."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
) -> None:
    """Review due cards with spaced repetition (FSRS); every grade is saved as you go.

    Keys: Enter reveals, 1-4 grade (Again, Hard, Good, Easy), u undoes the last
    grade, s suspends the card, q quits. With stdin not a terminal, one key or
    answer is read per line.
    """
    from dlstudy.cards import study
    from dlstudy.cli import interactive

    interactive.quiz(study.start_quiz(selection or [], deck, new, limit, cram, seed))


@app.command("stats")
def stats_command(
    days: int = typer.Option(30, "--days", min=1, max=3650, help="How many days of history to summarise."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Reviews per day, true retention, card states, 14-day forecast, mastery by topic."""
    from dlstudy.cards import study

    data = study.study_statistics(deck, days)
    if as_json:
        print_json(data)
        return
    from dlstudy.cli import terminal

    terminal.stats(data)


@app.command("optimize")
def optimize_command(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Fit the FSRS scheduler's parameters to your own review history (once it is large enough)."""
    from dlstudy.cards import study
    from dlstudy.cli import terminal

    with terminal.console.status("Fitting FSRS parameters to your reviews…"):
        result = study.optimize()
    if as_json:
        print_json(result)
    else:
        terminal.optimize_result(result)


deck_app = group("deck", "Check and manage deck files.")


@deck_app.command("lint")
def deck_lint_command(
    paths: List[Path] = typer.Argument(..., metavar="PATH...", help="Deck files or folders of decks."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate decks: every problem as file:line:column with what to write instead (exit 2 on errors).

    Besides the format, the content rules check that cards teach (one question
    per front, fair reversed cards, small cloze gaps, no giveaway steps, stated
    precision, no near-duplicates; docs/decks.md); their problems end in [rule].
    """
    from dlstudy.cards.decks import deck_files, lint_paths

    errors = lint_paths(paths)
    if as_json:
        print_json([{"path": e.location.path, "line": e.location.line, "column": e.location.column, "message": e.message}
                    for e in errors])
    else:
        for error in errors:
            typer.echo(str(error), err=True)
        if not errors:
            typer.echo(f"{len(deck_files(paths))} deck file(s): no problems found")
    raise typer.Exit(2 if errors else 0)
