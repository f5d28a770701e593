"""The numbers of a student's own exercise (``solve``/``check``): parsed, checked against the template's domain."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.answers import AnswerFormatError, parse_answer
from dlstudy.engine.evaluation import describe_violation, first_violated, formula_values
from dlstudy.engine.templates import Param, Template
from dlstudy.errors import DlstudyError
from dlstudy.mathtext import expr
from dlstudy.suggest import did_you_mean

def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["n=32", "W=[[1,2],[3,4]]"]`` -> ``{"n": "32", "W": "[[1,2],[3,4]]"}``."""
    raw: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise DlstudyError(f"parameter {item!r} must look like name=value, e.g. n=32")
        if name in raw:
            raise DlstudyError(f"parameter {name!r} is given twice")
        raw[name] = text.strip()
    return raw


def coerce_params(template: Template, raw: Mapping[str, str]) -> dict[str, Any]:
    """Check and convert a student's parameters; every problem is a one-line DlstudyError."""
    unknown = [name for name in raw if name not in template.params]
    if unknown:
        hint = did_you_mean(unknown[0], template.params)
        raise DlstudyError(
            f"{template.id} has no parameter {unknown[0]!r}{hint} (parameters: {', '.join(template.params)})"
        )
    missing = [name for name in template.params if name not in raw]
    if missing:
        described = "; ".join(f"{n} = {template.params[n].describe()}" for n in missing)
        raise DlstudyError(f"{template.id} needs {', '.join(missing)}: {described}")
    params: dict[str, Any] = {}
    for name, param in template.params.items():
        params[name] = _coerce(param, raw[name], params)
    violated = first_violated(template, params, sampling=False)
    if violated is not None:
        raise DlstudyError(f"invalid parameters for {template.id}: {describe_violation(violated, params)}")
    try:
        with np.errstate(all="ignore"):
            values = formula_values(template, params)
    except expr.ExprError as exc:
        raise DlstudyError(f"invalid parameters for {template.id}: {exc.message}") from None
    violated = first_violated(template, values, sampling=False, after_steps=True)
    if violated is not None:
        raise DlstudyError(f"invalid parameters for {template.id}: {describe_violation(violated, values)}")
    return params


def _coerce(param: Param, text: str, earlier: Mapping[str, Any]) -> Any:
    where = f"parameter {param.name} ({param.about})"
    if param.kind == "word":
        if text not in param.options:
            raise DlstudyError(f"{where} must be one of {', '.join(param.options)}, not {text!r}")
        return text
    if param.kind == "choice":
        kind = "integer" if all(float(o).is_integer() for o in param.options) else "real"
    else:
        kind = {"int": "integer", "real": "real", "vector": "vector", "matrix": "matrix"}[param.kind]
    try:
        value = parse_answer(kind, text)
    except AnswerFormatError as exc:
        raise DlstudyError(f"{where}: {exc.message}") from None
    if param.kind in ("vector", "matrix"):
        want = tuple(int(earlier[d]) if isinstance(d, str) else int(d) for d in param.size)
        if value.shape != want:
            dims = " x ".join(f"{d}={earlier[d]}" if isinstance(d, str) else str(d) for d in param.size)
            raise DlstudyError(f"{where} must have shape {dims}, got {' x '.join(map(str, value.shape))}")
        return value
    if param.minimum is not None and value < param.minimum:
        raise DlstudyError(f"{where} must be >= {param.minimum:g}, got {text}")
    if param.maximum is not None and value > param.maximum:
        raise DlstudyError(f"{where} must be <= {param.maximum:g}, got {text}")
    return value
