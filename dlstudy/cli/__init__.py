"""The ``dlstudy`` command: parse options, call one core function, render its result."""

from dlstudy.cli.app import app, main

__all__ = ["app", "main"]
