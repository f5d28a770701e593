"""How a student would type a value shown by dlstudy (tests only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlstudy.mathtext import printer
from dlstudy.engine.answers import CHOICE_LETTERS
from dlstudy.engine.checking import step_kind
from dlstudy.mathtext.numbers import format_value
from dlstudy.engine.templates import Template


def as_typed(template: Template, step: str, value: Any, like: Any) -> str:
    """``value`` for ``step`` as a student types it, rounded as dlstudy displays it."""
    kind = step_kind(template, step, like)
    if kind == "expression":
        return printer.expression(value)
    if kind == "choice":
        return CHOICE_LETTERS[int(value) - 1]
    if kind == "shape":
        return "x".join(str(int(v)) for v in np.asarray(value).reshape(-1))
    if kind == "integer" and np.ndim(value) == 0 and float(value).is_integer():
        return str(int(value))  # a whole number is shown with every digit
    return format_value(value, max(4, int(template.answer.sigfigs or 0)))
