"""How numbers, vectors, matrices and shapes are shown, so a student can type them back."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DISPLAY_SIGFIGS = 4


def format_number(x: Any, sigfigs: int = DISPLAY_SIGFIGS) -> str:
    """``12`` for integral values, otherwise ``sigfigs`` significant digits.

    A whole number held as an int (a count from an oracle, an integer answer) is written with every digit,
    whatever its size: 8000000008000000000, not 8e18, so that a student can type back exactly what they read.
    A float is only known to 15-17 digits; it is written in full below 10^15, else with ``sigfigs`` digits.
    """
    if type(x) is not float:
        if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0):
            x = x.item()
        if isinstance(x, int) and not isinstance(x, bool):
            return str(x)
        x = float(x)
    if x.is_integer():
        if abs(x) < 1e15:
            return str(int(x))
    elif not math.isfinite(x):  # nan, inf
        return str(x)
    text = f"{x:.{sigfigs}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{int(exp)}"
    return text


def round_as_displayed(value: Any, sigfigs: int = DISPLAY_SIGFIGS) -> Any:
    """The number(s) a student reads off the screen: ``sigfigs`` significant digits."""
    if isinstance(value, (int, float)) or np.ndim(value) == 0:
        return _round_sigfigs(float(value), sigfigs)
    array = np.asarray(value, dtype=float)
    return np.array([_round_sigfigs(x, sigfigs) for x in array.reshape(-1).tolist()]).reshape(array.shape)


def _round_sigfigs(x: float, sigfigs: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, sigfigs - 1 - math.floor(math.log10(abs(x))))


def ndim(value: Any) -> int:
    """``np.ndim(value)``, without its dispatch for the arrays and NumPy scalars most values are (it runs for
    every step judged or shown)."""
    return value.ndim if isinstance(value, (np.ndarray, np.generic)) else np.ndim(value)


def format_value(value: Any, sigfigs: int = DISPLAY_SIGFIGS) -> str:
    """A scalar, a vector ``[1, 2]``, a matrix ``[[1, 2], [3, 4]]``, a shape tuple or a word."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return " x ".join(str(int(v)) for v in value)
    array = np.asarray(value)
    if array.ndim == 0:
        return format_number(array, sigfigs)
    return _nested_list(array.tolist(), sigfigs)  # Python numbers: each entry formats without NumPy's overhead


def _nested_list(items: list, sigfigs: int) -> str:
    return "[" + ", ".join([
        _nested_list(item, sigfigs) if isinstance(item, list) else format_number(item, sigfigs) for item in items
    ]) + "]"


def to_jsonable(value: Any) -> Any:
    """Plain JSON types: ints stay ints, arrays become nested lists."""
    if isinstance(value, (str, bool)) or value is None:
        return value
    if hasattr(value, "words"):  # a sentence (engine.model.Sentence): its words, as a student types them
        return str(value)
    if isinstance(value, tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (list, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)  # exact at any size (JSON integers have no size limit)
    x = float(value)
    return int(x) if x == int(x) and abs(x) < 2**53 else x
