"""The root ``dlstudy`` typer app and what every command module shares.

Only typer is imported here: ``dlstudy --help`` must not pay for NumPy,
torch or sympy (tests/test_imports.py). User mistakes arrive as
DlstudyError and become one line on stderr in ``_Commands.invoke``.
"""

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


def group(name: str, help: str) -> typer.Typer:
    """A command group (``dlstudy deck ...``) under the root app."""
    sub = typer.Typer(cls=_Commands, help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


JSON_HELP = "Print JSON for scripts instead of text."
PARAMS_HELP = "Your numbers as name=value, e.g. n=227 k=11 or W=[[1,2],[3,4]] or act=relu."
DECK_OPTION_HELP = "Also use the decks in this file or folder (repeatable)."


def print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
