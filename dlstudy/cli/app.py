"""The ``dlstudy`` command: the root app with every command group registered, and ``main``.

Commands are thin: parse options, call one core function, render its result.
They live by group in problem_commands.py, study_commands.py and
output_commands.py; importing those modules registers them on ``base.app``
(in this order, which is the order ``--help`` lists them in).
"""

import typer

from dlstudy.cli.base import app

# Importing a command module registers its commands; keep this order (--help lists them in it).
from dlstudy.cli import problem_commands  # noqa: E402, F401, I001
from dlstudy.cli import study_commands  # noqa: E402, F401
from dlstudy.cli import output_commands  # noqa: E402, F401
from dlstudy.cli import history_commands  # noqa: E402, F401

__all__ = ["app", "main"]


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
