"""Golden snapshots: what the commands print and write stays byte for byte the same.

A regression guard, not a proof of correctness: the files in tests/golden/ were captured from
dlstudy itself before the move into subpackages (`dlstudy generate`, `sheet`, `formulas` and
`export` with DLSTUDY_NOW=2026-11-23T09:00:00+00:00 and 80 columns; the formula topic, the Anki
notes and the CSV are the parts of the all-deck captures that belong to the chosen topic or decks),
so they hold whatever that version printed, right or wrong. Whether the answers are right is the
business of the oracle, sheet and export tests. A failure here shows a unified diff of what changed.

When a change to the output is intended, rewrite the files and review them with `git diff`:

    DLSTUDY_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

The subset: `generate --json` for every answer kind (integer, real, vector, matrix, shape,
expression, choice) and one torch oracle; two terminal texts; a LaTeX sheet with inline solutions;
a Markdown sheet and its key; one topic of the formula sheet; the Anki notes of two decks (each
note's GUID, fields and tags, as in the collection's notes table); one deck's cards as CSV.
"""

from __future__ import annotations

import difflib
import json
import os
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("DLSTUDY_UPDATE_GOLDEN") == "1"
# The terminal as the snapshots saw it: 80 columns, no colour forced either way.
TERMINAL = {"COLUMNS": "80", "FORCE_COLOR": None, "NO_COLOR": None}

runner = CliRunner()


def anki_notes(apkg: Path) -> bytes:
    """The notes table of an .apkg's collection, one JSON row [guid, fields, tags] a line, by GUID."""
    collection = apkg.with_suffix(".anki2")
    collection.write_bytes(zipfile.ZipFile(apkg).read("collection.anki2"))
    db = sqlite3.connect(collection)
    try:
        rows = db.execute("SELECT guid, flds, tags FROM notes ORDER BY guid").fetchall()
    finally:
        db.close()
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


@dataclass(frozen=True)
class Snapshot:
    """A command, and each golden file with how to read its content from the command's work."""

    argv: tuple[str, ...]
    files: dict[str, Callable[[Path, bytes], bytes]]  # golden file -> (working folder, stdout) -> bytes

    @property
    def name(self) -> str:
        return " ".join(self.argv)


def stdout(folder: Path, out: bytes) -> bytes:
    return out


def written(name: str) -> Callable[[Path, bytes], bytes]:
    return lambda folder, out: (folder / name).read_bytes()


def generate(template_id: str, seed: int, as_json: bool = True) -> Snapshot:
    suffix = "json" if as_json else "txt"
    argv = ("generate", template_id, "--seed", str(seed), *(["--json"] if as_json else []))
    return Snapshot(argv, {f"generate/{template_id}-{seed}.{suffix}": stdout})


def anki(deck: str) -> Snapshot:
    return Snapshot(("export", "anki", deck, "-o", f"{deck}.apkg", "--variants", "2"),
                    {f"export/anki-{deck}-notes.txt": lambda folder, out: anki_notes(folder / f"{deck}.apkg")})


SNAPSHOTS = [
    generate("conv-output-size", 1),  # integer
    generate("binary-cross-entropy", 2),  # real
    generate("adam-step", 1),  # vector
    generate("scaled-dot-product-attention", 2),  # matrix
    generate("birnn-output-shape", 1),  # shape
    generate("activation-derivative-formula", 1),  # expression
    generate("double-dqn-action", 2),  # choice
    generate("lstm-cell-step", 1),  # a torch oracle
    generate("conv-output-size", 3, as_json=False),
    generate("batchnorm-forward", 3, as_json=False),  # matrices wrapped at 80 columns
    Snapshot(("sheet", "cnn", "-n", "6", "--seed", "42", "-f", "tex", "--solutions", "inline", "-o", "cnn42.tex"),
             {"sheet/cnn42.tex": written("cnn42.tex")}),
    Snapshot(("sheet", "rnn", "-n", "10", "--seed", "5", "-f", "md", "-o", "rnn5.md"),
             {"sheet/rnn5.md": written("rnn5.md"), "sheet/rnn5-key.md": written("rnn5-key.md")}),
    Snapshot(("formulas", "rnn", "-f", "md", "-o", "rnn.md"), {"formulas/rnn.md": written("rnn.md")}),
    anki("rnn"),  # problem variants, cloze, derivations
    anki("normalization"),
    Snapshot(("export", "csv", "normalization"), {"export/cards-normalization.csv": stdout}),
]


def unified_diff(expected: bytes, got: bytes, name: str) -> str:
    lines = difflib.unified_diff(
        expected.decode("utf-8", "replace").splitlines(keepends=True),
        got.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"tests/golden/{name}", tofile="now",
    )
    text = "".join(lines)
    return text if len(text) < 20_000 else text[:20_000] + "\n... (diff cut at 20,000 characters)\n"


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda s: s.name)
def test_output_equals_the_snapshot(snapshot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, list(snapshot.argv), env=TERMINAL)
    assert result.exit_code == 0 and result.exception is None, result.output
    assert result.stderr_bytes == b"", result.stderr
    changed = []
    for name, read in snapshot.files.items():
        got = read(tmp_path, result.stdout_bytes)
        if UPDATE:
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(got)
            continue
        expected = (GOLDEN / name).read_bytes()
        if got != expected:
            changed.append(unified_diff(expected, got, name) or f"tests/golden/{name}: same text, different bytes\n")
    if UPDATE:
        pytest.skip(f"DLSTUDY_UPDATE_GOLDEN=1: rewrote {', '.join(snapshot.files)}; review with git diff")
    assert not changed, f"`dlstudy {snapshot.name}` changed:\n" + "".join(changed)


def test_every_golden_file_is_checked():
    """A snapshot file no test reads would be a guard that guards nothing."""
    on_disk = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    assert on_disk == {name for snapshot in SNAPSHOTS for name in snapshot.files}
