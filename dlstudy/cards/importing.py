"""Import a CSV of flashcards as a new deck of your own (``dlstudy import csv``).

Each row is ``front, back[, tags]`` (tags separated by spaces or commas). A
header row is optional: a first row that names ``front`` and ``back`` is a
header, and then its columns are found by name (other columns are ignored), so
the CSV ``dlstudy export csv`` writes can be read back. Cells are separated by
commas, or by tabs when the first line has a tab.

Card ids are ``<deck>-<first 8 hex digits of the SHA-1 of the front>`` (with
whitespace collapsed): re-importing an edited file with ``--replace`` keeps the
id, and so the review history, of every card whose front is unchanged; a card
whose front changes starts afresh. Two rows with the same front are an error.

All rows are checked before anything is written; every problem is located as
``FILE:LINE:COL: ...``: the line the row starts on (header included, so a row
that holds no line break is numbered as a spreadsheet numbers it) and the
cell's column (1 is the first). The deck is written with ``yaml.safe_dump``
next to its destination, validated with ``lint.lint_file``, and only then
moved into ``user_deck_dir()/<deck>.yaml``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlstudy.cards.decks import check_unique, deck_files, default_deck_paths, load_deck, user_deck_dir
from dlstudy.cards.lint import ID_PATTERN, lint_file
from dlstudy.cards.markup import math_problems
from dlstudy.cards.model import Deck
from dlstudy.spreadsheet import restore
from dlstudy.errors import DlstudyError, LocatedError, Location

MAX_SHOWN = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ImportResult:
    path: Path
    deck: str
    title: str
    cards: int
    kept: int  # cards whose id (front) was already in the replaced deck
    replaced: bool

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "deck": self.deck, "title": self.title, "cards": self.cards,
                "kept": self.kept, "replaced": self.replaced}


def deck_name_for(path: Path) -> str:
    """``My Cards (v2).csv`` -> ``my-cards-v2``."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")


def card_id(deck: str, front: str) -> str:
    normalized = " ".join(front.split())
    return f"{deck}-{hashlib.sha1(normalized.encode('utf-8')).hexdigest()[:8]}"


def split_tags(text: str) -> list[str]:
    return list(dict.fromkeys(t for t in re.split(r"[\s,]+", text) if t))


@dataclass(frozen=True)
class _Row:
    line: int  # where the row starts in the file
    front: str
    back: str
    tags: tuple[str, ...]
    front_column: int  # 1-based, for locating problems with the front (and so the id)


class _Problems:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.items: list[tuple[Location, str]] = []

    def add(self, line: int, column: int, message: str) -> None:
        self.items.append((Location(str(self.file), line, column), message))

    def raise_if_any(self) -> None:
        """One line per problem, in file order (at most MAX_SHOWN; then how many more)."""
        if not self.items:
            return
        self.items.sort(key=lambda item: (item[0].line, item[0].column))
        if len(self.items) == 1:
            raise LocatedError(*self.items[0])
        lines = [f"{where}: {message}" for where, message in self.items[:MAX_SHOWN]]
        if len(self.items) > MAX_SHOWN:
            lines.append(f"... and {len(self.items) - MAX_SHOWN} more problems")
        raise DlstudyError("\n".join(lines))


def _clean(cell: str) -> str:
    """A cell's text: a formula guard that `dlstudy export csv` put in front taken off, line ends and tabs plain."""
    return restore(cell).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").strip()


def _records(file: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line the record starts on, its cells) for every record of the CSV text."""
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    ended = 0  # the line the last record read ended on
    try:
        for record in reader:
            records.append((ended + 1, record))
            ended = reader.line_num
    except csv.Error as exc:
        raise LocatedError(Location(str(file), ended + 1, 1), f"not valid CSV ({exc}); check the quotes on this row") from None
    return records


def read_rows(file: Path) -> list[_Row]:
    """The cards of a CSV file; every problem found is raised at once as ``FILE:LINE:COL: ...``."""
    from dlstudy.files import read_text

    text = read_text(file, "CSV file").removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line else ","
    problems = _Problems(file)
    records = _records(file, text, delimiter)

    columns = {"front": 0, "back": 1, "tags": 2}
    width: int | None = None
    content = [(n, r) for n, r in records if any(cell.strip() for cell in r)]
    if content:
        header = [cell.strip().lower() for cell in content[0][1]]
        if "front" in header and "back" in header:
            columns = {name: header.index(name) for name in ("front", "back", "tags") if name in header}
            width = len(header)
            content = content[1:]

    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, record in content:
        needed = max(columns["front"], columns["back"]) + 1
        if width is not None and not needed <= len(record) <= width:
            quote = "; quote cells that contain commas" if delimiter == "," and len(record) > width else ""
            problems.add(line, 1, f"{len(record)} column{'s' if len(record) != 1 else ''}, but the header has {width}{quote}")
            continue
        if width is None and len(record) not in (2, 3):
            problems.add(line, 1, f"{len(record)} column{'s' if len(record) != 1 else ''}; a row is front, back and "
                         f"optional tags{', quote cells that contain commas' if delimiter == ',' and len(record) > 3 else ''}")
            continue
        front = _clean(record[columns["front"]])
        back = _clean(record[columns["back"]])
        tags = split_tags(restore(record[columns["tags"]])) if "tags" in columns and columns["tags"] < len(record) else []
        before = len(problems.items)
        for side, value in (("front", front), ("back", back)):
            column = columns[side] + 1
            if not value:
                problems.add(line, column, f"the {side} is empty; write the {'question' if side == 'front' else 'answer'}")
                continue
            if _CONTROL.search(value):
                problems.add(line, column, f"the {side} contains a control character; remove it")
                continue
            for what, why in math_problems(value):
                if what == "unbalanced":
                    problems.add(line, column, f"unbalanced math in the {side}: {why}")
                else:
                    problems.add(line, column, f"math in the {side} does not render: {why}; check its braces and commands")
        key = " ".join(front.split())
        if front and key in seen:
            problems.add(line, columns["front"] + 1, f"the same front as line {seen[key]}; merge the two rows (ids come from the front)")
        elif front:
            seen[key] = line
        if len(problems.items) == before:
            rows.append(_Row(line, front, back, tuple(tags), columns["front"] + 1))
    problems.raise_if_any()
    if not rows:
        raise DlstudyError(f"{file}: no cards found; each row is front, back and optional tags")
    return rows


def _other_decks(target: Path) -> list[Deck]:
    """Every deck dlstudy loads except the file the import would replace."""
    files = [p for p in deck_files(default_deck_paths()) if p.resolve() != target.resolve()]
    decks = [load_deck(p) for p in files]
    check_unique(decks)
    return decks


def _old_ids(path: Path) -> set[str]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {str(c["id"]) for c in data["cards"] if isinstance(c, dict) and "id" in c}
    except Exception:  # an unreadable old file only means nothing is counted as kept
        return set()


def _deck_yaml(name: str, title: str, source: Path, rows: list[_Row]) -> str:
    import yaml

    cards = []
    for row in rows:
        card: dict[str, Any] = {"id": card_id(name, row.front), "kind": "basic", "front": row.front, "back": row.back}
        if row.tags:
            card["tags"] = list(row.tags)
        cards.append(card)
    body = yaml.safe_dump({"deck": name, "title": title, "cards": cards}, allow_unicode=True, sort_keys=False,
                          width=100_000, default_flow_style=False)
    return f"# Imported from {source.name} by `dlstudy import csv`; ids come from each card's front.\n{body}"


def import_csv(file: Path, name: str | None = None, title: str | None = None, replace: bool = False) -> ImportResult:
    """Read ``file`` into ``user_deck_dir()/<name>.yaml``; on any problem nothing is written."""
    file = Path(file)
    name = name if name is not None else deck_name_for(file)
    if not name or not ID_PATTERN.match(name):
        raise DlstudyError(f"deck name '{name}' must be lowercase letters, digits and dashes; give one with --deck NAME")
    title = title if title is not None else file.stem
    if not title.strip():
        raise DlstudyError("the deck title is empty; give one with --title TEXT")
    rows = read_rows(file)
    folder = user_deck_dir()
    target = folder / f"{name}.yaml"
    if target.exists() and not replace:
        raise DlstudyError(f"{target} already exists; add --replace to overwrite it (unchanged cards keep their history)")

    others = _other_decks(target)
    for deck in others:
        if deck.name == name:
            raise DlstudyError(f"a deck named '{name}' already exists ({deck.source}); choose another name with --deck NAME")
    owners = {note.id: note.source for deck in others for note in deck.notes}
    problems = _Problems(file)
    for row in rows:
        cid = card_id(name, row.front)
        if cid in owners:
            problems.add(row.line, row.front_column,
                         f"card id '{cid}' is already used at {owners[cid]}; choose another deck name with --deck NAME")
    problems.raise_if_any()

    kept = len(_old_ids(target) & {card_id(name, r.front) for r in rows}) if target.exists() else 0
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=folder))
    try:
        staged = staging / f"{name}.yaml"
        staged.write_text(_deck_yaml(name, title, file, rows), encoding="utf-8")
        _check_written(staged, file, rows)
        replaced = target.exists()
        os.replace(staged, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return ImportResult(target, name, title, len(rows), kept, replaced)


def _check_written(staged: Path, file: Path, rows: list[_Row]) -> None:
    """Lint the written deck; a problem is reported at the CSV row of the card it is in."""
    from dlstudy.yamlfile import load_yaml, position_of

    _, errors = lint_file(staged)
    if not errors:
        return
    starts = [position_of(card)[0] for card in load_yaml(staged)["cards"]]
    problems = _Problems(file)
    for error in errors:
        index = max((i for i, line in enumerate(starts) if line <= error.location.line), default=None)
        problems.add(rows[index].line if index is not None else 0, 0, error.message)
    problems.raise_if_any()
