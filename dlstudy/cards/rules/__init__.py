"""Lint rules for the content of decks: cards that teach.

Each rule encodes part of the minimum information principle of spaced
repetition and is one function over parsed notes (``dlstudy.cards.model.Note``)
that yields a ``Finding`` per problem: the note, the key the problem is about
(``"front"``, ``"steps[2]"``, or None for the whole note) and a message saying
what is wrong and what to write instead. ``check`` turns findings into
``LintError``s located at ``FILE:LINE:COL`` (``dlstudy deck lint`` prints them).

The rules, one module per concept:

* ``questions``: ``multi-question`` (a front asks one thing).
* ``reverse``: ``reversed-giveaway`` (``reverse: true`` only when the reversed card is a fair question).
* ``cloze``: ``cloze-gaps`` (few gap numbers per note, each gap a term, symbol or number).
* ``steps``: ``giveaway-step`` (no derivation step starts with a word telling its place).
* ``precision``: ``typed-precision`` (a typed numeric answer declares and states its precision).
* ``duplicates``: ``near-duplicate`` (no two notes of different decks ask and answer the same thing).

Rules read a note's ``fields`` by key (``front``, ``text``, ``steps``,
``answer_kind``...), never its kind's name, so a new card kind with the same
keys is checked the same way. To add a rule: a function decorated with
``@rule("name")`` (across notes, also comparing them with the ``known`` notes
of other decks) or ``@note_rule("name")`` (one note at a time) in a module
listed in ``MODULES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from dlstudy.cards.model import Note
from dlstudy.errors import Location
from dlstudy.registry import Registry

MODULES = ("questions", "reverse", "cloze", "steps", "precision", "duplicates")


@dataclass(frozen=True)
class Finding:
    note: Note
    key: str | None  # the key it is about: "front", "steps[2]" (0-based item), or None for the note
    message: str


Check = Callable[..., Iterable[Finding]]  # run(notes); a rule across notes: run(notes, known=...)


@dataclass(frozen=True)
class Rule:
    name: str
    summary: str  # one line: what it checks
    run: Check
    across: bool = True  # compares notes with each other and with ``known`` ones: run(notes, known=...)


_RULES: Registry[Rule] = Registry("lint rule", __name__, MODULES)


def rule(name: str, across: bool = True) -> Callable[[Check], Check]:
    """Register ``func(notes) -> findings`` as the rule ``name`` (its docstring's first line is the summary).

    A rule across notes is called as ``func(notes, known=...)``: it compares
    ``notes`` with each other and with ``known`` (notes of other decks), and
    need not look for problems among the ``known`` ones alone.
    """

    def register(func: Check) -> Check:
        summary = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        _RULES.add(name, Rule(name, summary, func, across))
        return func

    return register


def note_rule(name: str) -> Callable[[Callable[[Note], Iterable[tuple[str | None, str]]]], Check]:
    """Register ``func(note) -> (key, message)...``, a rule that looks at one note at a time."""

    def register(func: Callable[[Note], Iterable[tuple[str | None, str]]]) -> Check:
        def run(notes: Sequence[Note]) -> Iterable[Finding]:
            for note in notes:
                for key, message in func(note):
                    yield Finding(note, key, message)

        run.__doc__ = func.__doc__
        run.__name__ = func.__name__
        return rule(name, across=False)(run)

    return register


def names() -> tuple[str, ...]:
    return _RULES.names()


def get(name: str) -> Rule:
    return _RULES.get(name)


def findings(
    notes: Sequence[Note], rules: Iterable[str] | None = None, known: Sequence[Note] = ()
) -> list[tuple[str, Finding]]:
    """(rule name, finding) for every problem of ``notes``, for every rule or the named ones.

    ``known`` are other notes (decks not being checked) that a rule across notes
    compares them with; their own problems are not reported.
    """
    notes = list(notes)
    checked = {id(note) for note in notes}
    found = []
    for name in rules or names():
        rule_ = get(name)
        run = rule_.run(notes, known=known) if rule_.across else rule_.run(notes)
        found.extend((name, f) for f in run if id(f.note) in checked)
    return found


def check(
    notes: Sequence[Note],
    where: Callable[[Note, str | None], Location] | None = None,
    rules: Iterable[str] | None = None,
    known: Sequence[Note] = (),
):
    """Every problem as a ``LintError``, located by ``where(note, key)`` (default: where the note starts)."""
    from dlstudy.cards.lint import LintError

    locate = where or (lambda note, key: note.source)
    return [
        LintError(locate(found.note, found.key), f"{found.message} [{name}]")
        for name, found in findings(notes, rules, known)
    ]
