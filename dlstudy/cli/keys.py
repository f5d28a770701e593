"""Reading the student: one keypress at a time in a terminal, one line at a time otherwise.

CLI layer. In a terminal, ``Input.key`` puts the terminal in cbreak mode
(termios/tty: keys arrive one by one, unechoed; Ctrl-C still interrupts) for
exactly one key and restores it. When stdin is not a terminal (a pipe, a
file, CI), every read is a line, so a scripted session sends one key or
answer per line and reads like a live one (each line is echoed after its
prompt). End of input reads as None.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from rich.console import Console

KEY_NAMES = {"\r": "enter", "\n": "enter", " ": "space", "\x7f": "backspace", "\x1b": "escape", "\t": "tab"}


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()


def _read_key() -> str | None:
    """One key from the terminal: a character, or 'enter', 'space', 'escape'...; None at Ctrl-D."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # not TCSAFLUSH: a key typed ahead must not be lost
        data = os.read(fd, 1)
        if data == b"\x1b":  # an escape sequence (arrow keys...): swallow the rest
            import select

            while select.select([fd], [], [], 0.02)[0]:
                os.read(fd, 8)
        elif data and data[0] >= 0xC0:  # the first byte of a UTF-8 character: read the rest of it
            length = 2 if data[0] < 0xE0 else 3 if data[0] < 0xF0 else 4
            data += os.read(fd, length - 1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    if not data or data == b"\x04":
        return None
    text = data.decode("utf-8", "replace")
    return KEY_NAMES.get(text, text)


class Input:
    """Keys and lines from the student (see the module's docstring)."""

    def __init__(self, console: Console, echo: bool = True) -> None:
        self.console = console
        self.echo = echo
        self.closed = sys.stdin is None or sys.stdin.closed
        self.terminal = not self.closed and stdin_is_terminal()
        self.keys = self.terminal and _has_termios()

    def key(self, prompt: str, shown: Callable[[str], str] | None = None) -> str | None:
        """One key in a terminal (its name: '1', 'u', 'enter', 'space'), a stripped line otherwise
        ('' for an empty one); None at end of input. ``shown`` names the key pressed after the prompt."""
        if not self.keys:
            return self.line(prompt)
        self.console.print(prompt, end="")
        key = _read_key()
        if key is None:
            self.console.print()
            return None
        self.console.print(shown(key) if shown else "", style="dim", markup=False)
        return key

    def line(self, prompt: str) -> str | None:
        """A line of text (stripped); None at end of input."""
        if self.closed:
            return None
        if self.terminal:
            try:
                return self.console.input(prompt).strip()
            except EOFError:
                self.console.print()
                return None
        line = sys.stdin.readline()
        if self.echo:
            self.console.print(prompt, end="")
            self.console.print(line.rstrip("\n"), style="dim", markup=False)
        return line.strip() if line else None


def _has_termios() -> bool:
    try:
        import termios  # noqa: F401
        import tty  # noqa: F401
    except ImportError:  # Windows: lines only
        return False
    try:
        termios.tcgetattr(sys.stdin.fileno())
    except (termios.error, ValueError, OSError):
        return False
    return True
