"""docs/exercise-types.md, the catalogue of exercise types, stays true to the registry."""

from __future__ import annotations

import re
from pathlib import Path

from dlstudy.engine.templates import get_template, template_ids

CATALOGUE = Path(__file__).resolve().parent.parent / "docs" / "exercise-types.md"
ROW = re.compile(r"^\| (B?\d+) \|")
TEMPLATE_ID = re.compile(r"`([a-z0-9]+(?:-[a-z0-9]+)*)`")


def _rows() -> list[list[str]]:
    rows = []
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        if ROW.match(line):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def _named(cell: str) -> list[str]:
    return TEMPLATE_ID.findall(cell)


def test_every_template_named_in_the_catalogue_exists():
    known = set(template_ids())
    unknown = [(row[0], name) for row in _rows() for name in _named(row[-3] if len(row) == 8 else row[-1])
               if name not in known]
    assert not unknown, f"docs/exercise-types.md names templates that don't exist: {unknown}"


def test_every_template_is_in_the_catalogue():
    named = {name for row in _rows() for name in _named(row[5] if len(row) == 8 else row[-1])}
    missing = sorted(set(template_ids()) - named)
    assert not missing, f"templates missing from docs/exercise-types.md: {missing}"


def test_every_likely_exercise_type_has_a_template():
    notes_rows = [row for row in _rows() if len(row) == 8]
    assert len(notes_rows) >= 140  # the whole table was read, not a fragment
    uncovered = [row[0] for row in notes_rows if row[4] in ("H", "M") and not _named(row[5])]
    assert not uncovered, f"H/M exercise types without a template: rows {uncovered}"
    for number, *_, templates, status, _note in notes_rows:
        assert (status == "N") == (not _named(templates)), f"row {number}: status {status} vs templates {templates!r}"


def test_the_notes_conventions_are_options_of_their_templates():
    text = CATALOGUE.read_text(encoding="utf-8").split("## The notes' conventions")[1]
    checked = 0
    for line in text.splitlines():
        match = re.match(r"^\| .* \| `([a-z0-9-]+)` \| `(\w+)=([\w-]+)`", line)
        if not match:
            continue
        template_id, name, value = match.groups()
        param = get_template(template_id).params[name]
        assert value in [*param.options, "true", "false"], f"{template_id}: {name}={value} is not an option"
        checked += 1
    assert checked >= 8
