"""Commands that write files: formulas, sheet, export anki/csv, import csv."""

from pathlib import Path
from typing import List, Optional

import typer

from dlstudy.cli.base import DECK_OPTION_HELP, JSON_HELP, app, group, print_json


@app.command("formulas")
def formulas_command(
    topics: List[str] = typer.Argument(None, metavar="[TOPIC]...", help="Decks/topics; all by default."),
    topic_list: Optional[str] = typer.Option(None, "--topics", metavar="T1,T2", help="Topics to include, comma-separated (same as TOPIC arguments)."),
    fmt: str = typer.Option("pdf", "--format", "-f", help="pdf or md."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (default formulas[-TOPICS].FORMAT)."),
    deck: List[str] = typer.Option([], "--deck", help=DECK_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """A crib sheet of the course's formulas: the math of the decks' formula cards and derivations, dense, by topic."""
    from dlstudy.cards import study
    from dlstudy.output.formula_sheet import write_formula_sheet

    _, decks = study.open_decks(deck)
    chosen = [*(topics or []), *(t.strip() for t in (topic_list or "").split(",") if t.strip())]
    result = write_formula_sheet(decks, chosen, fmt, output)
    if as_json:
        print_json(result.to_dict())
    else:
        typer.echo(f"Wrote {result.path}: {result.entries} formulas from {len(result.topics)} topic(s).")


@app.command("sheet")
def sheet_command(
    selection: List[str] = typer.Argument(None, metavar="[TOPIC|ID]...", help="Topics or template ids; all by default."),
    count: int = typer.Option(10, "-n", "--count", help="Problems per sheet."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Seed of the sheet (printed on it); version v uses seed + v - 1."),
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
    space: float = typer.Option(1.0, "--space", min=0, max=5, help="Room to work under each problem, as a multiple of the usual (which grows with the problem's steps); 0 for none."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (files, seeds, problem ids and seeds) instead of text."),
) -> None:
    """Printable practice sheets with answer keys: PDF (no TeX needed), LaTeX or Markdown.

    Problems are chosen as in `drill`. Every sheet prints its seed and the
    command that regenerates it; every problem its id and seed for
    `dlstudy generate ID --seed S`.
    """
    from dlstudy.cli import terminal
    from dlstudy.output.sheets import make_sheets

    with terminal.sheet_progress(show=not as_json and versions > 1) as progress:
        result = make_sheets(
            selection or [], count=count, seed=seed, versions=versions, fmt=fmt, output=output,
            solutions=solutions, title=title, merge=merge, progress=progress, space=space,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        terminal.sheet_written(result)


export_app = group("export", "Export decks to Anki, or cards and reviews to CSV/JSON.")
import_app = group("import", "Import flashcards from other tools as a deck of your own.")


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
        print_json(result.to_dict())
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
