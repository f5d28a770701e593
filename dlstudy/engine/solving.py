"""Parameters -> worked solution: run the live oracle, evaluate the closed-form steps, prove they agree.

    params -> oracle (live NumPy/torch) -> answer key
    -> closed-form steps (must equal the oracle) -> worked solution

Nothing here prints; the CLI renders what these functions return."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, Mapping

import numpy as np

from dlstudy.engine import graphs, oracles
from dlstudy.engine.answers import CHOICE_LETTERS
from dlstudy.engine.checking import step_kind
from dlstudy.engine.evaluation import formula_values
from dlstudy.engine.results import OracleDisagreement, Solution, StepResult, Variant
from dlstudy.engine.model import Template
from dlstudy.mathtext import lines, printer
from dlstudy.mathtext.expr import Array, Group, Index, Name, Node, Num
from dlstudy.mathtext.numbers import format_value

AGREEMENT_RTOL = 1e-6
AGREEMENT_ATOL = 1e-9

def solve(
    template: Template, params: Mapping[str, Any], values: Mapping[str, Any] | None = None,
    slips: Mapping[str, Any] | None = None,
) -> Solution:
    """Run the oracle, evaluate the worked steps, and prove they agree.

    ``values`` are the closed-form values if already computed (``Variant.formula_values``), ``slips`` the
    mistakes' values (``Variant.slips``). A graph
    template is first made concrete for the parameters' expression (``engine.graphs``).
    """
    template = graphs.concrete(template, params)
    if values is None:
        with np.errstate(all="ignore"):
            values = formula_values(template, params)
    oracle_values = oracles.get(template.oracle)(params)
    if template.answer.step not in oracle_values:
        raise OracleDisagreement(f"oracle {template.oracle!r} gives no value for answer step {template.answer.step!r}")
    for name, live in oracle_values.items():
        if name in values:
            _assert_agree(template, name, values[name], live, params)
    answer = oracle_values[template.answer.step]
    return Solution(
        template=template,
        params=params,
        answer=answer,
        answer_text=_value_text(template, template.answer.step, answer, values),
        answer_pieces=(_answer_piece(template, answer, values),),
        steps=tuple(_step_results(template, params, values, oracle_values)),
        values=values,
        oracle_values=oracle_values,
        slips=slips,
    )


def solve_variant(variant: Variant) -> Solution:
    return solve(variant.template, variant.params, variant.formula_values, variant.slips)


def _assert_agree(template: Template, name: str, formula: Any, live: Any, params: Mapping[str, Any]) -> None:
    if callable(live):  # an expression answer: the oracle gives the live function
        from dlstudy.engine.symbolic import evaluate_at, numeric_equal, probe_points

        points = probe_points([template.answer.variable])
        env = {**params, **points}
        ok = numeric_equal(evaluate_at(formula, env), live(points[template.answer.variable])) is True
    else:
        a = np.asarray(formula, dtype=float)
        b = np.asarray(live, dtype=float)
        # np.allclose's rule, entry by entry in plain Python: most values are a few numbers, where NumPy's
        # per-call cost is most of the time
        ok = a.shape == b.shape and all(abs(x - y) <= AGREEMENT_ATOL + AGREEMENT_RTOL * abs(y)
                                        for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
    if not ok:
        raise OracleDisagreement(
            f"{template.id}: step {name!r} formula gives {format_value(formula) if not callable(live) else formula}"
            f" but oracle {template.oracle!r} gives {live if callable(live) else format_value(live)} for {dict(params)}"
        )


def _shown(template: Template, name: str, value: Any) -> Any:
    """The value as shown: a shape answer as a tuple of whole numbers; a whole number judged as an integer as an
    int, so that it prints with every digit (8000000008000000000, not 8e18)."""
    if template.answer.kind == "shape" and name == template.answer.step:
        return tuple(int(v) for v in np.asarray(value).reshape(-1))
    if isinstance(value, (int, str)) or np.ndim(value) != 0:  # exact already, a word, or an array
        return value
    if step_kind(template, name, value) == "integer":
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(value)
    return value


def _value_text(template: Template, name: str, value: Any, values: Mapping[str, Any]) -> str:
    """The value as a student would type it back."""
    if template.answer.kind == "expression" and name == template.answer.step:
        return printer.expression(values[name])
    if template.answer.kind == "choice" and name == template.answer.step:
        index = int(value)
        return f"{CHOICE_LETTERS[index - 1]}) {template.answer.choices[index - 1]}"
    return printer.value(_shown(template, name, value), sigfigs=template.answer.shown_sigfigs)


def _answer_piece(template: Template, answer: Any, values: Mapping[str, Any]) -> lines.Piece:
    kind = template.answer.kind
    if kind == "choice":
        return lines.Text(_value_text(template, template.answer.step, answer, values))
    if kind == "expression":
        return lines.Expression(values[template.answer.step])
    return lines.Value(_shown(template, template.answer.step, answer), template.answer.shown_sigfigs)


def _shows_nothing_new(substituted: lines.Expression, shown: lines.Value) -> bool:
    """Substituting left nothing to compute (``4`` rather than ``4 = 4``), in either style.

    Only an array literal can print alike in LaTeX (a matrix) but not in Unicode.
    """
    node = substituted.node
    while isinstance(node, Group):
        node = node.inner
    if isinstance(node, Array):
        return lines.parts((substituted,), printer.LATEX) == lines.parts((shown,), printer.LATEX)
    if not isinstance(node, (Name, Num, Index)):
        return False  # an operator or a function always shows something to compute
    return lines.line((substituted,)) == lines.line((shown,))


def _step_results(
    template: Template, params: Mapping[str, Any], values: Mapping[str, Any], oracle_values: Mapping[str, Any]
):
    """Each step: what the template writes, then what a student writes with the numbers in.

    What a step shows is decided here, for every output: the formula with the
    known numbers substituted, "=", the value (only the value when substituting
    leaves nothing to compute); a choice step adds the option it names.
    """
    case = template.case_of(values)
    known_names = set(template.params)
    steps_before: set[str] = set()
    # what a show line names; only those lines read it (making it parses a graph's expression)
    shows = any(step.show is not None for step in template.steps)
    shown_values = {**values, **template.display_values(params)} if shows else {}
    for step in template.steps:
        node = step.formula[case].node
        symbolic = template.answer.kind == "expression" and step.name == template.answer.step
        # An expression answer is shown as its formula; the oracle's live function only checks it.
        value = values[step.name] if symbolic else oracle_values.get(step.name, values[step.name])
        text = _value_text(template, step.name, value, values)
        if step.show is not None:  # the template writes the line as a textbook would
            shown_values[step.name] = _shown(template, step.name, value)
            # made when first read, as the other lines: it names only parameters and steps up to this one
            # (template_builder checks), whose shown values are final by now
            make_work = partial(lines.text_pieces, step.show[case], shown_values)
        elif symbolic:
            make_work = _made((lines.Expression(node, symbols=template.symbols),))
        else:
            make_work = partial(_substituted, template, values, oracle_values, step.name, node, value, text,
                                frozenset(known_names), frozenset(steps_before))
        yield StepResult(step.name, step.what, step.latex[case], value, text, make_work)
        known_names.add(step.name)
        steps_before.add(step.name)


def _made(work: tuple[lines.Piece, ...]) -> Callable[[], tuple[lines.Piece, ...]]:
    return lambda: work


def _substituted(
    template: Template, values: Mapping[str, Any], oracle_values: Mapping[str, Any], name: str, node: Node,
    value: Any, text: str, known_names: frozenset[str], steps_before: frozenset[str],
) -> tuple[lines.Piece, ...]:
    """A step's formula with what a student knows at it substituted (the parameters as given, earlier steps as
    the oracle gives them, counts as exact ints), "=", its value."""
    known = {k: _shown(template, k, oracle_values[k]) if k in oracle_values and k in steps_before else v
             for k, v in values.items() if k in known_names}
    substituted = lines.Expression(node, known, template.symbols)
    shown = lines.Value(_shown(template, name, value), template.answer.shown_sigfigs)
    if template.answer.kind == "choice" and name == template.answer.step:
        return (lines.Chain((substituted, lines.Value(int(value)))), lines.Text(f"  (answer {text})"))
    if _shows_nothing_new(substituted, shown):
        return (shown,)
    return (lines.Chain((substituted, shown)),)
