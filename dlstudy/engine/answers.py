"""Turn what a student typed into a value of the answer's kind.

Accepted: fractions ``3/4``, ``1.2e-3``, Unicode minus, small arithmetic
(``2^10``), vectors ``[1, 2, 3]`` / ``1 2 3`` / ``(1, 2, 3)``, matrices
``[1, 2; 3, 4]`` / ``[[1, 2], [3, 4]]``, shapes ``55x55x96`` / ``(55, 55, 96)``,
choices by letter, number or text.  Everything goes through ``parsing.parse``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, Sequence

import numpy as np

from dlstudy.mathtext import expr
from dlstudy.mathtext import functions
from dlstudy.mathtext import parsing
from dlstudy.mathtext import printer
from dlstudy.errors import DlstudyError
from dlstudy.limits import quoted

CHOICE_LETTERS = "abcdefghijklmnopqrstuvwxyz"  # option labels: a), b), ...
KINDS = ("integer", "real", "vector", "matrix", "shape", "expression", "choice")

FORMAT_EXAMPLES = {
    "integer": "a whole number, e.g. 34944",
    "real": "a number, e.g. 0.731, -1.2e-3 or 3/4",
    "vector": "a list of numbers, e.g. [0.5, -1, 2]",
    "matrix": "rows separated by ';', e.g. [1, 2; 3, 4] or [[1, 2], [3, 4]]",
    "shape": "dimensions separated by x, e.g. 55x55x96 or (55, 55, 96)",
    "expression": "a formula in the variable, e.g. sigmoid(x)*(1 - sigmoid(x))",
    "choice": "the letter of an option, e.g. b",
}


class AnswerFormatError(DlstudyError):
    """The text is not an answer of the expected kind; the message shows the format."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{detail}; expected {FORMAT_EXAMPLES[kind]}")
        self.kind = kind


_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _constant(text: str, kind: str) -> float:
    if _PLAIN_NUMBER.fullmatch(text):  # most answers: read directly, no parse tree needed
        value = float(text)
        if not math.isfinite(value):
            raise AnswerFormatError(kind, f"{quoted(text)} is not a finite number")
        return value
    try:
        node = parsing.parse(text, max_length=200)
    except expr.ExprError as exc:
        raise AnswerFormatError(kind, f"cannot read {quoted(text)} as a number ({exc.message})") from None
    if expr.names(node) - set(expr.CONSTANT_NAMES):
        raise AnswerFormatError(kind, f"{quoted(text)} is not a number")
    try:
        value = np.asarray(functions.evaluate(node), dtype=float)
    except expr.ExprError as exc:
        raise AnswerFormatError(kind, f"cannot evaluate {quoted(text)}: {exc.message}") from None
    if value.ndim != 0:
        raise AnswerFormatError(kind, f"{quoted(text)} is a list, not a single number")
    if not math.isfinite(float(value)):
        raise AnswerFormatError(kind, f"{quoted(text)} is not a finite number")
    return float(value)


_THOUSANDS = re.compile(r"[-\u2212]?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_number(text: str) -> float:
    text = text.strip()
    if _THOUSANDS.fullmatch(text):  # 34,944
        text = text.replace(",", "")
    return _constant(text, "real")


_WHOLE_DIGITS = re.compile(r"[-+]?[0-9]{1,400}")
_SCIENTIFIC = re.compile(r"[-+]?(?:[0-9]{1,400}\.?[0-9]{0,400}|\.[0-9]{1,400})[eE][-+]?[0-9]{1,3}")


def parse_integer(text: str) -> int | float:
    """A whole number; a number that is not whole (3.5) is returned as it is, to be judged wrong with feedback
    (forgetting a floor is a mistake to diagnose, not a typing error).

    Digits (``8000000008000000001``) and scientific notation (``8e18``) are read exactly, as a Python int:
    through a float the last of 19 digits would be lost and a wrong count could be judged right.
    """
    text = text.strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    exact = _exact_whole(text)
    if exact is not None:
        return exact
    value = _constant(text, "integer")
    return int(value) if value == int(value) else value


def _exact_whole(text: str) -> int | None:
    """``text`` as an exact int when it is a plain whole number, in digits or scientific notation; else None."""
    if _WHOLE_DIGITS.fullmatch(text):
        return int(text)
    if _SCIENTIFIC.fullmatch(text):
        value = Decimal(text)
        if value.adjusted() <= 400 and value == value.to_integral_value():
            return int(value)
    return None


_SPACE_BETWEEN_ENTRIES = re.compile(r"(?<=[\d.)\]])[ \t]+(?=[-+]?[\d.(\[])")


def _array(text: str, kind: str) -> np.ndarray:
    text = parsing.normalize(text).strip()
    if not text:
        raise AnswerFormatError(kind, "empty answer")
    if text[0] == "(" and text[-1] == ")":
        text = "[" + text[1:-1] + "]"
    # a list as dlstudy shows it (most answers) is read as it is: _bracketed would leave it unchanged
    plain = _plain_numbers(text)
    if plain is None:
        text = _bracketed(text)
        plain = _plain_numbers(text)
    if plain is not None:
        # in Python: NumPy's isfinite and all cost more than the handful of entries a student types
        rows = plain if isinstance(plain[0], list) else [plain]
        if not all([all(map(math.isfinite, row)) for row in rows]):
            raise AnswerFormatError(kind, "every entry must be a finite number")
        return np.asarray(plain, dtype=float)
    try:
        node = parsing.parse(text, max_length=5000)
    except expr.ExprError as exc:
        raise AnswerFormatError(kind, f"cannot read {quoted(text)} ({exc.message})") from None
    if not isinstance(node, expr.Array) or expr.names(node) - set(expr.CONSTANT_NAMES):
        raise AnswerFormatError(kind, f"{quoted(text)} is not a list of numbers")
    try:
        value = np.asarray(functions.evaluate(node), dtype=float)
    except expr.ExprError as exc:
        raise AnswerFormatError(kind, exc.message) from None
    if not np.all(np.isfinite(value)):
        raise AnswerFormatError(kind, "every entry must be a finite number")
    return value


def _bracketed(text: str) -> str:
    """MATLAB-style ``[1 2 3]`` and bare ``1 2 3`` or ``1, 2; 3, 4`` as a bracketed list with commas."""
    # a space between two numbers separates entries
    text = _SPACE_BETWEEN_ENTRIES.sub(", ", text)
    if text[0] != "[":
        # bare "1 2 3" or "1, 2, 3"; rows may be split by ';' or new lines
        rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
        text = "[" + "; ".join(", ".join(_split_items(r)) for r in rows) + "]"
    return text


_NUMBER = r"[-+]?(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?\d++)?+"  # _PLAIN_NUMBER, written so it cannot backtrack
_ROW = rf"\s*+{_NUMBER}(?:\s*+,\s*+{_NUMBER})*+\s*+"
_FLAT_ROWS = re.compile(rf"\s*+\[{_ROW}(?:;{_ROW})*+\]\s*+")  # [a, b] or [a, b; c, d]
_NESTED_ROWS = re.compile(rf"\s*+\[\s*+\[{_ROW}\](?:\s*+,\s*+\[{_ROW}\])*+\s*+\]\s*+")  # [[a, b], [c, d]]
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def _plain_numbers(text: str) -> list | None:
    """``[1, -2.5]``, ``[1, 2; 3, 4]`` or ``[[1, 2], [3, 4]]`` of plain numbers as nested lists, read directly;
    None for anything else (arithmetic, constants, ragged rows), which the expression parser reads."""
    if len(text) > 5000:
        return None
    nested = _NESTED_ROWS.fullmatch(text) is not None
    if nested:
        rows = _BRACKETED.findall(text.strip()[1:-1])
    elif _FLAT_ROWS.fullmatch(text):
        rows = text.strip()[1:-1].split(";")
    else:
        return None
    # strip(): the regular expressions took \x1c-\x1f as spaces, which float() does not skip
    numbers = [[float(x.strip()) for x in row.split(",")] for row in rows]
    if any(len(row) != len(numbers[0]) for row in numbers):
        return None
    return numbers[0] if len(numbers) == 1 and not nested else numbers


def _split_items(row: str) -> list[str]:
    parts = [p for p in re.split(r"[,\s]+", row.strip()) if p]
    return parts


def parse_vector(text: str) -> np.ndarray:
    value = _array(text, "vector")
    if value.ndim == 2 and 1 in value.shape:
        value = value.reshape(-1)
    if value.ndim != 1:
        raise AnswerFormatError("vector", f"got a {value.ndim}-D array, not a vector")
    return value


def parse_matrix(text: str) -> np.ndarray:
    value = _array(text, "matrix")
    if value.ndim == 1:
        value = value.reshape(1, -1)
    if value.ndim != 2:
        raise AnswerFormatError("matrix", f"got a {value.ndim}-D array, not a matrix")
    return value


def parse_shape(text: str) -> tuple[int, ...]:
    cleaned = parsing.normalize(text).strip().strip("()[]")
    parts = [p for p in re.split(r"\s*(?:[x,*]|\s)\s*", cleaned.replace("X", "x")) if p]
    if not parts or not all(re.fullmatch(r"[0-9]{1,18}", p) for p in parts):  # ASCII digits; int() refuses ², ①
        raise AnswerFormatError("shape", f"cannot read {quoted(text)} as a shape")
    return tuple(int(p) for p in parts)


def parse_choice(text: str, choices: Sequence[str]) -> int:
    """1-based index of the chosen option."""
    cleaned = text.strip().rstrip(").").lower()
    letters = CHOICE_LETTERS[: len(choices)]
    if len(cleaned) == 1 and cleaned in letters:
        return letters.index(cleaned) + 1
    if re.fullmatch(r"[0-9]{1,3}", cleaned) and 1 <= int(cleaned) <= len(choices):
        return int(cleaned)
    for i, option in enumerate(choices, 1):
        if cleaned == option.strip().lower():
            return i
    raise AnswerFormatError("choice", f"{quoted(text)} is not one of the options {', '.join(letters)}")


def parse_expression(text: str, variables: Sequence[str]) -> expr.Node:
    try:
        node = parsing.parse(text, implicit_mul=True)
    except expr.ExprError as exc:
        raise AnswerFormatError("expression", exc.message) from None
    unknown = expr.names(node) - set(variables) - set(expr.CONSTANT_NAMES)
    if unknown:
        allowed = ", ".join(variables)
        raise AnswerFormatError("expression", f"unknown name {sorted(unknown)[0]!r} (the variable is {allowed})")
    from dlstudy.mathtext.functions import FUNCTIONS

    unknown_calls = expr.calls(node) - set(FUNCTIONS)
    if unknown_calls:
        raise AnswerFormatError("expression", f"unknown function {sorted(unknown_calls)[0]!r}")
    for power in (n for n in expr.walk(node) if isinstance(n, expr.Binary) and n.op == "^"):
        if not expr.names(power) - set(expr.CONSTANT_NAMES) and not np.all(np.isfinite(functions.evaluate(power))):
            raise AnswerFormatError("expression", f"{printer.expression(power)!r} is too large a number")
    return node


def parse_answer(kind: str, text: str, *, choices: Sequence[str] = (), variables: Sequence[str] = ("x",)) -> Any:
    """Parse ``text`` as an answer of ``kind``; raises AnswerFormatError with an example."""
    if kind == "integer":
        return parse_integer(text)
    if kind == "real":
        return parse_number(text)
    if kind == "vector":
        return parse_vector(text)
    if kind == "matrix":
        return parse_matrix(text)
    if kind == "shape":
        return parse_shape(text)
    if kind == "choice":
        return parse_choice(text, choices)
    if kind == "expression":
        return parse_expression(text, variables)
    raise ValueError(f"unknown answer kind {kind!r}")
