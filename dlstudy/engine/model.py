"""A problem template as data: frozen dataclasses, validated from YAML by ``engine.templates``.

A template models an exercise *type*: its parameters have a sampling range
that makes nice exercises and a domain (every value for which the question
makes sense) that ``solve``/``check`` accept; sizes are parameters; conventions
are named parameters whose defaults the statement prints.  See docs/problems.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from dlstudy.mathtext import expr, lines, parsing
from dlstudy.mathtext.functions import CONSTANTS
from dlstudy.mathtext.numbers import DISPLAY_SIGFIGS, format_number

PARAM_KINDS = ("int", "real", "choice", "word", "flag", "size", "vector", "matrix", "words", "graph")
ARRAY_KINDS = ("vector", "matrix", "words")


@dataclass(frozen=True)
class Formula:
    """A formula as written (``text``), parsed (``node``) and compiled once (``run(env)``)."""

    text: str
    node: expr.Node
    run: Callable[[Mapping[str, Any]], Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Domain:
    """The values ``solve``/``check`` accept for a number (or for each entry of an array)."""

    integer: bool = False
    minimum: float | None = None  # inclusive bounds
    maximum: float | None = None
    above: float | None = None  # exclusive bounds
    below: float | None = None

    def violation(self, value: float) -> str | None:
        """Why ``value`` is outside the domain (e.g. "must be >= 1"), or None."""
        if not math.isfinite(value):
            return "must be a finite number"
        if self.integer and value != int(value):
            return "must be a whole number"
        if self.minimum is not None and value < self.minimum:
            return f"must be >= {format_number(self.minimum)}"
        if self.maximum is not None and value > self.maximum:
            return f"must be <= {format_number(self.maximum)}"
        if self.above is not None and value <= self.above:
            return f"must be > {format_number(self.above)}"
        if self.below is not None and value >= self.below:
            return f"must be < {format_number(self.below)}"
        return None

    def describe(self) -> str:
        """``a whole number >= 1``, ``a number in (0, 1)``, ``any number``."""
        noun = "a whole number" if self.integer else "a number"
        low = (f"[{format_number(self.minimum)}" if self.minimum is not None
               else f"({format_number(self.above)}" if self.above is not None else None)
        high = (f"{format_number(self.maximum)}]" if self.maximum is not None
                else f"{format_number(self.below)})" if self.below is not None else None)
        if low and high:
            return f"{noun} in {low}, {high}"
        if low:
            return f"{noun} {'>=' if low[0] == '[' else '>'} {low[1:]}"
        if high:
            return f"{noun} {'<=' if high[-1] == ']' else '<'} {high[:-1]}"
        return "any whole number" if self.integer else "any number"


SENTENCE_SEPARATOR = "|"


@dataclass(frozen=True)
class Sentence:
    """A sequence of words (a sentence of a BLEU or n-gram exercise); formulas see word ids.

    A parameter of several sentences (``words: [K, L]``, e.g. BLEU's references) holds them in one
    sequence separated by ``|`` tokens, which is also how a student types them: "the cat sat | a cat sat".
    """

    words: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(self.words)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def sentences(self) -> tuple[tuple[str, ...], ...]:
        """The sentences between the ``|`` separators (one, for a plain sentence)."""
        out: list[tuple[str, ...]] = [()]
        for word in self.words:
            if word == SENTENCE_SEPARATOR:
                out.append(())
            else:
                out[-1] += (word,)
        return tuple(out)

    @classmethod
    def joined(cls, sentences: Any) -> "Sentence":
        """Several sentences (each a sequence of words) as one value, separated by ``|``."""
        words: list[str] = []
        for i, sentence in enumerate(sentences):
            words += ([SENTENCE_SEPARATOR] if i else []) + list(sentence)
        return cls(tuple(words))

    def quoted(self) -> str:
        """As a statement shows it: "the cat sat", or "the cat sat", "a cat" and "on the mat"."""
        shown = [f'"{" ".join(sentence)}"' for sentence in self.sentences]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # one of PARAM_KINDS
    about: str  # what it is, for people (may hold $...$ math)
    low: float | None = None  # sampling range (int/real/size, and vector/matrix entries)
    high: float | None = None
    decimals: int = 0
    options: tuple[Any, ...] = ()  # choice / word options; flag: the values sampling draws; graph: its expressions
    size: tuple[Any, ...] = ()  # vector/matrix/words dimensions: ints, size-parameter names or Formulas
    domain: Domain = Domain()  # the value (or each entry) solve/check accept
    exclude: tuple[float, ...] = ()  # values sampling never draws
    default: Any = None  # solve/check use it when the parameter is not given (an array's: a Formula)
    aliases: tuple[str, ...] = ()  # other names solve/check accept (the statement's symbol)
    entries: tuple[str, ...] = ()  # vector: names that each give one entry, in order (k1, k2, k3 for k)
    phrases: Mapping[str, str] = field(default_factory=dict)  # word/flag: how the statement says each value
    codes: Mapping[str, float] = field(default_factory=dict)  # word: its number in formulas
    vocabulary: tuple[str, ...] = ()  # words: the words sampling draws from
    stochastic: bool = False  # vector/matrix: sampling draws each row as a probability distribution
    symmetric: bool = False  # matrix: sampling mirrors it, solve/check refuse one that is not (a covariance)
    adjacency: str = ""  # square matrix: sampling draws a graph without self-loops, "directed" or "undirected"
    distinct: bool = False  # words: sampling draws each word of the vocabulary at most once (a list of words)

    @property
    def optional(self) -> bool:
        return self.default is not None

    @cached_property
    def sized_by_formula(self) -> bool:
        """Whether a size is a formula (read through ``Template.env``) rather than a number or a parameter's name."""
        return any(isinstance(d, Formula) for d in self.size)

    def shape_text(self) -> str:
        dims = [d.text if isinstance(d, Formula) else str(d) for d in self.size]
        return " x ".join(dims)

    def describe(self) -> str:
        """One line: what it is and what values it takes."""
        return f"{self.about_text} ({self.domain_text()})"

    @property
    def about_text(self) -> str:
        """``about`` with its math as terminal Unicode."""
        return lines.line(lines.text_pieces(self.about))

    def domain_text(self) -> str:
        if self.kind == "word":
            return "one of " + ", ".join(dict.fromkeys(self.options))  # a word listed twice is drawn twice as often
        if self.kind == "flag":
            return "true or false"
        if self.kind == "words" and len(self.size) == 2:
            dims = [d.text if isinstance(d, Formula) else str(d) for d in self.size]
            return f"{dims[0]} sentences of at most {dims[1]} words, separated by {SENTENCE_SEPARATOR}"
        if self.kind == "words":
            return f"a sentence of {self.shape_text()} words"
        if self.kind == "graph":
            return f"an expression of its inputs, e.g. {self.options[0]}"
        if self.kind in ("vector", "matrix"):
            entries = self.domain.describe()
            return f"{'symmetric ' if self.symmetric else ''}{self.kind} of size {self.shape_text()}, entries {entries.replace('a whole number', 'whole numbers').replace('a number', 'numbers')}"
        return self.domain.describe()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "about": self.about,
            "domain": self.domain_text(),
            "description": self.describe(),
        }
        if self.size:
            data["shape"] = self.shape_text()
        if self.kind in ("word", "choice", "graph"):
            data["options"] = list(self.options)
        if self.default is not None:
            data["default"] = self.default.text if isinstance(self.default, Formula) else self.default
        if self.aliases:
            data["aliases"] = list(self.aliases)
        if self.entries:
            data["entries"] = list(self.entries)
        return data


@dataclass(frozen=True)
class Constraint:
    formula: Formula
    message: str
    sampling_only: bool = False
    steps_used: frozenset[str] = frozenset()  # the steps it names; checked once they are evaluated
    # its ``and``-terms on the parameters alone, which a sampler can try as soon as their parameters are drawn,
    # before any step (every term must hold, so one that fails rejects the draw just as the whole would)
    param_terms: tuple[Formula, ...] = ()

    @property
    def uses_steps(self) -> bool:
        return bool(self.steps_used)


@dataclass(frozen=True)
class Step:
    name: str
    what: str  # what the quantity is (may hold $...$ math)
    latex: Mapping[str, str]  # case -> LaTeX ("" key when the template has no cases)
    formula: Mapping[str, Formula]
    kind: str | None = None  # how the step is judged; None: from its value and the answer kind
    rtol: float | None = None  # None: the answer's tolerance
    atol: float | None = None
    show: Mapping[str, str] | None = None  # the worked line as a textbook writes it (text, $...$, {names})
    # A step of a recurrence (h_t for t = 1..T): evaluated once per t, its value the rows stacked.  Consecutive
    # repeated steps form one loop; ``loop`` names them all, ``start`` is the value of NAME_prev at t = 1.
    repeat: Formula | None = None
    start: Formula | None = None
    loop: tuple[str, ...] = ()


# Names a repeated step's formula sees: the time step t (1, 2, ...) and, for each step X of its loop, X_prev
# (X's row at t - 1, or X's start at t = 1); a step earlier in the loop is its row at t.
LOOP_INDEX = "t"
PREVIOUS_SUFFIX = "_prev"


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
    parts: tuple[str, ...] = ()  # every quantity the question asks for (steps), in order; () = (step,)

    @property
    def shown_sigfigs(self) -> int:
        """Significant figures of every value shown: the display default, more when the answer is judged by more."""
        return max(DISPLAY_SIGFIGS, int(self.sigfigs or 0))

    @property
    def asked(self) -> tuple[str, ...]:
        return self.parts or (self.step,)


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
    tags: tuple[str, ...] = ()
    symbols: Mapping[str, str] = field(default_factory=dict)  # name -> LaTeX, how formulas print it
    cost: Formula | None = None  # work the oracle does, in elements; refused above engine's limit

    def step(self, name: str) -> Step:
        return self._steps_by_name[name]

    @cached_property
    def _steps_by_name(self) -> dict[str, Step]:
        return {step.name: step for step in self.steps}

    def param_checks(self, sampling: bool) -> Mapping[str, Sequence[Formula]]:
        """Parameter name -> the constraint terms on parameters alone (those for sampling only when ``sampling``)
        whose last parameter in file order is that one: they can be tried as soon as it is drawn."""
        return self._checks[sampling][0]

    def unsettled(self, sampling: bool) -> tuple[Formula, ...]:
        """What is left to try once every ``param_checks`` holds: the constraints on parameters alone but those of
        one term tried there (a whole of several terms needs each to be one truth, a term may hold entry by
        entry), and the terms of constraints on steps not tried there."""
        return self._checks[sampling][1]

    def step_checks(self, sampling: bool) -> Mapping[str, Sequence[Formula]]:
        """Step name -> the constraints on steps whose last step is that one, to try as soon as it is known."""
        return self._checks[sampling][2]

    @cached_property
    def _checks(self) -> dict[bool, tuple[dict[str, list[Formula]], tuple[Formula, ...], dict[str, list[Formula]]]]:
        params = {name: index for index, name in enumerate(self.params)}
        steps = {step.name: index for index, step in enumerate(self.steps)}
        checks: dict[bool, Any] = {}
        for sampling in (True, False):
            by_param: dict[str, list[Formula]] = {}
            by_step: dict[str, list[Formula]] = {}
            unsettled: list[Formula] = []
            for constraint in (c for c in self.constraints if sampling or not c.sampling_only):
                untried = []
                for term in constraint.param_terms:
                    names = expr.names(term.node) - CONSTANTS.keys()
                    if names and names <= params.keys():
                        by_param.setdefault(max(names, key=params.__getitem__), []).append(term)
                    else:  # e.g. vocabulary_size, known once every sentence is
                        untried.append(term)
                if constraint.uses_steps:
                    by_step.setdefault(max(constraint.steps_used, key=steps.__getitem__), []).append(constraint.formula)
                    unsettled += untried
                elif untried or len(constraint.param_terms) != 1:
                    unsettled.append(constraint.formula)
            checks[sampling] = (by_param, tuple(unsettled), by_step)
        return checks

    def case_of(self, params: Mapping[str, Any]) -> str:
        """The case in force; ``params`` may be the parameters or what formulas see (a word as its code)."""
        if not self.cases:
            return ""
        value = params[self.cases]
        if isinstance(value, str):
            return value
        codes = self.params[self.cases].codes
        return next((word for word, code in codes.items() if code == value), str(value))

    def env(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """What formulas see: words as their codes, flags as 1/0, sentences as word ids (1-based,
        numbered in order of first appearance across the template's sentences)."""
        env = dict(params)
        if not self._converted_params:
            return env
        vocabulary: dict[str, int] = {}
        for name, param in self._converted_params:
            if name not in env:
                continue
            value = env[name]
            if param.kind == "flag":
                env[name] = 1.0 if value else 0.0
            elif param.kind == "word" and param.codes:
                env[name] = param.codes[str(value).lower()]  # codes are keyed by the lowercased word
            elif param.kind == "words" and len(param.size) == 2:
                # several sentences: one row of word ids each, 0 after a sentence's end
                rows = [[float(vocabulary.setdefault(w, len(vocabulary) + 1)) for w in sentence] for sentence in value.sentences]
                width = max(len(row) for row in rows)
                env[name] = np.array([row + [0.0] * (width - len(row)) for row in rows])
            elif param.kind == "words":
                env[name] = np.array([float(vocabulary.setdefault(w, len(vocabulary) + 1)) for w in value.words])
        if any(p.kind == "words" for _, p in self._converted_params):
            env["vocabulary_size"] = float(max(len(vocabulary), 1))
        return env

    @cached_property
    def _converted_params(self) -> tuple[tuple[str, Param], ...]:
        """The parameters formulas see as something else (flags, coded words, sentences), in file order: every
        other parameter is seen as it is, and ``env`` runs thousands of times per sampled variant."""
        return tuple((name, p) for name, p in self.params.items()
                     if p.kind in ("flag", "words") or (p.kind == "word" and p.codes))

    def display_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters as a statement shows them: a word or flag by its phrase when it has one, a graph as its
        expression."""
        shown: dict[str, Any] = {}
        for name, value in params.items():
            param = self.params.get(name)
            if param is not None and param.kind == "graph":
                shown[name] = parsing.parse(str(value))
            elif param is not None and param.kind in ("word", "flag") and param.phrases:
                shown[name] = param.phrases[str(value).lower()]
            elif param is not None and param.kind == "flag":
                shown[name] = "true" if value else "false"
            elif isinstance(value, Sentence) and param is not None and len(param.size) == 2:
                shown[name] = value.quoted()  # several sentences: "the cat sat" and "a cat"
            elif isinstance(value, Sentence):
                shown[name] = str(value)  # a sentence reads as its words
            else:
                shown[name] = value
        return shown

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "title": self.title,
            "kind": self.answer.kind,
            "oracle": self.oracle,
            "steps": len(self.steps),
            "tags": list(self.tags),
            "params": {name: p.describe() for name, p in self.params.items()},
        }
