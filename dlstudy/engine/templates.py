"""Problem templates: YAML data files, validated into frozen dataclasses.

A template is pure data (see docs/problems.md).  Its formulas are parsed by
``expr.parse``; its oracle is a name looked up in dlstudy's own registry.  Any
mistake in a file is reported as ``file:line: what is wrong`` with exit code 2.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from dlstudy.mathtext import expr
from dlstudy import filecache
from dlstudy.engine.answers import KINDS
from dlstudy.errors import DlstudyError
from dlstudy.mathtext.functions import FUNCTIONS, compile_node
from dlstudy.mathtext.numbers import DISPLAY_SIGFIGS
from dlstudy.paths import problem_dirs
from dlstudy.suggest import did_you_mean
from dlstudy.yamlfile import LineDict, line_of, load_yaml

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
PARAM_KINDS = ("int", "real", "choice", "word", "vector", "matrix")


@dataclass(frozen=True)
class Formula:
    """A formula as written (``text``), parsed (``node``) and compiled once (``run(env)``)."""

    text: str
    node: expr.Node
    run: Callable[[Mapping[str, Any]], Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # one of PARAM_KINDS
    about: str
    low: float | None = None  # sampling range (int/real and vector/matrix entries)
    high: float | None = None
    decimals: int = 0
    options: tuple[Any, ...] = ()  # choice / word
    size: tuple[str | int, ...] = ()  # vector length / matrix shape, ints or param names
    minimum: float | None = None  # validity domain for solve/check
    maximum: float | None = None
    exclude: tuple[float, ...] = ()

    def describe(self) -> str:
        """One line: what it is and what values it takes."""
        if self.kind == "word":
            domain = "one of " + ", ".join(self.options)
        elif self.kind == "choice":
            integral = all(float(o).is_integer() for o in self.options)
            domain = ("integer" if integral else "number") + ", e.g. " + ", ".join(
                f"{o:g}" for o in sorted(set(self.options))
            )
        elif self.kind in ("vector", "matrix"):
            dims = "x".join(str(s) for s in self.size)
            domain = f"{self.kind} of size {dims}"
        else:
            domain = "integer" if self.kind == "int" else "number"
            bounds = []
            if self.minimum is not None:
                bounds.append(f">= {self.minimum:g}")
            if self.maximum is not None:
                bounds.append(f"<= {self.maximum:g}")
            if bounds:
                domain += " " + " and ".join(bounds)
        return f"{self.about} ({domain})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "about": self.about, "description": self.describe()}


@dataclass(frozen=True)
class Constraint:
    formula: Formula
    message: str
    sampling_only: bool = False
    uses_steps: bool = False  # checked after the steps are evaluated


@dataclass(frozen=True)
class Step:
    name: str
    what: str
    latex: Mapping[str, str]  # case -> LaTeX ("" key when the template has no cases)
    formula: Mapping[str, Formula]
    kind: str | None = None  # how the step is judged; None: from its value and the answer kind
    rtol: float | None = None  # None: the answer's tolerance
    atol: float | None = None


@dataclass(frozen=True)
class Mistake:
    id: str
    step: str
    formula: Mapping[str, Formula]
    feedback: str
    when: Formula | None = None  # the slip only counts where this holds


@dataclass(frozen=True)
class Answer:
    kind: str
    step: str
    rtol: float = 0.01
    atol: float = 1e-9
    sigfigs: int | None = None
    choices: tuple[str, ...] = ()
    variable: str = "x"

    @property
    def shown_sigfigs(self) -> int:
        """Significant figures of every value shown: the display default, more when the answer is judged by more."""
        return max(DISPLAY_SIGFIGS, int(self.sigfigs or 0))


@dataclass(frozen=True)
class Template:
    id: str
    topic: str
    title: str
    statement: Mapping[str, str]  # case -> text ("" key when the template has no cases)
    params: Mapping[str, Param]
    constraints: tuple[Constraint, ...]
    oracle: str
    answer: Answer
    steps: tuple[Step, ...]
    mistakes: tuple[Mistake, ...]
    cases: str | None
    source: str  # file path, for error messages

    def step(self, name: str) -> Step:
        return self._steps_by_name[name]

    @cached_property
    def _steps_by_name(self) -> dict[str, Step]:
        return {step.name: step for step in self.steps}

    def case_of(self, params: Mapping[str, Any]) -> str:
        return str(params[self.cases]) if self.cases else ""

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "title": self.title,
            "kind": self.answer.kind,
            "oracle": self.oracle,
            "steps": len(self.steps),
            "params": {name: p.describe() for name, p in self.params.items()},
        }


# ---------------------------------------------------------------------------
# Loading


class _Reader:
    """Validation helpers that know the file, so every error names file:line."""

    def __init__(self, path: Path, check_latex: bool = True) -> None:
        self.path = path
        self.check_latex = check_latex  # False for data already validated (from the cache)

    def error(self, node: Any, message: str) -> DlstudyError:
        return DlstudyError(f"{self.path}:{line_of(node)}: {message}")

    def mapping(self, parent: Any, key: str, *, required: bool = True) -> LineDict | None:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.error(parent, f"missing '{key}'")
            return None
        if not isinstance(value, dict):
            raise self.error(parent, f"'{key}' must be a mapping")
        return value

    def text(self, parent: Any, key: str, *, required: bool = True, default: str = "") -> str:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.error(parent, f"missing '{key}'")
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.error(parent, f"'{key}' must be text")
        return str(value)

    def number(self, parent: Any, key: str, default: float | None = None) -> float | None:
        value = parent.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise self.error(parent, f"'{key}' must be a number, not {value!r}")
        return value

    def formula(self, parent: Any, text: Any, where: str, known: set[str]) -> Formula:
        if not isinstance(text, str):
            raise self.error(parent, f"{where} must be a formula in quotes, not {text!r}")
        try:
            node = expr.parse(text)
        except expr.ExprError as exc:
            raise self.error(parent, f"{where}: {exc.message}") from None
        unknown_calls = expr.calls(node) - set(FUNCTIONS)
        if unknown_calls:
            raise self.error(parent, f"{where}: unknown function {sorted(unknown_calls)[0]!r}")
        unknown = expr.names(node) - known - set(expr.CONSTANT_NAMES)
        if unknown:
            raise self.error(parent, f"{where}: unknown name {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
        return Formula(text, node, compile_node(node))

    def cased(
        self, parent: Any, key: str, cases: tuple[str, ...], where: str, known: set[str] | None, complete: bool = True
    ) -> dict[str, Any]:
        """A field that is one value or a mapping case -> value; formulas when ``known`` is given, else text."""
        value = parent.get(key)
        if value is None:
            raise self.error(parent, f"{where}: missing '{key}'")
        if isinstance(value, dict):
            if not cases:
                raise self.error(value, f"{where}: '{key}' is a mapping but the template declares no 'cases'")
            extra = set(map(str, value)) - set(cases)
            if extra:
                raise self.error(value, f"{where}: '{key}' has case {sorted(extra)[0]!r}, not one of {', '.join(cases)}")
            missing = [c for c in cases if c not in set(map(str, value))]
            if complete and missing:
                raise self.error(value, f"{where}: '{key}' has no entry for case {missing[0]!r}")
            items = {str(k): v for k, v in value.items()}
        else:
            items = {case: value for case in (cases or ("",))}
        if known is None:
            return {case: str(v) for case, v in items.items()}
        return {case: self.formula(value, v, f"{where} ({case})" if case else where, known) for case, v in items.items()}

    def latex(self, parent: Any, cases: tuple[str, ...], where: str) -> dict[str, str]:
        """The step's LaTeX, rendered once here so a bad formula is a located error, not a crash later."""
        from dlstudy.mathtext.unicode import latex_to_unicode

        items = self.cased(parent, "latex", cases, where, None)
        for text in items.values() if self.check_latex else ():
            try:
                latex_to_unicode(text)
            except ValueError as exc:
                raise self.error(parent, f"{where}: {exc}") from None
        return items


def _parse_param(reader: _Reader, name: str, spec: Any) -> Param:
    if not isinstance(spec, dict):
        raise reader.error(spec, f"parameter '{name}' must be a mapping such as {{int: [1, 5], about: ...}}")
    kinds = [k for k in PARAM_KINDS if k in spec]
    if len(kinds) != 1:
        raise reader.error(spec, f"parameter '{name}' needs exactly one of {', '.join(PARAM_KINDS)}")
    kind = kinds[0]
    about = reader.text(spec, "about", required=False, default=name)
    common = dict(
        minimum=reader.number(spec, "min"),
        maximum=reader.number(spec, "max"),
        decimals=int(reader.number(spec, "decimals", 0) or 0),
        exclude=tuple(spec.get("exclude", ()) or ()),
    )
    if kind in ("choice", "word"):
        options = spec[kind]
        if not isinstance(options, list) or not options:
            raise reader.error(spec, f"parameter '{name}': '{kind}' must be a non-empty list")
        if kind == "word" and not all(isinstance(o, str) and re.fullmatch(r"[A-Za-z_][\w-]*", o) for o in options):
            raise reader.error(spec, f"parameter '{name}': 'word' options must be bare words")
        if kind == "choice" and not all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options):
            raise reader.error(spec, f"parameter '{name}': 'choice' options must be numbers (use 'word' for words)")
        return Param(name, kind, about, options=tuple(options), **common)
    if kind in ("int", "real"):
        low, high = _range(reader, spec, spec[kind], name)
        return Param(name, kind, about, low=low, high=high, **common)
    size = spec[kind]
    size = (size,) if kind == "vector" else size
    if not isinstance(size, (list, tuple)) or len(size) != (1 if kind == "vector" else 2):
        raise reader.error(spec, f"parameter '{name}': '{kind}' must give its size, e.g. vector: 3 or matrix: [2, h]")
    for dim in size:
        if not (isinstance(dim, int) or isinstance(dim, str)):
            raise reader.error(spec, f"parameter '{name}': size entries are integers or parameter names")
    rng = spec.get("range")
    if rng is None:
        raise reader.error(spec, f"parameter '{name}': give the entries' range, e.g. range: [-2, 2]")
    low, high = _range(reader, spec, rng, name)
    return Param(name, kind, about, low=low, high=high, size=tuple(size), **common)


def _range(reader: _Reader, spec: Any, value: Any, name: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
    ):
        raise reader.error(spec, f"parameter '{name}': range must be [low, high] with low <= high")
    return value[0], value[1]


def parse_template(path: Path) -> Template:
    """Read and validate one template file."""
    return build_template(path, load_yaml(path))


def build_template(path: Path, data: Any, check_latex: bool = True) -> Template:
    """Validate a template's data (as loaded from ``path``) into a Template."""
    reader = _Reader(path, check_latex)
    if not isinstance(data, dict):
        raise reader.error(data, "a problem template must be a mapping")
    template_id = reader.text(data, "id")
    if not ID_PATTERN.match(template_id):
        raise reader.error(data, f"id {template_id!r} must be lowercase letters, digits and dashes")
    if template_id != path.stem:
        raise reader.error(data, f"id {template_id!r} must match the file name {path.name!r}")
    allowed = {
        "id", "topic", "title", "statement", "params", "constraints", "oracle", "answer", "steps", "mistakes", "cases",
    }
    unknown_keys = set(data) - allowed
    if unknown_keys:
        key = sorted(unknown_keys)[0]
        raise reader.error(data, f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}")

    param_specs = reader.mapping(data, "params")
    params = {str(name): _parse_param(reader, str(name), spec) for name, spec in param_specs.items()}
    for p in params.values():
        for dim in p.size:
            if isinstance(dim, str) and (dim not in params or params[dim].kind not in ("int", "choice")):
                raise reader.error(param_specs, f"parameter '{p.name}': size '{dim}' must name an integer parameter")
    cases_name = data.get("cases")
    cases: tuple[str, ...] = ()
    if cases_name is not None:
        if cases_name not in params or params[cases_name].kind != "word":
            raise reader.error(data, f"'cases' must name a 'word' parameter, not {cases_name!r}")
        cases = tuple(params[cases_name].options)

    known = set(params)
    answer_spec = reader.mapping(data, "answer")
    kind = reader.text(answer_spec, "kind")
    if kind not in KINDS:
        raise reader.error(answer_spec, f"answer kind {kind!r} is not one of {', '.join(KINDS)}")
    variable = reader.text(answer_spec, "variable", required=False, default="x")

    step_specs = data.get("steps")
    if not isinstance(step_specs, list) or not step_specs:
        raise reader.error(data, "'steps' must be a non-empty list")
    steps = []
    for item in step_specs:
        if not isinstance(item, dict):
            raise reader.error(item, "each step must be a mapping with name, latex and expr")
        name = reader.text(item, "name")
        if name in known:
            raise reader.error(item, f"step name {name!r} is already a parameter or an earlier step")
        step_known = known | ({variable} if kind == "expression" else set())
        step_kind = item.get("kind")
        if step_kind is not None and step_kind not in ("integer", "real", "vector", "matrix"):
            raise reader.error(item, f"step '{name}': kind must be integer, real, vector or matrix, not {step_kind!r}")
        steps.append(
            Step(
                name=name,
                what=reader.text(item, "what", required=False, default=name),
                latex=reader.latex(item, cases, f"step '{name}' latex"),
                formula=reader.cased(item, "expr", cases, f"step '{name}'", step_known),
                kind=step_kind,
                rtol=reader.number(item, "rtol"),
                atol=reader.number(item, "atol"),
            )
        )
        known = known | {name}
    step_names = [s.name for s in steps]
    constraints = []
    for item in data.get("constraints") or ():
        if not isinstance(item, dict) or "when" not in item or "message" not in item:
            raise reader.error(item, "each constraint needs 'when' (a condition) and 'message'")
        formula = reader.formula(item, item["when"], "constraint", set(params) | set(step_names))
        constraints.append(
            Constraint(
                formula,
                reader.text(item, "message"),
                bool(item.get("sampling_only", False)),
                uses_steps=bool(expr.names(formula.node) & set(step_names)),
            )
        )

    answer_step = reader.text(answer_spec, "step", required=False, default=step_names[-1])
    if answer_step not in step_names:
        raise reader.error(answer_spec, f"answer step {answer_step!r} is not a step name")
    choices = answer_spec.get("choices") or ()
    if kind == "choice" and (not isinstance(choices, list) or len(choices) < 2):
        raise reader.error(answer_spec, "a choice answer needs a list of at least two 'choices'")
    answer = Answer(
        kind=kind,
        step=answer_step,
        rtol=float(reader.number(answer_spec, "rtol", 0.01)),
        atol=float(reader.number(answer_spec, "atol", 1e-9)),
        sigfigs=reader.number(answer_spec, "sigfigs"),
        choices=tuple(str(c) for c in choices),
        variable=variable,
    )

    mistakes = []
    for item in data.get("mistakes") or ():
        if not isinstance(item, dict):
            raise reader.error(item, "each mistake needs 'id', 'expr' and 'feedback'")
        step_name = reader.text(item, "step", required=False, default=answer_step)
        if step_name not in step_names:
            raise reader.error(item, f"mistake step {step_name!r} is not a step name")
        index = step_names.index(step_name)
        mistake_known = set(params) | set(step_names[:index]) | ({variable} if kind == "expression" else set())
        mistakes.append(
            Mistake(
                id=reader.text(item, "id"),
                step=step_name,
                formula=reader.cased(item, "expr", cases, f"mistake '{item.get('id')}'", mistake_known, complete=False),
                feedback=reader.text(item, "feedback"),
                when=reader.formula(item, item["when"], f"mistake '{item.get('id')}' when", mistake_known)
                if "when" in item
                else None,
            )
        )

    oracle = reader.text(data, "oracle")
    from dlstudy.engine import oracles

    if not oracles.exists(oracle):
        hint = did_you_mean(oracle, oracles.names())
        raise reader.error(data, f"unknown oracle {oracle!r}{hint}")

    statement = reader.cased(data, "statement", cases, "statement", None)
    for text in statement.values():
        for placeholder in PLACEHOLDER.findall(text):
            if placeholder not in params:
                raise reader.error(data, f"statement placeholder {{{placeholder}}} is not a parameter")

    return Template(
        id=template_id,
        topic=reader.text(data, "topic"),
        title=reader.text(data, "title"),
        statement={case: text.strip() for case, text in statement.items()},
        params=params,
        constraints=tuple(constraints),
        oracle=oracle,
        answer=answer,
        steps=tuple(steps),
        mistakes=tuple(mistakes),
        cases=cases_name,
        source=str(path),
    )


@lru_cache(maxsize=None)
def _template_files(dirs: tuple[Path, ...]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yaml")):
            if path.stem in files:
                raise DlstudyError(f"duplicate problem id {path.stem!r}: {files[path.stem]} and {path}")
            files[path.stem] = path
    return files


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> Template:
    """A template; its validated data comes from a JSON cache while the file is unchanged.

    A hit skips the YAML parse and the LaTeX rendering check (a third of the
    time to load all templates); formulas are still parsed and compiled.
    """
    cached = filecache.read("problems", path)
    if cached is not None:
        try:
            return build_template(path, cached, check_latex=False)
        except DlstudyError:
            pass  # e.g. an oracle renamed since: validate the file itself
    data = load_yaml(path)
    template = build_template(path, data)
    filecache.write("problems", path, data)
    return template


def template_ids() -> list[str]:
    return list(_template_files(problem_dirs()))


def get_template(template_id: str) -> Template:
    """The template with this id, or a DlstudyError with a "did you mean"."""
    files = _template_files(problem_dirs())
    path = files.get(template_id)
    if path is None:
        raise DlstudyError(f"unknown problem id {template_id!r}{did_you_mean(template_id, files)}")
    return _load(path, os.path.getmtime(path))


def all_templates(topic: str | None = None) -> list[Template]:
    templates = [get_template(i) for i in template_ids()]
    if topic is not None:
        topics = sorted({t.topic for t in templates})
        if topic not in topics:
            raise DlstudyError(f"unknown topic {topic!r}{did_you_mean(topic, topics)}; topics: {', '.join(topics)}")
        templates = [t for t in templates if t.topic == topic]
    return templates
