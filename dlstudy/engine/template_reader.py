"""Reading one template file's fields: every mistake is a LocatedError ``FILE:LINE:COL: what is wrong``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dlstudy.engine.model import ARRAY_KINDS, PARAM_KINDS, Domain, Formula, Param
from dlstudy.errors import Location, LocatedError
from dlstudy.mathtext import expr, parsing
from dlstudy.mathtext.functions import FUNCTIONS, compile_node
from dlstudy.mathtext.markup import placeholder_names, split_math
from dlstudy.suggest import did_you_mean
from dlstudy.yamlfile import position_of

_BARE_WORD = re.compile(r"[A-Za-z_][\w-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FLAG_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
              "with": True, "without": False, "on": True, "off": False}
PARAM_KEYS = {
    "int": ("min", "max", "above", "below", "exclude", "domain", "default", "aliases"),
    "real": ("min", "max", "above", "below", "exclude", "decimals", "domain", "default", "aliases"),
    "choice": ("min", "max", "above", "below", "domain", "default", "aliases"),
    "size": ("max", "default", "aliases"),
    "word": ("default", "aliases", "phrases", "codes"),
    "flag": ("sample", "phrases", "aliases"),
    "vector": ("range", "decimals", "exclude", "min", "max", "above", "below", "domain", "aliases", "default", "stochastic", "entries"),
    "matrix": ("range", "decimals", "exclude", "min", "max", "above", "below", "domain", "aliases", "default", "stochastic", "symmetric", "adjacency"),
    "words": ("vocabulary", "aliases", "distinct"),
    "graph": ("range", "decimals", "exclude", "aliases"),
}


class Reader:
    """Validation helpers that know the file, so every error names FILE:LINE:COL."""

    def __init__(self, path: Path, check_latex: bool = True) -> None:
        self.path = path
        self.check_latex = check_latex  # False for data already validated (from the cache)

    def error(self, node: Any, message: str, key: str | None = None) -> LocatedError:
        line, column = position_of(node, key)
        return LocatedError(Location(str(self.path), line, column), message)

    def mapping(self, parent: Any, key: str, *, required: bool = True) -> dict | None:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.error(parent, f"missing '{key}'")
            return None
        if not isinstance(value, dict):
            raise self.error(parent, f"'{key}' must be a mapping", key)
        return value

    def text(self, parent: Any, key: str, *, required: bool = True, default: str = "") -> str:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.error(parent, f"missing '{key}'")
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.error(parent, f"'{key}' must be text", key)
        return str(value)

    def number(self, parent: Any, key: str, default: float | None = None) -> float | None:
        value = parent.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise self.error(parent, f"'{key}' must be a number, not {value!r}", key)
        return value

    def words(self, parent: Any, key: str) -> tuple[str, ...]:
        value = parent.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(w, str) and _BARE_WORD.fullmatch(w) for w in value):
            raise self.error(parent, f"'{key}' must be a list of words, e.g. [lstm, gates]", key)
        return tuple(value)

    def formula(self, parent: Any, text: Any, where: str, known: set[str], key: str | None = None) -> Formula:
        """``text`` (the value of ``parent[key]``) as a Formula using only ``known`` names."""
        if not isinstance(text, str):
            raise self.error(parent, f"{where} must be a formula in quotes, not {text!r}", key)
        try:
            node = parsing.parse(text)
        except expr.ExprError as exc:
            raise self.error(parent, f"{where}: {exc.message}", key) from None
        unknown_calls = expr.calls(node) - set(FUNCTIONS)
        if unknown_calls:
            name = sorted(unknown_calls)[0]
            raise self.error(parent, f"{where}: unknown function {name!r}{did_you_mean(name, FUNCTIONS)}", key)
        unknown = expr.names(node) - known - set(expr.CONSTANT_NAMES)
        if unknown:
            name = sorted(unknown)[0]
            raise self.error(parent, f"{where}: unknown name {name!r}{did_you_mean(name, known)} (known: {', '.join(sorted(known))})", key)
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
            items = {str(k): (k, v) for k, v in value.items()}
            if known is None:
                return {case: str(v) for case, (_, v) in items.items()}
            return {
                case: self.formula(value, v, f"{where} ({case})" if case else where, known, k)
                for case, (k, v) in items.items()
            }
        every_case = cases or ("",)
        if known is None:
            return dict.fromkeys(every_case, str(value))
        # one formula for every case: parsed and compiled once, not once per case
        first = every_case[0]
        formula = self.formula(parent, value, f"{where} ({first})" if first else where, known, key)
        return dict.fromkeys(every_case, formula)

    def latex(self, parent: Any, cases: tuple[str, ...], where: str) -> dict[str, str]:
        """The step's LaTeX, rendered once here so a bad formula is a located error, not a crash later."""
        items = self.cased(parent, "latex", cases, where, None)
        for text in items.values():
            self._renders(parent, text, where)
        return items

    def math_text(self, parent: Any, text: str, where: str, names: set[str]) -> None:
        """Text with ``$...$`` math: balanced dollars, every math part renders, placeholders are known names."""
        try:
            parts = split_math(text)
        except ValueError as exc:
            raise self.error(parent, f"{where}: {exc}") from None
        for kind, content in parts:
            if kind != "text":
                self._renders(parent, content, where)
        for name in placeholder_names(text):
            if name not in names:
                raise self.error(parent, f"{where}: placeholder {{{name}}} is not a parameter{did_you_mean(name, names)}")

    def _renders(self, parent: Any, latex: str, where: str) -> None:
        if not self.check_latex:
            return
        from dlstudy.mathtext.unicode import latex_to_unicode

        try:
            latex_to_unicode(latex)
        except ValueError as exc:
            raise self.error(parent, f"{where}: {exc}") from None


def parse_param(reader: Reader, name: str, spec: Any, earlier: dict[str, Param]) -> Param:
    """One entry of ``params``; ``earlier`` are the parameters above it (sizes may name them)."""
    if not isinstance(spec, dict):
        raise reader.error(spec, f"parameter '{name}' must be a mapping such as {{int: [1, 5], about: ...}}")
    kinds = [k for k in PARAM_KINDS if k in spec]
    if len(kinds) != 1:
        raise reader.error(spec, f"parameter '{name}' needs exactly one of {', '.join(PARAM_KINDS)}")
    kind = kinds[0]
    allowed = {kind, "about", *PARAM_KEYS[kind]}
    for key in spec:
        if key not in allowed:
            raise reader.error(spec, f"parameter '{name}': unknown key {key!r} for a {kind}{did_you_mean(str(key), allowed)}", key)
    about = reader.text(spec, "about", required=False, default=name)
    aliases = reader.words(spec, "aliases")
    common: dict[str, Any] = dict(about=about, aliases=aliases, exclude=tuple(spec.get("exclude", ()) or ()),
                                  decimals=int(reader.number(spec, "decimals", 0) or 0))
    if kind == "word":
        options = spec[kind]
        if not isinstance(options, list) or not options or not all(isinstance(o, str) and _BARE_WORD.fullmatch(o) for o in options):
            raise reader.error(spec, f"parameter '{name}': 'word' must be a non-empty list of bare words")
        phrases = _word_map(reader, spec, "phrases", options, str, name)
        codes = _word_map(reader, spec, "codes", options, float, name)
        default = spec.get("default")
        if default is not None and default not in options:
            raise reader.error(spec, f"parameter '{name}': default {default!r} is not one of {', '.join(options)}", "default")
        return Param(name, kind, options=tuple(options), phrases=phrases, codes=codes, default=default, **common)
    if kind == "flag":
        default = spec[kind]
        if not isinstance(default, bool):
            raise reader.error(spec, f"parameter '{name}': 'flag' is its default, true or false", kind)
        sample = spec.get("sample", [default])
        if not isinstance(sample, list) or not sample or not all(isinstance(v, bool) for v in sample):
            raise reader.error(spec, f"parameter '{name}': 'sample' must be a list of true/false", "sample")
        phrases = _word_map(reader, spec, "phrases", ["true", "false"], str, name)
        return Param(name, kind, options=tuple(sample), phrases=phrases, default=default, **common)
    if kind == "graph":
        return _graph_param(reader, spec, name, common)
    if kind == "words":
        size = _sizes(reader, spec, name, kind, earlier)
        vocabulary = reader.words(spec, "vocabulary")
        if not vocabulary:
            raise reader.error(spec, f"parameter '{name}': give the words sampling draws from, e.g. vocabulary: [the, cat, sat]")
        distinct = spec.get("distinct", False)
        if not isinstance(distinct, bool):
            raise reader.error(spec, f"parameter '{name}': 'distinct' is true or false", "distinct")
        return Param(name, kind, size=size, vocabulary=vocabulary, distinct=distinct, **common)
    domain = _domain(reader, spec, name, kind)
    default = reader.number(spec, "default") if kind not in ARRAY_KINDS else _array_default(reader, spec, name, earlier)
    if default is not None and not isinstance(default, Formula) and domain.violation(default):
        raise reader.error(spec, f"parameter '{name}': default {default:g} {domain.violation(default)}", "default")
    if kind == "choice":
        options = spec[kind]
        if not isinstance(options, list) or not options or not all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options):
            raise reader.error(spec, f"parameter '{name}': 'choice' must be a non-empty list of numbers (use 'word' for words)")
        return Param(name, kind, options=tuple(options), domain=domain, default=default, **common)
    if kind in ("int", "real", "size"):
        low, high = _range(reader, spec, spec[kind], name)
        return Param(name, kind, low=low, high=high, domain=domain, default=default, **common)
    size = _sizes(reader, spec, name, kind, earlier)
    rng = spec.get("range")
    if rng is None:
        raise reader.error(spec, f"parameter '{name}': give the entries' range, e.g. range: [-2, 2]")
    low, high = _range(reader, spec, rng, name)
    stochastic = spec.get("stochastic", False)
    if not isinstance(stochastic, bool):
        raise reader.error(spec, f"parameter '{name}': 'stochastic' is true or false", "stochastic")
    symmetric = spec.get("symmetric", False)
    if not isinstance(symmetric, bool) or (symmetric and size[0] != size[1]):
        raise reader.error(spec, f"parameter '{name}': 'symmetric: true' needs a square matrix, e.g. matrix: [d, d]", "symmetric")
    adjacency = spec.get("adjacency", "")
    if adjacency not in ("", "directed", "undirected") or (adjacency and (len(size) != 2 or size[0] != size[1])):
        raise reader.error(spec, f"parameter '{name}': 'adjacency' is directed or undirected, on a square matrix such as matrix: [n, n]", "adjacency")
    entries = reader.words(spec, "entries")
    if entries and not all(_IDENTIFIER.fullmatch(e) for e in entries):
        raise reader.error(spec, f"parameter '{name}': 'entries' must be names such as [k1, k2, k3]", "entries")
    return Param(name, kind, low=low, high=high, size=size, domain=domain, default=default, stochastic=stochastic,
                 symmetric=symmetric, adjacency=adjacency, entries=entries, **common)


def _graph_param(reader: Reader, spec: Any, name: str, common: dict[str, Any]) -> Param:
    """A computational graph: the expressions sampling draws from, and the range its inputs are drawn in."""
    from dlstudy.engine.graphs import GraphError, parse_graph

    options = spec["graph"]
    if not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options):
        raise reader.error(spec, f"parameter '{name}': 'graph' must be a list of expressions in quotes, e.g. ['(x + y)*z']")
    for text in options:
        try:
            parse_graph(text)
        except GraphError as exc:
            raise reader.error(spec, f"parameter '{name}': {text!r}: {exc.message}", "graph") from None
    if spec.get("range") is None:
        raise reader.error(spec, f"parameter '{name}': give the range its inputs are drawn from, e.g. range: [-3, 3]")
    low, high = _range(reader, spec, spec["range"], name)
    return Param(name, "graph", options=tuple(options), low=low, high=high, **common)


def _array_default(reader: Reader, spec: Any, name: str, earlier: dict[str, Param]) -> Formula | None:
    """A vector's or matrix's default: a formula of the number parameters above it, filled into its shape
    (``w: {vector: n, default: 'a'}`` makes every box a-wide unless w is given)."""
    if spec.get("default") is None:
        return None
    text = spec["default"]
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(text)
    scalars = {p.name for p in earlier.values() if p.kind not in ARRAY_KINDS}
    return reader.formula(spec, text, f"parameter '{name}' default", scalars, "default")


def _domain(reader: Reader, spec: Any, name: str, kind: str) -> Domain:
    declared = spec.get("domain")
    if declared not in (None, "integer", "real"):
        raise reader.error(spec, f"parameter '{name}': domain must be integer or real, not {declared!r}", "domain")
    if kind == "choice":
        integral = all(float(o).is_integer() for o in spec["choice"])
    else:
        integral = kind in ("int", "size")
    integer = integral if declared is None else declared == "integer"
    minimum = reader.number(spec, "min")
    if kind == "size":
        minimum = 1
        if reader.number(spec, "max") is None:
            raise reader.error(spec, f"parameter '{name}': a size needs 'max', the largest size solve accepts (it bounds the cost)")
    return Domain(integer, minimum, reader.number(spec, "max"), reader.number(spec, "above"), reader.number(spec, "below"))


def _word_map(reader: Reader, spec: Any, key: str, options: list[str], kind: type, name: str) -> dict[str, Any]:
    value = spec.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or {str(k).lower() for k in value} != {o.lower() for o in options}:
        raise reader.error(spec, f"parameter '{name}': '{key}' must give one entry for each of {', '.join(options)}", key)
    out = {}
    for option, item in value.items():
        if kind is float and (isinstance(item, bool) or not isinstance(item, (int, float))):
            raise reader.error(value, f"parameter '{name}': {key} of {option!r} must be a number", option)
        out[str(option).lower()] = kind(item)
    return out


def _sizes(reader: Reader, spec: Any, name: str, kind: str, earlier: dict[str, Param]) -> tuple[Any, ...]:
    size = spec[kind]
    # words: one sentence of n words (words: n), or K sentences of at most L words each (words: [K, L])
    size = (size,) if kind == "vector" or (kind == "words" and not isinstance(size, list)) else size
    dims = (1, 2) if kind == "words" else (2,) if kind == "matrix" else (1,)
    if not isinstance(size, (list, tuple)) or len(size) not in dims:
        raise reader.error(spec, f"parameter '{name}': '{kind}' must give its size, e.g. {kind}: {'[2, n]' if kind == 'matrix' else 3}")
    sizes: list[Any] = []
    integers = {p.name for p in earlier.values() if p.kind in ("int", "size") or (p.kind == "choice" and p.domain.integer)}
    for dim in size:
        if isinstance(dim, int) and not isinstance(dim, bool) and dim >= 1:
            sizes.append(dim)
        elif isinstance(dim, str) and _IDENTIFIER.fullmatch(dim):
            if dim not in integers:
                raise reader.error(spec, f"parameter '{name}': size '{dim}' must name an integer or size parameter above it")
            sizes.append(dim)
        elif isinstance(dim, str):
            formula = reader.formula(spec, dim, f"parameter '{name}' size", integers)
            sizes.append(formula)
        else:
            raise reader.error(spec, f"parameter '{name}': size entries are whole numbers, size parameters or formulas of them")
    return tuple(sizes)


def _range(reader: Reader, spec: Any, value: Any, name: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
    ):
        raise reader.error(spec, f"parameter '{name}': range must be [low, high] with low <= high")
    return value[0], value[1]
