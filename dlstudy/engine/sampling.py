"""Seed -> parameters: the same seed gives the same variant on every machine.

A draw is rejected when a constraint fails, when a formula is not finite, or
when a listed common mistake would give the right answer (so mistake feedback
is never shown for a correct answer)."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from dlstudy.engine import graphs
from dlstudy.engine.checking import judge, step_kind
from dlstudy.engine.evaluation import all_hold, mistake_value, values_within_constraints
from dlstudy.engine.results import Variant
from dlstudy.engine.model import Formula, Param, Sentence, Template
from dlstudy.errors import DlstudyError
from dlstudy.mathtext.numbers import round_as_displayed

MAX_ATTEMPTS = 2000
# A parameter is drawn again, the ones before it kept, until the constraints that end with it hold; after this
# many tries the whole draw starts over (the earlier parameters may leave no way to satisfy them).
MAX_REDRAWS = 100

def _draw(param: Param, rng: np.random.Generator, drawn: Mapping[str, Any], template: Template) -> Any:
    kind = param.kind
    if kind == "vector" or kind == "matrix":  # the most drawn, and redrawn for their constraints
        return _draw_entries(param, rng, array_shape(param, drawn, template))
    if kind in ("choice", "word", "flag", "graph"):
        return param.options[int(rng.integers(len(param.options)))]
    if kind in ("int", "size"):
        while True:
            value = int(rng.integers(int(param.low), int(param.high) + 1))
            if value not in param.exclude:
                return value
    if kind == "real":
        while True:
            value = round(float(rng.uniform(param.low, param.high)), param.decimals)
            if value not in param.exclude:
                return value
    return _draw_words(param, rng, array_shape(param, drawn, template), _shortest(param, template))


class _Rejected(Exception):
    """The parameters drawn so far admit no valid exercise: a size formula gave no positive size (e.g. a kernel
    larger than the input), or a parameter's constraints failed on every redraw. The whole draw starts over."""


def _draw_words(param: Param, rng: np.random.Generator, shape: tuple[int, ...], shortest: int) -> Sentence:
    """A sentence of shape[0] words; or shape[0] sentences of shortest..shape[1] words, one of them the longest."""
    def words(n: int) -> tuple[str, ...]:
        if param.distinct and n <= len(param.vocabulary):  # a list of different words, e.g. a vocabulary
            return tuple(param.vocabulary[i] for i in rng.choice(len(param.vocabulary), size=n, replace=False))
        return tuple(param.vocabulary[i] for i in rng.integers(len(param.vocabulary), size=n))

    if len(shape) == 1:
        return Sentence(words(shape[0]))
    count, longest = shape
    lengths = rng.integers(min(shortest, longest), longest + 1, size=count)
    lengths[int(rng.integers(count))] = longest
    return Sentence.joined(words(int(n)) for n in lengths)


def _shortest(param: Param, template: Template) -> int:
    """Several sentences are sampled as long as the sampling range of their length's size parameter allows."""
    longest = param.size[-1]
    if isinstance(longest, str) and template.params[longest].low is not None:
        return int(template.params[longest].low)
    return 1


def array_shape(param: Param, drawn: Mapping[str, Any], template: Template) -> tuple[int, ...]:
    """The shape of an array parameter, its sizes read from the parameters it names: as drawn, or as formulas see
    them when a size is a formula."""
    env = template.env(drawn) if param.sized_by_formula else drawn
    shape = []
    for d in param.size:  # a plain loop: a matrix is redrawn many times for its constraints
        size = int(env[d]) if isinstance(d, str) else int(d.run(env)) if isinstance(d, Formula) else int(d)
        if size < 1:
            raise _Rejected(param.name)
        shape.append(size)
    return tuple(shape)


def _probability_rows(
    rng: np.random.Generator, shape: tuple[int, ...], decimals: int, low: float = 0.0, high: float = 1.0
) -> np.ndarray:
    """Rows that are probability distributions with entries on a grid of 10^-decimals: the gaps between
    sorted cut points drawn from the grid (zeros included, so deterministic rows come up too). A row with an
    entry outside [low, high] is drawn again (a range of [0, 1] never redraws)."""
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    steps = 10**max(decimals, 1)

    def draw(count: int) -> np.ndarray:
        cuts = np.sort(rng.integers(0, steps + 1, size=(count, shape[-1] - 1)), axis=1)
        bounds = np.concatenate([np.zeros((count, 1)), cuts, np.full((count, 1), steps)], axis=1)
        return np.diff(bounds, axis=1) / steps

    table = draw(rows)
    for _ in range(100):
        outside = ((table < low) | (table > high)).any(axis=1)
        if not outside.any():
            break
        table[outside] = draw(int(outside.sum()))
    return table.reshape(shape)


def _adjacency(param: Param, array: np.ndarray) -> np.ndarray:
    """An adjacency matrix without self-loops (zero diagonal), mirrored when the graph is undirected."""
    if param.adjacency == "undirected":
        array = np.triu(array, 1) + np.triu(array, 1).T
    np.fill_diagonal(array, 0.0)
    return array


def _draw_entries(param: Param, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    if param.stochastic:
        return _probability_rows(rng, shape, param.decimals, param.low, param.high)
    if not (param.exclude or param.adjacency or param.symmetric):  # drawn in its shape: the same entries, in order
        return _entries(param, rng, shape)
    flat = _entries(param, rng, math.prod(shape))
    for _ in range(100 if param.exclude else 0):
        bad = np.zeros(flat.shape, dtype=bool)
        for excluded in param.exclude:
            bad |= flat == excluded
        if not bad.any():
            break
        flat[bad] = _entries(param, rng, int(bad.sum()))
    if param.adjacency:
        return _adjacency(param, flat.reshape(shape))
    return _mirrored(param, flat.reshape(shape)) if param.symmetric else flat.reshape(shape)


def _entries(param: Param, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    if param.decimals == 0:
        return rng.integers(int(param.low), int(param.high) + 1, size).astype(float)
    return rng.uniform(param.low, param.high, size).round(param.decimals)


def _mirrored(param: Param, array: np.ndarray) -> np.ndarray:
    """A symmetric matrix parameter: the upper triangle mirrored below the diagonal."""
    return np.triu(array) + np.triu(array, 1).T if param.symmetric else array


Draw = Callable[[Param, Mapping[str, Any], Template], Any]


def _draw_all(template: Template, draw: Draw, sampling: bool) -> tuple[Template, dict[str, Any]]:
    """Every parameter in file order, each drawn again until the constraint terms that end with it hold
    (``Template.param_checks``), so a constraint on one matrix redraws that matrix, not the whole exercise.
    A graph parameter (always the first) makes the template concrete for the drawn expression, whose inputs
    are then drawn as parameters too (``engine.graphs``). Raises _Rejected."""
    params: dict[str, Any] = {}
    in_order = list(template.params.values())
    checks = template.param_checks(sampling)
    index = 0
    while index < len(in_order):
        param = in_order[index]
        params[param.name] = draw(param, params, template)
        terms = checks.get(param.name)
        if terms:
            for _ in range(_redraws(param) if sampling else MAX_REDRAWS):
                if all_hold(terms, template.env(params)):
                    break
                params[param.name] = draw(param, params, template)
            else:
                raise _Rejected(param.name)
        if param.kind == "graph":
            template = graphs.specialise(template, params[param.name])
            in_order = list(template.params.values())
            checks = template.param_checks(sampling)
        index += 1
    return template, params


def _redraws(param: Param) -> int:
    """How often sampling redraws a parameter for its constraints: a few draws cover a handful of values (one
    value, [0, 0] or a single option, none at all), after which the earlier parameters must change."""
    if param.kind in ("choice", "word", "flag", "graph"):
        return min(MAX_REDRAWS, 2 * len(param.options) - 1)
    if param.kind in ("int", "size"):
        return min(MAX_REDRAWS, 2 * int(param.high - param.low) + 1)
    if param.kind == "real" and param.high == param.low:
        return 1
    return MAX_REDRAWS


def sample(template: Template, seed: int) -> Variant:
    """The variant for ``seed``: same seed, same variant, on every machine."""
    rng = np.random.default_rng(seed)
    variant = _first_valid(template, seed, lambda p, drawn, t: _draw(p, rng, drawn, t), sampling=True)
    if variant is None:
        raise DlstudyError(f"{template.source}: could not sample valid parameters in {MAX_ATTEMPTS} tries (seed {seed})")
    return variant


def _first_valid(generic: Template, seed: int, draw: Draw, sampling: bool) -> Variant | None:
    """The first draw that every constraint accepts (those for sampling only when ``sampling``), whose formulas
    are finite and, when sampling, where no common mistake would give the right answer; None after MAX_ATTEMPTS."""
    with np.errstate(all="ignore"):
        for _ in range(MAX_ATTEMPTS):
            try:
                template, params = _draw_all(generic, draw, sampling)
            except _Rejected:
                continue
            env = template.env(params)
            if not all_hold(template.unsettled(sampling), env):  # what the draw has not already tried
                continue
            if not sampling and template.cost is not None and not float(np.asarray(template.cost.run(env))) <= 1e6:
                continue
            values = values_within_constraints(template, params, sampling, env)
            if values is None:
                continue
            slips = _slips(template, values) if sampling else None
            if slips is None and sampling:
                continue
            return Variant(template, seed, params, values, slips)
    return None


def _slips(template: Template, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """Each mistake's value at its step (None where it does not apply), or None when a mistake would give the
    right answer there."""
    slips: dict[str, Any] = {}
    for mistake in template.mistakes:
        wrong = slips[mistake.id] = mistake_value(template, mistake, values)
        if wrong is None:
            continue
        right = values[mistake.step]
        kind = step_kind(template, mistake.step, right)
        if judge(template, kind, wrong, right, values, mistake.step, explain=False).score == 1.0:
            return None
        # Also as the student would type it off the screen: a slip 1.01% away must not round into tolerance.
        if kind in ("real", "vector", "matrix"):
            shown = round_as_displayed(wrong, template.answer.shown_sigfigs)
            if _unchanged(shown, wrong):  # judged just above
                continue
            if judge(template, kind, shown, right, values, mistake.step, explain=False).score == 1.0:
                return None
    return slips


def _unchanged(shown: Any, wrong: Any) -> bool:
    """Whether rounding as displayed left a slip as it was."""
    if isinstance(shown, np.ndarray):
        return isinstance(wrong, np.ndarray) and shown.shape == wrong.shape and bool((shown == wrong).all())
    return bool(shown == wrong)


# ---------------------------------------------------------------------------
# The domain: what solve/check accept, beyond what sampling draws


def sample_domain(template: Template, seed: int) -> Variant:
    """A variant drawn from the parameters' domains rather than their sampling ranges.

    Reals where the domain is real, sizes other than the sampled ones, values
    beyond the sampling range: what a student may bring from their own sheet.
    Sampling-only constraints are ignored; the others still hold.  Used by
    the tests to prove formula and oracle agree on the whole domain.
    """
    rng = np.random.default_rng(seed)
    variant = _first_valid(template, seed, lambda p, drawn, t: _draw_domain(p, rng, drawn, t), sampling=False)
    if variant is None:
        raise DlstudyError(f"{template.source}: could not draw parameters from the domain in {MAX_ATTEMPTS} tries (seed {seed})")
    return variant


def _domain_interval(param: Param, low: float, high: float) -> tuple[float, float]:
    """The sampling range widened on both sides, then cut to the domain's bounds."""
    spread = max(high - low, 1.0)
    lo, hi = low - spread, high + spread
    d = param.domain
    if d.minimum is not None:
        lo = max(lo, d.minimum)
    if d.above is not None:
        lo = max(lo, d.above + (1 if d.integer else 1e-3 * spread))
    if d.maximum is not None:
        hi = min(hi, d.maximum)
    if d.below is not None:
        hi = min(hi, d.below - (1 if d.integer else 1e-3 * spread))
    return lo, max(lo, hi)


def _draw_domain(param: Param, rng: np.random.Generator, drawn: Mapping[str, Any], template: Template) -> Any:
    if param.kind in ("word", "graph"):
        return param.options[int(rng.integers(len(param.options)))]
    if param.kind == "flag":
        return bool(rng.integers(2))
    if param.kind == "size":
        return int(rng.integers(1, int(min(param.domain.maximum or param.high, param.high + 2)) + 1))
    if param.kind in ("int", "real", "choice"):
        low, high = (min(param.options), max(param.options)) if param.kind == "choice" else (param.low, param.high)
        lo, hi = _domain_interval(param, float(low), float(high))
        if param.domain.integer:
            return int(rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1))
        drawn = float(rng.uniform(lo, hi))
        rounded = round(drawn, 2)
        return rounded if param.domain.violation(rounded) is None else drawn  # 0.004 must not round to 0 when > 0
    shape = array_shape(param, drawn, template)
    if param.kind == "words":
        return _draw_words(param, rng, shape, 1)
    if param.stochastic:
        return _probability_rows(rng, shape, 2)
    lo, hi = _domain_interval(param, float(param.low), float(param.high))
    if param.domain.integer:
        return _mirrored(param, rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, size=shape).astype(float))
    drawn = rng.uniform(lo, hi, size=shape)
    rounded = np.round(drawn, 2)
    outside = np.vectorize(lambda v: param.domain.violation(float(v)) is not None, otypes=[bool])(rounded)
    return _mirrored(param, np.where(outside, drawn, rounded))  # rounding must not leave the domain
