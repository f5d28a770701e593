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
    kind: List[str] = typer.Option([], "--kind", "-k", help="Only cards of this kind (basic, cloze, typed, derivation, problem); repeatable."),
    tag: List[str] = typer.Option([], "--tag", "-t", help="Only cards with this tag, e.g. formula; repeatable."),
    new: Optional[int] = typer.Option(None, "--new", min=0, help="New cards to introduce (default: the daily allowance)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many cards."),
    cram: bool = typer.Option(False, "--cram", help="Go through the selected cards regardless of schedule; the schedule is left alone."),
    siblings: bool = typer.Option(False, "--siblings", help="Also show cards related to one already seen today (held back by default)."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Seed for problem variants and card order."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
) -> None:
    """Review due cards with spaced repetition (FSRS); every grade is saved as you go.

    In a terminal every command is one key: Space or Enter shows the answer,
    1-4 grade (Again, Hard, Good, Easy; each shows when the card comes back),
    u undoes the last grade, suspend or bury, s suspends, b buries until
    tomorrow, e shows where the card is written, ? lists the keys, q or Ctrl-C
    quits. On a typed card, type the answer; Enter on an empty line shows it
    and you grade yourself. Cards related to one seen today (the other side,
    another gap, a `related` card) wait until tomorrow. With stdin not a
    terminal, one key or answer is read per line.
    """
    from dlstudy.cards import study
    from dlstudy.cli import quizloop

    quizloop.quiz(study.start_quiz(selection or [], deck, new, limit, cram, seed, kind, tag, siblings))


@app.command("cards")
def cards_command(
    words: List[str] = typer.Argument(None, metavar="[WORDS]...", help="Only cards mentioning all these words (as --search)."),
    search: List[str] = typer.Option([], "--search", "-S", help="Only cards mentioning all these words (id, deck, tags, text), e.g. --search 'sigmoid derivative'."),
    deck: List[str] = typer.Option([], "--deck", help="Only this deck: a deck name, or a deck file or folder (also loaded); repeatable."),
    kind: List[str] = typer.Option([], "--kind", "-k", help="Only cards of this kind; repeatable."),
    tag: List[str] = typer.Option([], "--tag", "-t", help="Only cards with this tag; repeatable."),
    suspended: bool = typer.Option(False, "--suspended", help="Only suspended cards."),
    due: bool = typer.Option(False, "--due", help="Only cards due now."),
    limit: int = typer.Option(30, "--limit", "-n", min=1, help="Show at most this many (all with --json)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Find cards: by words, deck, kind, tag, suspended or due; with their id, state and next review.

    A word matches the start of a word of the card's id, deck, tags or text
    ("deriv" finds derivative); cards naming it in their id or tags come first.
    """
    from dlstudy.cards import study

    found = study.list_cards([*(words or []), *search], deck, kind, tag, suspended, due)
    if as_json:
        print_json([c.to_dict() for c in found])
        return
    from dlstudy.cli import terminal

    terminal.card_table(found, limit)


def _change(action: str, ids: List[str], deck: List[str], as_json: bool) -> None:
    from dlstudy.cards import study

    result = study.change_cards(action, ids, deck)
    if as_json:
        print_json(result)
        return
    from dlstudy.cli import terminal

    terminal.cards_changed(result)


IDS = typer.Argument(..., metavar="ID...", help="Card ids, or note ids for all of a note's cards (see `dlstudy cards`).")


@app.command("suspend")
def suspend_command(ids: List[str] = IDS, deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
                    as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Suspend cards: they stay out of every quiz until unsuspended; their history is kept."""
    _change("suspend", ids, deck, as_json)


@app.command("unsuspend")
def unsuspend_command(ids: List[str] = IDS, deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
                      as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Bring suspended cards back, with their schedule as it was (list them: dlstudy cards --suspended)."""
    _change("unsuspend", ids, deck, as_json)


@app.command("bury")
def bury_command(ids: List[str] = IDS, deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
                 as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Hide cards until tomorrow (the next study day starts at 04:00)."""
    _change("bury", ids, deck, as_json)


@app.command("unbury")
def unbury_command(ids: List[str] = IDS, deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
                   as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Show buried cards again today."""
    _change("unbury", ids, deck, as_json)


@app.command("stats")
def stats_command(
    days: int = typer.Option(14, "--days", min=1, max=3650, help="How many days of reviews to show (a mark per day; per week beyond 56)."),
    topics: int = typer.Option(8, "--topics", min=1, help="How many topics to list, weakest first."),
    problems: bool = typer.Option(False, "--problems", help="Instead: the mastery of every problem template you tried, weakest first."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """One screen: reviews per day, true retention, card states, what is due, the exam, weakest topics and problems.

    A problem's mastery is FSRS's probability that you solve a fresh variant
    tomorrow, from your drills and problem cards; a topic's is the mean over its
    templates (untried ones count 0).
    """
    from dlstudy.cards import study

    data = study.study_statistics(deck, days)
    if as_json:
        print_json(data)
        return
    from dlstudy.cli import terminal

    if problems:
        terminal.problem_mastery(data)
    else:
        terminal.stats(data, topics)


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


exam_app = group("exam", "Plan for an exam date: every card seen in time, the work spread, recall predicted.")


@exam_app.command("set")
def exam_set_command(
    day: str = typer.Argument(..., metavar="YYYY-MM-DD", help="The exam's date."),
    decks: List[str] = typer.Argument(None, metavar="[DECK]...", help="The decks it covers; all by default."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Aim the schedule at an exam: reviews that would fall after it move before it (spread over the days
    left), new cards all come in time, and the quiz shows a daily target.

    Reviews already scheduled past the exam move now. Run it again to change
    the date; `dlstudy exam clear` forgets it (the schedule stays as it is).
    """
    from dlstudy.cards import study

    result = study.set_exam(day, decks or [], deck)
    if as_json:
        print_json(result)
        return
    from dlstudy.cli import terminal

    terminal.exam_status(result)


@exam_app.command("show")
def exam_show_command(
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The exams ahead, the plan (cards per day, daily target) and the predicted recall on the exam morning."""
    from dlstudy.cards import study

    result = study.exam_status(deck)
    if as_json:
        print_json(result)
        return
    from dlstudy.cli import terminal

    terminal.exam_status(result)


@exam_app.command("clear")
def exam_clear_command(
    decks: List[str] = typer.Argument(None, metavar="[DECK]...", help="Forget only these decks' exam date."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Forget the exam (all of them by default); reviews already moved stay where they are."""
    from dlstudy.cards import study

    result = study.clear_exam(decks or [])
    if as_json:
        print_json(result)
        return
    typer.echo(f"Cleared: {', '.join(result['cleared']) or 'nothing was set'}.")


@exam_app.command("cram")
def exam_cram_command(
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Stop after this many cards."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Seed for problem variants."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
) -> None:
    """The evening before: the next exam's cards, weakest first; the schedule is not changed.

    Weakest means the lowest recall FSRS predicts on the exam morning (cards
    never seen first). Same keys as quiz; suspend and bury only set a card
    aside for this cram.
    """
    from dlstudy.cards import study
    from dlstudy.cli import quizloop

    quizloop.quiz(study.start_exam_cram(limit, seed, deck))
