"""Commands on the review history itself: backup list, backup now, backup restore."""


import typer

from dlstudy.cli.base import JSON_HELP, Commands, app, print_json

backup_app = typer.Typer(
    cls=Commands, no_args_is_help=False, invoke_without_command=True,
    help="Backups of your review history: made automatically once a day; list or restore them.",
)
app.add_typer(backup_app, name="backup")


@backup_app.callback(invoke_without_command=True)
def _backup_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        list_command(as_json=False)


@backup_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """The backups of your review history, newest first."""
    from dlstudy.cards.history import list_backups

    found = list_backups()
    if as_json:
        print_json([b.to_dict() for b in found])
        return
    if not found:
        typer.echo("No backups yet: dlstudy makes one the first time you use it each day (or run `dlstudy backup now`).")
        return
    for b in found:
        reviews = "unreadable" if b.reviews is None else f"{b.reviews} reviews"
        typer.echo(f"{b.name}  {b.size / 1024:,.0f} KB  {reviews}")
    typer.echo(f"Restore one with: dlstudy backup restore {found[0].name}")


@backup_app.command("now")
def now_command(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Back up the review history now."""
    from dlstudy.cards.history import backup_now

    made = backup_now()
    if as_json:
        print_json(made.to_dict())
    else:
        typer.echo(f"Backed up {made.reviews} reviews to {made.path}")


@backup_app.command("restore")
def restore_command(
    name: str = typer.Argument(..., metavar="NAME", help="A backup from `dlstudy backup list`, e.g. reviews-2026-12-01.sqlite3 or 2026-12-01."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Put a backup back as your review history (the current file is kept beside it)."""
    from dlstudy.cards.history import restore

    result = restore(name)
    if as_json:
        print_json(result)
        return
    kept = result["replaced_file_kept_as"]
    typer.echo(f"Restored {result['restored']['name']} ({result['restored']['reviews']} reviews)."
               + (f" The history it replaced is kept as {kept}." if kept else ""))
