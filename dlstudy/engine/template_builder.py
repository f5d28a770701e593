"""A problem template's YAML data validated into ``engine.model`` dataclasses.

A template is pure data (see docs/problems.md).  Its formulas are parsed by
``parsing.parse``; its oracle is a name looked up in dlstudy's own registry.  Any
mistake in a file is a LocatedError ``FILE:LINE:COL: what is wrong`` (exit 2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dlstudy.engine.answers import KINDS
from dlstudy.engine.model import (
    LOOP_INDEX, PREVIOUS_SUFFIX, Answer, Constraint, Formula, Mistake, Param, Step, Template,
)
from dlstudy.engine.template_reader import Reader, parse_param
from dlstudy.mathtext import expr
from dlstudy.mathtext.functions import compile_node
from dlstudy.suggest import did_you_mean

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TOP_KEYS = (
    "id", "topic", "title", "tags", "statement", "symbols", "params", "constraints", "cost", "oracle", "answer",
    "steps", "mistakes", "cases",
)
STEP_KEYS = ("name", "what", "latex", "expr", "show", "kind", "rtol", "atol", "repeat", "start")
STEP_KINDS = ("integer", "real", "vector", "matrix")


def build_template(path: Path, data: Any, check_latex: bool = True) -> Template:
    """Validate a template's data (as loaded from ``path``) into a Template."""
    reader = Reader(path, check_latex)
    if not isinstance(data, dict):
        raise reader.error(data, "a problem template must be a mapping")
    template_id = reader.text(data, "id")
    if not ID_PATTERN.match(template_id):
        raise reader.error(data, f"id {template_id!r} must be lowercase letters, digits and dashes", "id")
    if template_id != path.stem:
        raise reader.error(data, f"id {template_id!r} must match the file name {path.name!r}", "id")
    for key in data:
        if key not in TOP_KEYS:
            raise reader.error(data, f"unknown key {key!r}{did_you_mean(str(key), TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}", key)

    params = _params(reader, data)
    if any(p.kind == "graph" for p in params.values()):
        return _graph_template(reader, data, template_id, params)
    cases_name = data.get("cases")
    cases: tuple[str, ...] = ()
    if cases_name is not None:
        if cases_name not in params or params[cases_name].kind != "word":
            raise reader.error(data, f"'cases' must name a 'word' parameter, not {cases_name!r}", "cases")
        cases = tuple(params[cases_name].options)
    known = set(params) | ({"vocabulary_size"} if any(p.kind == "words" for p in params.values()) else set())

    answer_spec = reader.mapping(data, "answer")
    kind = reader.text(answer_spec, "kind")
    if kind not in KINDS:
        raise reader.error(answer_spec, f"answer kind {kind!r} is not one of {', '.join(KINDS)}", "kind")
    variable = reader.text(answer_spec, "variable", required=False, default="x")
    steps = _steps(reader, data, cases, known, variable if kind == "expression" else None)
    step_names = [s.name for s in steps]
    constraints = _constraints(reader, data, known, step_names)
    answer = _answer(reader, answer_spec, kind, variable, step_names)
    mistakes = _mistakes(reader, data, cases, known, steps, answer, variable if kind == "expression" else None)

    oracle = reader.text(data, "oracle")
    from dlstudy.engine import oracles

    if not oracles.exists(oracle):
        raise reader.error(data, f"unknown oracle {oracle!r}{did_you_mean(oracle, oracles.names())}", "oracle")

    statement = reader.cased(data, "statement", cases, "statement", None)
    for text in statement.values():
        reader.math_text(data, text, "statement", set(params))
    for param in params.values():
        reader.math_text(data["params"], param.about, f"parameter '{param.name}' about", set())
    for step in steps:
        reader.math_text(data["steps"], step.what, f"step '{step.name}' what", set())
        for show in (step.show or {}).values():
            reader.math_text(data["steps"], show, f"step '{step.name}' show", known | set(step_names[: step_names.index(step.name) + 1]))

    cost = data.get("cost")
    return Template(
        **_described(reader, data, template_id, statement, params),
        constraints=constraints,
        oracle=oracle,
        answer=answer,
        steps=steps,
        mistakes=mistakes,
        cases=cases_name,
        symbols=_symbols(reader, data, known | set(step_names)),
        cost=reader.formula(data, cost, "cost", known, "cost") if cost is not None else None,
    )


GRAPH_ANSWER_KEYS = ("kind", "rtol", "atol", "sigfigs")


def _graph_template(reader: Reader, data: Any, template_id: str, params: dict[str, Param]) -> Template:
    """A template whose steps, answer parts and mistakes are generated from its graph parameter
    (``engine.graphs``); the file gives the graph list, the statement, the oracle and the tolerance."""
    graphs = [p for p in params.values() if p.kind == "graph"]
    if len(graphs) > 1 or next(iter(params.values())).kind != "graph":
        raise reader.error(data["params"], "a template has at most one graph parameter, and it comes first")
    for key in ("steps", "mistakes", "constraints", "cases", "cost"):
        if key in data:
            raise reader.error(data, f"a graph template's {key} are generated from the graph; remove '{key}'", key)
    answer_spec = reader.mapping(data, "answer")
    for key in answer_spec:
        if key not in GRAPH_ANSWER_KEYS:
            raise reader.error(answer_spec, f"a graph template's answer takes only {', '.join(GRAPH_ANSWER_KEYS)}", key)
    if reader.text(answer_spec, "kind") != "real":
        raise reader.error(answer_spec, "a graph template's answer kind is real (f and each input's gradient)", "kind")
    oracle = reader.text(data, "oracle")
    from dlstudy.engine import graphs as graph_module, oracles

    if not oracles.exists(oracle):
        raise reader.error(data, f"unknown oracle {oracle!r}{did_you_mean(oracle, oracles.names())}", "oracle")
    statement = reader.cased(data, "statement", (), "statement", None)
    for text in statement.values():
        reader.math_text(data, text, "statement", set(params) | {graph_module.INPUTS_PLACEHOLDER})
    for param in params.values():
        reader.math_text(data["params"], param.about, f"parameter '{param.name}' about", set())
    return Template(
        **_described(reader, data, template_id, statement, params),
        constraints=(),
        oracle=oracle,
        answer=Answer(
            kind="real",
            step=graph_module.ROOT,
            rtol=float(reader.number(answer_spec, "rtol", 0.01)),
            atol=float(reader.number(answer_spec, "atol", 1e-9)),
            sigfigs=reader.number(answer_spec, "sigfigs"),
        ),
        steps=(),
        mistakes=(),
        cases=None,
        symbols={},
    )


def _described(reader: Reader, data: Any, template_id: str, statement: dict[str, str], params: dict[str, Param]) -> dict[str, Any]:
    """The fields every template, graph or not, reads the same way: what it is called and asks, its parameters."""
    return {
        "id": template_id,
        "topic": reader.text(data, "topic"),
        "title": reader.text(data, "title"),
        "statement": {case: text.strip() for case, text in statement.items()},
        "params": params,
        "source": str(reader.path),
        "tags": reader.words(data, "tags"),
    }


def _params(reader: Reader, data: Any) -> dict[str, Param]:
    specs = reader.mapping(data, "params")
    params: dict[str, Param] = {}
    names: dict[str, str] = {}
    for name, spec in specs.items():
        param = parse_param(reader, str(name), spec, params)
        for alias in (param.name, *param.aliases, *param.entries):
            if alias in names:
                raise reader.error(specs, f"parameter name {alias!r} is already used by '{names[alias]}'", name)
            names[alias] = param.name
        params[param.name] = param
    return params


def _steps(reader: Reader, data: Any, cases: tuple[str, ...], known: set[str], variable: str | None) -> tuple[Step, ...]:
    specs = data.get("steps")
    if not isinstance(specs, list) or not specs:
        raise reader.error(data, "'steps' must be a non-empty list")
    steps = []
    loops = _loops(reader, specs)
    for index, item in enumerate(specs):
        if not isinstance(item, dict):
            raise reader.error(item, "each step must be a mapping with name, latex and expr")
        name = reader.text(item, "name")
        if name in known:
            raise reader.error(item, f"step name {name!r} is already a parameter or an earlier step", "name")
        for key in item:
            if key not in STEP_KEYS:
                raise reader.error(item, f"step '{name}': unknown key {key!r}{did_you_mean(str(key), STEP_KEYS)}", key)
        step_kind = item.get("kind")
        if step_kind is not None and step_kind not in STEP_KINDS:
            raise reader.error(item, f"step '{name}': kind must be {', '.join(STEP_KINDS)}, not {step_kind!r}", "kind")
        loop = loops.get(index, ())
        before_loop = known - set(loop)
        if loop and "show" not in item:
            raise reader.error(item, f"step '{name}' is repeated: give a 'show' line (its formula uses t and *_prev)")
        steps.append(
            Step(
                name=name,
                what=reader.text(item, "what", required=False, default=name),
                latex=reader.latex(item, cases, f"step '{name}' latex"),
                formula=reader.cased(item, "expr", cases, f"step '{name}'",
                                     known | loop_names(loop) | ({variable} if variable else set())),
                kind=step_kind,
                rtol=reader.number(item, "rtol"),
                atol=reader.number(item, "atol"),
                show=reader.cased(item, "show", cases, f"step '{name}' show", None) if "show" in item else None,
                repeat=reader.formula(item, item["repeat"], f"step '{name}' repeat", before_loop, "repeat") if loop else None,
                start=reader.formula(item, item["start"], f"step '{name}' start", before_loop, "start")
                if loop and "start" in item else None,
                loop=loop,
            )
        )
        known = known | {name}
    return tuple(steps)


def loop_names(loop: tuple[str, ...]) -> set[str]:
    """The names a repeated step's formulas may use besides earlier steps: t and X_prev for each step X of the loop."""
    return {LOOP_INDEX, *(name + PREVIOUS_SUFFIX for name in loop)} if loop else set()


def _loops(reader: Reader, specs: list) -> dict[int, tuple[str, ...]]:
    """Consecutive steps with the same ``repeat`` form one loop: step index -> the names of its loop's steps."""
    loops: dict[int, tuple[str, ...]] = {}
    group: list[int] = []

    def close() -> None:
        names = tuple(str(specs[i].get("name")) for i in group)
        loops.update({i: names for i in group})
        group.clear()

    for index, item in enumerate(specs):
        if not isinstance(item, dict) or "repeat" not in item:
            close()
            if isinstance(item, dict) and "start" in item:
                raise reader.error(item, "'start' belongs to a repeated step (one with 'repeat')", "start")
            continue
        if group and specs[group[-1]].get("repeat") != item.get("repeat"):
            close()
        group.append(index)
    close()
    return loops


def _constraints(reader: Reader, data: Any, known: set[str], step_names: list[str]) -> tuple[Constraint, ...]:
    constraints = []
    for item in data.get("constraints") or ():
        if not isinstance(item, dict) or "when" not in item or "message" not in item:
            raise reader.error(item, "each constraint needs 'when' (a condition) and 'message'")
        formula = reader.formula(item, item["when"], "constraint", known | set(step_names), "when")
        steps_used = frozenset(expr.names(formula.node) & set(step_names))
        param_terms = tuple(
            Formula(formula.text, term, compile_node(term))
            for term in _and_terms(formula.node) if not expr.names(term) & steps_used
        )
        constraints.append(
            Constraint(
                formula,
                reader.text(item, "message"),
                bool(item.get("sampling_only", False)),
                steps_used=steps_used,
                param_terms=param_terms,
            )
        )
    return tuple(constraints)


def _and_terms(node: expr.Node) -> list[expr.Node]:
    """``a and b and c`` -> [a, b, c] (brackets included); any other formula is its own single term."""
    while isinstance(node, expr.Group):
        node = node.inner
    if isinstance(node, expr.Binary) and node.op == "and":
        return _and_terms(node.left) + _and_terms(node.right)
    return [node]


def _answer(reader: Reader, spec: Any, kind: str, variable: str, step_names: list[str]) -> Answer:
    answer_step = reader.text(spec, "step", required=False, default=step_names[-1])
    if answer_step not in step_names:
        raise reader.error(spec, f"answer step {answer_step!r} is not a step name{did_you_mean(answer_step, step_names)}", "step")
    parts = spec.get("parts") or []
    if not isinstance(parts, list) or not all(p in step_names for p in parts) or len(set(parts)) != len(parts):
        raise reader.error(spec, "'parts' must list step names, each once, in the order the question asks for them", "parts")
    if parts and answer_step not in parts:
        raise reader.error(spec, f"'parts' must include the answer step {answer_step!r}", "parts")
    choices = spec.get("choices") or ()
    if kind == "choice" and (not isinstance(choices, list) or len(choices) < 2):
        raise reader.error(spec, "a choice answer needs a list of at least two 'choices'", "choices")
    return Answer(
        kind=kind,
        step=answer_step,
        rtol=float(reader.number(spec, "rtol", 0.01)),
        atol=float(reader.number(spec, "atol", 1e-9)),
        sigfigs=reader.number(spec, "sigfigs"),
        choices=tuple(str(c) for c in choices),
        variable=variable,
        parts=tuple(parts),
    )


def _mistakes(
    reader: Reader, data: Any, cases: tuple[str, ...], known: set[str], steps: tuple[Step, ...], answer: Answer,
    variable: str | None,
) -> tuple[Mistake, ...]:
    step_names = [s.name for s in steps]
    mistakes = []
    ids: set[str] = set()
    for item in data.get("mistakes") or ():
        if not isinstance(item, dict):
            raise reader.error(item, "each mistake needs 'id', 'expr' and 'feedback'")
        mistake_id = reader.text(item, "id")
        if mistake_id in ids:
            raise reader.error(item, f"duplicate mistake id {mistake_id!r}", "id")
        ids.add(mistake_id)
        step_name = reader.text(item, "step", required=False, default=answer.step)
        if step_name not in step_names:
            raise reader.error(item, f"mistake step {step_name!r} is not a step name", "step")
        index = step_names.index(step_name)
        loop = next(s.loop for s in steps if s.name == step_name)
        mistake_known = known | set(step_names[:index]) | ({variable} if variable else set()) | loop_names(loop)
        mistakes.append(
            Mistake(
                id=mistake_id,
                step=step_name,
                formula=reader.cased(item, "expr", cases, f"mistake '{mistake_id}'", mistake_known, complete=False),
                feedback=reader.text(item, "feedback"),
                when=reader.formula(item, item["when"], f"mistake '{mistake_id}' when", mistake_known - loop_names(loop), "when")
                if "when" in item
                else None,
            )
        )
    return tuple(mistakes)


def _symbols(reader: Reader, data: Any, names: set[str]) -> dict[str, str]:
    spec = data.get("symbols") or {}
    if not isinstance(spec, dict):
        raise reader.error(data, "'symbols' must map names to LaTeX, e.g. h_prev: 'h_{t-1}'", "symbols")
    symbols = {}
    for name, latex in spec.items():
        if name not in names:
            raise reader.error(spec, f"symbol for {name!r}, which is not a parameter or step{did_you_mean(str(name), names)}", name)
        if not isinstance(latex, str):
            raise reader.error(spec, f"the symbol of {name!r} must be LaTeX text", name)
        reader.math_text(spec, f"${latex}$", f"symbol of {name!r}", set())
        symbols[str(name)] = latex
    return symbols
