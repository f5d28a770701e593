"""The root ``dlstudy`` typer app and what every command module shares.

Only typer is imported here: ``dlstudy --help`` must not pay for NumPy,
torch or sympy (tests/test_imports.py). User mistakes arrive as
DlstudyError and become one line on stderr in ``Commands.invoke``.
"""

import typer
from typer.core import TyperGroup

from dlstudy.errors import DlstudyError


class Commands(TyperGroup):
    """The one place a user's mistake becomes one line on stderr and an exit code.

    A DlstudyError from the core, or a usage error (a bad option value, an
    unknown option): ``error: ...`` and exit 2. Ctrl-C: exit 130.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DlstudyError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)

    def main(self, *args, **kwargs):
        import sys

        from typer import _click
        from typer.exceptions import Abort

        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except _click.exceptions.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except _click.exceptions.ClickException as exc:
            where = f" (see: {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
            message = " ".join(exc.format_message().split())
            typer.echo(f"error: {message}{where}", err=True)
            sys.exit(exc.exit_code)
        except Abort:  # Ctrl-C, or end of input at a prompt
            typer.echo("", err=True)
            sys.exit(130)
        except OSError as exc:  # the output could not be written: a closed pipe, a full disk
            import errno
            import os

            if exc.errno not in (errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EIO):
                raise  # any other OSError is a bug: crash loudly

            # the interpreter flushes stdout again at exit: give it somewhere harmless to go
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            if exc.errno == errno.EPIPE:
                sys.exit(1)
            from dlstudy.files import describe_os_error

            typer.echo(f"error: cannot write the output: {describe_os_error(exc)}", err=True)
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=Commands,
    help="Study deep learning for exams: randomized exercises with answer keys from live NumPy/torch computations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def group(name: str, help: str) -> typer.Typer:
    """A command group (``dlstudy deck ...``) under the root app."""
    sub = typer.Typer(cls=Commands, help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


JSON_HELP = "Print JSON for scripts instead of text."
PARAMS_HELP = "Your numbers as name=value, e.g. n=227 k=11 or W=[[1,2],[3,4]] or act=relu."
DECK_OPTION_HELP = "Also use the decks in this file or folder (repeatable)."


def print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
