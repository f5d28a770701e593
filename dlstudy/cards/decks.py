"""Finding, loading and caching decks, and the checks that need every deck at once.

A deck file is validated once (``lint.lint_deck``); the validated deck is
kept in a JSON cache while the file is unchanged. Loading raises the first
problem as a LocatedError; ``lint_paths`` lists them all. Card ids must be
unique across every loaded deck, and a note's ``related`` ids must name notes
of some loaded deck.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from dlstudy import filecache
from dlstudy.cards.lint import DeckLint, LintError, lint_deck
from dlstudy.cards.model import Deck, Note
from dlstudy.errors import DlstudyError, LocatedError, Location
from dlstudy.paths import content_dir
from dlstudy.suggest import did_you_mean


def builtin_deck_dir() -> Path:
    return content_dir("decks")


def user_deck_dir() -> Path:
    """Where `dlstudy import` puts decks; loaded with the built-in ones."""
    from dlstudy.paths import data_dir

    return data_dir() / "decks"


def default_deck_paths() -> list[Path]:
    """What every command loads: the built-in decks, the user's own (imported) decks and the config's decks."""
    from dlstudy.config import load_config

    own = [user_deck_dir()] if user_deck_dir().is_dir() else []
    return [builtin_deck_dir(), *own, *load_config().decks]


def deck_files(paths: Sequence[Path]) -> list[Path]:
    """Deck files under ``paths`` (files or folders), in a stable order."""
    files: list[Path] = []
    for path in paths:
        path = Path(os.path.expanduser(str(path)))
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")))
        elif path.is_file():
            files.append(path)
        else:
            raise DlstudyError(f"deck path {path} does not exist")
    return files


def choose_decks(decks: Sequence[Deck], names: Sequence[str]) -> list[Deck]:
    """The decks named (all when none), in the order given; an unknown name is a DlstudyError."""
    if not names:
        return list(decks)
    by_name = {deck.name: deck for deck in decks}
    chosen = []
    for name in dict.fromkeys(names):
        if name not in by_name:
            hint = did_you_mean(name, sorted(by_name))
            raise DlstudyError(f"no deck named '{name}'{hint} (decks: {', '.join(sorted(by_name))})")
        chosen.append(by_name[name])
    return chosen


# The deck last loaded from each path in this process, with the file's identity when it was loaded. Loading a
# deck again (`dlstudy cards --deck FILE` loads FILE twice; a program calling these functions, or the test
# suite, loads the built-in decks over and over) then skips rebuilding its notes from the JSON cache, ~1.5 ms
# a deck. Decks and notes are frozen dataclasses of strings, numbers and tuples (a note's fields dict is only
# read once validated), so handing out the same deck again is safe.
_loaded: dict[str, tuple[tuple[int, ...], Deck]] = {}


def load_deck(path: Path) -> Deck:
    """A validated deck; from the cache when the file is unchanged since it was last validated."""
    try:
        stat = path.stat()
    except OSError:
        return _load_deck(path)  # no such file: validating says so
    # the same file (a relative path names another one after a chdir) and unchanged since
    identity = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    loaded = _loaded.get(str(path))
    if loaded is not None and loaded[0] == identity:
        return loaded[1]
    deck = _load_deck(path)
    _loaded[str(path)] = (identity, deck)
    return deck


def _load_deck(path: Path) -> Deck:
    """The validated deck of ``path``, from the file cache or by validating the file."""
    cached = filecache.read("decks", path)
    if cached is not None:
        try:
            return Deck.from_dict({**cached, "source": str(path)})
        except (KeyError, TypeError, ValueError):
            pass  # a cache from an older layout: validate again
    result = lint_deck(path)
    if result.errors:
        more = f" (and {len(result.errors) - 1} more; run `dlstudy deck lint {path}`)" if len(result.errors) > 1 else ""
        raise result.errors[0].error(more)
    assert result.deck is not None
    filecache.write("decks", path, result.deck.to_dict())
    return result.deck


def load_decks(extra: Sequence[Path] = ()) -> list[Deck]:
    """Built-in decks plus the user's; card ids must be unique across all of them, related ids must exist."""
    decks = [load_deck(path) for path in deck_files([builtin_deck_dir(), *extra])]
    check_unique(decks)
    problems = unknown_related(decks)
    if problems:
        raise problems[0].error()
    return decks


def check_unique(decks: Sequence[Deck]) -> None:
    names: dict[str, str] = {}
    owners: dict[str, Location] = {}
    for deck in decks:
        if deck.name in names:
            raise DlstudyError(f"two decks are named '{deck.name}': {names[deck.name]} and {deck.source}; rename one file")
        names[deck.name] = deck.source
        for note in deck.notes:
            if note.id in owners:
                raise LocatedError(note.source, f"card id '{note.id}' is already used at {owners[note.id]}; give it its own id")
            owners[note.id] = note.source


def unknown_related(
    decks: Sequence[Deck], known: Iterable[str] = (), located: dict[str, Location] | None = None
) -> list[LintError]:
    """A problem for every ``related`` id that is no note of ``decks`` (nor in ``known``).

    Located at the note's ``related`` key when ``located`` says where that is, else at the note.
    """
    ids = {note.id for deck in decks for note in deck.notes} | set(known)
    problems = []
    for deck in decks:
        for note in deck.notes:
            for other in note.related:
                if other not in ids:
                    where = (located or {}).get(note.id, note.source)
                    problems.append(LintError(where, f"related card '{other}' is not in any deck{did_you_mean(other, ids)}"))
    return problems


def lint_paths(paths: Sequence[Path], content: bool = True) -> list[LintError]:
    """Every problem in the deck files under ``paths``: each file's own, ids repeated across files, unknown
    related ids, and (``content``) what the content rules (``dlstudy.cards.rules``) find, in file order.

    A related id may also name a note of the decks dlstudy loads anyway (built-in,
    imported, the config's), so one deck file can be linted on its own; those
    decks are also what a note must not nearly repeat.
    """
    errors: list[LintError] = []
    owners: dict[str, Location] = {}
    results: list[DeckLint] = []
    for path in deck_files(paths):
        result = lint_deck(path)
        results.append(result)
        errors.extend(result.errors)
        if result.deck is None:
            continue
        for note in result.deck.notes:
            if note.id in owners:
                errors.append(LintError(note.source, f"card id '{note.id}' is already used at {owners[note.id]}"))
            owners[note.id] = note.source
    decks = [r.deck for r in results if r.deck is not None]
    others = _loadable_notes()
    if any(note.related for deck in decks for note in deck.notes):
        located = {note_id: where for r in results for note_id, where in r.related_at.items()}
        known = {note_id for r in results for note_id in r.note_ids} | {note.id for note in others}
        errors.extend(unknown_related(decks, known, located))
    if content and decks:
        errors.extend(_content_problems(results, others))
    return sorted(errors, key=lambda e: (e.location.path, e.location.line, e.location.column))


def _content_problems(results: Sequence[DeckLint], others: Sequence[Note]) -> list[LintError]:
    """What the content rules find in the linted notes (compared with ``others`` where a rule looks across decks)."""
    from dlstudy.cards import rules

    notes = [note for r in results if r.deck is not None for note in r.deck.notes]
    linted = {note.id for note in notes}
    context = [note for note in others if note.id not in linted]
    by_note = {note.id: r for r in results if r.deck is not None for note in r.deck.notes}
    return rules.check(notes, lambda note, key: by_note[note.id].where(note, key), known=context)


def _loadable_notes() -> list[Note]:
    """Notes of the decks dlstudy loads by default; a deck that does not load contributes none."""
    notes: list[Note] = []
    try:
        files = deck_files(default_deck_paths())
    except DlstudyError:
        return notes
    for path in files:
        try:
            notes.extend(load_deck(path).notes)
        except DlstudyError:
            continue
    return notes
