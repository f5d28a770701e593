"""The numbers of a student's own exercise (``solve``/``check``): parsed and checked against the template's domain.

Parameters may be given by name or by an alias (the statement's symbol);
parameters with a default may be left out; a size that an array already
shows (the length of ``z=[2, 1, 0.1, 3]``) is read off the array.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy import limits
from dlstudy.engine import graphs
from dlstudy.engine.answers import AnswerFormatError, parse_answer
from dlstudy.engine.evaluation import describe_violation, first_violated, formula_values
from dlstudy.engine.model import SENTENCE_SEPARATOR, Formula, Param, Sentence, Template
from dlstudy.engine.template_reader import FLAG_WORDS
from dlstudy.errors import DlstudyError
from dlstudy.mathtext import expr
from dlstudy.suggest import did_you_mean

MAX_SHOWN = 80  # characters of a student's value quoted in an error message


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["n=32", "W=[[1,2],[3,4]]"]`` -> ``{"n": "32", "W": "[[1,2],[3,4]]"}``."""
    raw: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise DlstudyError(f"parameter {_quote(item)} must look like name=value, e.g. n=32")
        if name in raw:
            raise DlstudyError(f"parameter {name!r} is given twice")
        raw[name] = text.strip()
    return raw


def coerce_params(template: Template, raw: Mapping[str, str]) -> dict[str, Any]:
    """Check and convert a student's parameters; every problem is a one-line DlstudyError."""
    template = _concrete_for(template, raw)
    raw = _by_name(template, raw)
    params: dict[str, Any] = {}
    inferred: dict[str, int] = {}
    # arrays first, so that sizes they show are known before sizes are checked; a matrix typed as a flat
    # list (a row or a column?) last, so that it can take the orientation the other sizes call for
    flat = {n for n, p in template.params.items() if n in raw and p.kind == "matrix" and _is_flat(raw[n])}
    for name, param in sorted(template.params.items(), key=lambda item: item[0] in flat):
        if name in raw and param.kind in ("vector", "matrix", "words"):
            params[name] = _coerce_array(param, raw[name])
            if name in flat:
                params[name] = _orient_flat(param, params[name], {**_given_sizes(template, raw), **inferred})
            _infer_sizes(template, param, params[name], inferred, raw)
    missing = [n for n, p in template.params.items() if n not in raw and n not in inferred and not p.optional]
    if missing:
        described = "; ".join(f"{n} = {template.params[n].describe()}" for n in missing)
        raise DlstudyError(f"{template.id} needs {', '.join(missing)}: {described}")
    for name, param in template.params.items():
        if param.kind in ("vector", "matrix", "words"):
            continue
        if name in raw:
            params[name] = _coerce(param, raw[name])
        elif name in inferred:
            params[name] = inferred[name]
            _check_domain(param, float(inferred[name]), f"{name} (read off the arrays' sizes)")
        else:
            params[name] = param.default
    for name, param in template.params.items():
        if param.kind in ("vector", "matrix") and name not in params:
            params[name] = _array_default(template, param, params)
    params = {name: params[name] for name in template.params}  # declaration order
    env = template.env(params)
    for name, param in template.params.items():
        if param.kind in ("vector", "matrix", "words"):
            _check_shape(template, param, params[name], env)
    if template.cost is not None:
        try:
            work = float(np.asarray(template.cost.run(env)))
        except expr.ExprError as exc:
            raise DlstudyError(f"invalid parameters for {template.id}: {exc.message}") from None
        names = sorted(expr.names(template.cost.node) & set(template.params))
        limits.check_work(work, f"the work for {', '.join(names)} ({template.cost.text})")
    violated = first_violated(template, env, sampling=False)
    if violated is not None:
        raise DlstudyError(f"invalid parameters for {template.id}: {describe_violation(violated, env)}")
    try:
        with np.errstate(all="ignore"):
            values = formula_values(template, params)
    except expr.ExprError as exc:
        raise DlstudyError(f"invalid parameters for {template.id}: {exc.message}") from None
    violated = first_violated(template, values, sampling=False, after_steps=True)
    if violated is not None:
        raise DlstudyError(f"invalid parameters for {template.id}: {describe_violation(violated, values)}")
    return params


def _concrete_for(template: Template, raw: Mapping[str, str]) -> Template:
    """A graph template made concrete for the student's expression, whose inputs are then its parameters."""
    param = graphs.graph_param(template)
    if param is None:
        return template
    given = [raw[n] for n in (param.name, *param.aliases) if n in raw]
    if not given:
        names = "/".join((param.name, *param.aliases))
        raise DlstudyError(f"{template.id} needs {names}, the expression, before its inputs: {param.describe()}")
    text = given[0].strip()
    try:
        return graphs.specialise(template, text)
    except graphs.GraphError as exc:
        raise DlstudyError(f"{_where(param)}: {_quote(text)}: {exc.message}") from None


def _by_name(template: Template, raw: Mapping[str, str]) -> dict[str, str]:
    """The given values keyed by parameter name (aliases resolved, entries gathered into their vector)."""
    names = {alias: p.name for p in template.params.values() for alias in (p.name, *p.aliases)}
    raw = _gather_entries(template, raw)
    out: dict[str, str] = {}
    several: dict[str, list[tuple[int, str]]] = {}
    for given, text in raw.items():
        if given not in names:
            listed = ", ".join(_signature(p) for p in template.params.values())
            raise DlstudyError(f"{template.id} has no parameter {given!r}{did_you_mean(given, names)} (parameters: {listed})")
        name = names[given]
        param = template.params[name]
        if _several_sentences(param):
            # sentences may also come one per alias (r1="..." r2="..."), collected in the order of the aliases
            several.setdefault(name, []).append(((param.name, *param.aliases).index(given), text))
            continue
        if name in out:
            raise DlstudyError(f"parameter {name!r} is given twice (once as {given!r})")
        out[name] = text
    for name, texts in several.items():
        out[name] = f" {SENTENCE_SEPARATOR} ".join(text for _, text in sorted(texts))
    return out


def _gather_entries(template: Template, raw: Mapping[str, str]) -> dict[str, str]:
    """``k1=3 k2=2 k3=3`` -> ``k=[3, 2, 3]`` for a vector that lists ``entries: [k1, k2, k3]`` (the names an
    older fixed-size form of the template used); all of them or none, and not together with the vector."""
    out = dict(raw)
    for param in template.params.values():
        given = [e for e in param.entries if e in out]
        if not given:
            continue
        missing = [e for e in param.entries if e not in out]
        if missing:
            raise DlstudyError(
                f"parameter {param.name} is given entry by entry as {', '.join(param.entries)}; {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing (or give the whole vector, {param.name}=[...])"
            )
        if any(alias in out for alias in (param.name, *param.aliases)):
            raise DlstudyError(f"parameter {param.name} is given twice (as a vector and as {', '.join(given)})")
        out[param.name] = "[" + ", ".join(out.pop(e) for e in param.entries) + "]"
    return out
def _several_sentences(param: Param) -> bool:
    return param.kind == "words" and len(param.size) == 2


def _signature(param: Param) -> str:
    shown = param.name + (f"/{'/'.join(param.aliases)}" if param.aliases else "")
    shown += f" (or {', '.join(param.entries)})" if param.entries else ""
    return f"[{shown}]" if param.optional else shown


def _quote(text: str) -> str:
    return repr(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…")


def _where(param: Param) -> str:
    return f"parameter {param.name} ({param.about_text})"


def _coerce(param: Param, text: str) -> Any:
    if param.kind == "word":
        word = text.strip().lower()
        options = {o.lower(): o for o in param.options}
        if word not in options:
            raise DlstudyError(f"{_where(param)} must be one of {', '.join(param.options)}, not {_quote(text)}{did_you_mean(word, options)}")
        return options[word]
    if param.kind == "graph":
        return text.strip()  # parsed by _concrete_for
    if param.kind == "flag":
        word = text.strip().lower()
        if word not in FLAG_WORDS:
            raise DlstudyError(f"{_where(param)} must be true or false (or yes/no, 1/0, with/without), not {_quote(text)}")
        return FLAG_WORDS[word]
    try:
        value = parse_answer("real", text)
    except AnswerFormatError as exc:
        raise DlstudyError(f"{_where(param)}: {exc.message}") from None
    _check_domain(param, value, param.name)
    return int(value) if param.domain.integer else value


def _check_domain(param: Param, value: float, shown: str) -> None:
    problem = param.domain.violation(value)
    if problem:
        raise DlstudyError(f"{_where(param)}: {shown} {problem}, got {value:g}")


def _coerce_array(param: Param, text: str) -> Any:
    if param.kind == "words":
        # "the cat sat", or word ids typed as a list ("[1, 2, 3]", as before sentences were words);
        # several sentences are separated by |: "the cat sat | a cat sat"
        spaced = text.strip().removeprefix("[").removesuffix("]").replace(",", " ").replace(SENTENCE_SEPARATOR, f" {SENTENCE_SEPARATOR} ")
        sentence = Sentence(tuple(w for w in spaced.split() if w))
        if not _several_sentences(param):
            if not sentence.words or SENTENCE_SEPARATOR in sentence.words:
                raise DlstudyError(f"{_where(param)} must be one sentence of words, e.g. \"the cat sat\"")
        elif not all(sentence.sentences):
            raise DlstudyError(f"{_where(param)} must be sentences of words separated by {SENTENCE_SEPARATOR}, "
                               f"e.g. \"the cat sat {SENTENCE_SEPARATOR} a cat sat\"")
        return sentence
    try:
        value = parse_answer(param.kind, text)
    except AnswerFormatError as exc:
        raise DlstudyError(f"{_where(param)}: {exc.message}") from None
    for entry in value.reshape(-1):
        problem = param.domain.violation(float(entry))
        if problem:
            raise DlstudyError(f"{_where(param)}: every entry {problem}, got {float(entry):g}")
    if param.symmetric and (value.ndim != 2 or value.shape[0] != value.shape[1] or not np.array_equal(value, value.T)):
        raise DlstudyError(f"{_where(param)} must be a symmetric matrix (entry i, j equal to entry j, i)")
    return value


def _array_default(template: Template, param: Param, params: Mapping[str, Any]) -> np.ndarray:
    """An array left out: its default formula (of the number parameters) filled into its shape, checked."""
    env = template.env(params)
    shape = []
    for dim in param.size:
        if isinstance(dim, Formula):
            shape.append(int(np.asarray(dim.run(env))))
        elif isinstance(dim, str):
            if dim not in env:
                raise DlstudyError(f"{template.id}: give {param.name} or the size {dim} (no array shows it)")
            shape.append(int(env[dim]))
        else:
            shape.append(int(dim))
    try:
        with np.errstate(all="ignore"):
            value = np.broadcast_to(np.asarray(param.default.run(env), dtype=float), tuple(shape)).copy()
    except (expr.ExprError, ValueError) as exc:
        raise DlstudyError(f"{_where(param)}: its default {param.default.text} does not fit: {exc}") from None
    for entry in value.reshape(-1):
        problem = param.domain.violation(float(entry))
        if problem:
            raise DlstudyError(f"{_where(param)} was left out, and its default {param.default.text} gives {float(entry):g}: "
                               f"every entry {problem}")
    return value


def _shape_of(value: Any, param: Param) -> tuple[int, ...]:
    """An array's shape; a sentence's number of words; several sentences' number and the longest's length."""
    if isinstance(value, Sentence) and _several_sentences(param):
        return (len(value.sentences), max(len(s) for s in value.sentences))
    return (len(value),) if isinstance(value, Sentence) else tuple(np.shape(value))


def _infer_sizes(template: Template, param: Param, value: Any, inferred: dict[str, int], raw: Mapping[str, str]) -> None:
    """Sizes named by the array's dimensions, read off its shape (checked against other arrays later)."""
    shape = _shape_of(value, param)
    if len(shape) != len(param.size):
        return  # reported by _check_shape
    for dim, actual in zip(param.size, shape):
        if isinstance(dim, str) and dim not in raw and dim not in inferred:
            inferred[dim] = int(actual)
        elif isinstance(dim, Formula):
            linear = _linear_size(dim.node)  # 4*m or V-1: 8 biases show m = 2, 3 columns show V = 4
            if linear and linear[0] not in raw and linear[0] not in inferred:
                name, scale, offset = linear
                if (int(actual) - offset) % scale == 0 and (int(actual) - offset) // scale >= 1:
                    inferred[name] = (int(actual) - offset) // scale


def _linear_size(node: expr.Node) -> tuple[str, int, int] | None:
    """``(name, a, b)`` for a size written ``a*name + b`` (``4*m``, ``m*4``, ``V-1``, ``2*U + 1``); else None."""
    if isinstance(node, expr.Group):
        return _linear_size(node.inner)
    if isinstance(node, expr.Name):
        return node.id, 1, 0
    if isinstance(node, expr.Binary) and node.op == "*":
        for factor, name in ((node.left, node.right), (node.right, node.left)):
            if isinstance(factor, expr.Num) and isinstance(name, expr.Name) and float(factor.value).is_integer() and factor.value >= 1:
                return name.id, int(factor.value), 0
    if isinstance(node, expr.Binary) and node.op in ("+", "-") and isinstance(node.right, expr.Num):
        inner = _linear_size(node.left)
        if inner and float(node.right.value).is_integer():
            offset = int(node.right.value) * (1 if node.op == "+" else -1)
            return inner[0], inner[1], inner[2] + offset
    return None


def _wanted_shape(param: Param, env: Mapping[str, Any]) -> tuple[int, ...]:
    want = []
    for dim in param.size:
        if isinstance(dim, Formula):
            want.append(int(np.asarray(dim.run(env))))
        else:
            want.append(int(env[dim]) if isinstance(dim, str) else int(dim))
    return tuple(want)


def _is_flat(text: str) -> bool:
    """A matrix typed as one flat list or number (``[1, 2, 3]``, ``0.5``), not as rows."""
    return text.count("[") <= 1 and ";" not in text


def _given_sizes(template: Template, raw: Mapping[str, str]) -> dict[str, int]:
    sizes = {}
    for name, text in raw.items():
        if template.params[name].kind in ("int", "size", "choice"):
            try:
                sizes[name] = int(float(text))
            except ValueError:
                pass  # reported when the parameter itself is read
    return sizes


def _orient_flat(param: Param, value: Any, known: Mapping[str, int]) -> Any:
    """A flat list typed for a matrix, as the row or the column that fits the sizes known so far.

    ``u=[0.1, 0.2, 0.3, 0.4]`` for a 4m x m matrix is a column (m = 1), as a one-unit recurrent layer's
    weights were written before sizes were parameters; ``Q=[1, 2]`` for an nq x d matrix stays a row.
    """
    for candidate in (value, value.T):
        sizes = dict(known)
        fits = True
        for dim, actual in zip(param.size, candidate.shape):
            if isinstance(dim, int):
                fits = fits and dim == actual
            elif isinstance(dim, str):
                fits = fits and sizes.setdefault(dim, actual) == actual
        for dim, actual in zip(param.size, candidate.shape):
            if fits and isinstance(dim, Formula):
                try:
                    fits = int(np.asarray(dim.run(sizes))) == actual
                except (expr.ExprError, KeyError, TypeError, ValueError):
                    pass  # a size not known yet: checked with the others later
        if fits:
            return candidate
    return value


def _check_shape(template: Template, param: Param, value: Any, env: Mapping[str, Any]) -> None:
    want = list(_wanted_shape(param, env))
    got = _shape_of(value, param)
    if tuple(want) != got:
        dims = " x ".join(
            f"{d.text if isinstance(d, Formula) else d}={w}" if not isinstance(d, int) else str(d)
            for d, w in zip(param.size, want)
        )
        raise DlstudyError(f"{_where(param)} must have shape {dims}, got {' x '.join(map(str, got)) or 'a single number'}")
