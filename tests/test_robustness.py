"""Nothing breaks, nothing is lost: unlucky files, full disks, damaged databases, hostile CSV, backups."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from dlstudy.cards import backup
from dlstudy.cards.store import Store, open_store
from dlstudy.cli.app import app
from dlstudy.errors import DlstudyError
from dlstudy.files import read_text, write_atomic
from dlstudy.spreadsheet import neutralize, restore

runner = CliRunner()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def run(*args, input=None):
    result = runner.invoke(app, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# ---------------------------------------------------------------------------
# Files a user points dlstudy at


def test_only_regular_files_of_bounded_size_are_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(DlstudyError, match="not a regular file"):
        read_text(fifo)  # would hang if opened
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    with pytest.raises(DlstudyError, match="not a regular file"):
        read_text(zero)  # would never end
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(DlstudyError, match="is a folder"):
        read_text(tmp_path / "folder.yaml")
    big = tmp_path / "big.csv"
    big.write_bytes(b"a" * 2000)
    with pytest.raises(DlstudyError, match="at most"):
        read_text(big, limit=1000)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DlstudyError, match="not UTF-8"):
        read_text(latin)


def test_a_deck_folder_with_a_pipe_and_a_link_to_dev_zero_fails_in_one_line(tmp_path):
    decks = tmp_path / "decks"
    decks.mkdir()
    os.mkfifo(decks / "pipe.yaml")
    result = run("deck", "lint", decks)
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    (decks / "pipe.yaml").unlink()
    (decks / "zero.yaml").symlink_to("/dev/zero")
    result = run("decks", "--deck", decks)
    assert result.exit_code == 2 and "not a regular file" in one_line_error(result)


def test_duplicate_yaml_keys_are_a_located_error(tmp_path):
    deck = tmp_path / "dup.yaml"
    deck.write_text("deck: dup\ntitle: T\ncards:\n  - id: a\n    front: F\n    back: B\n    back: C\n")
    result = run("deck", "lint", deck)
    assert result.exit_code == 2 and f"{deck}:7:5: duplicate key 'back'" in result.stderr


def test_csv_import_of_dev_zero_is_refused_at_once():
    result = run("import", "csv", "/dev/zero")
    assert result.exit_code == 2 and "not a regular file" in one_line_error(result)


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"fuzz = tr\xffue\n"), "not UTF-8"),
        (lambda p: p.write_text("learning_steps = [1e308]\n"), "learning_steps must be a list of minutes"),
        (lambda p: p.write_text("learning_steps = []\n"), "learning_steps must be a list of minutes"),
    ],
)
def test_a_bad_config_file_is_one_line(isolated_home, write, message):
    isolated_home.mkdir(parents=True, exist_ok=True)
    write(isolated_home / "config.toml")
    result = run("stats")
    assert result.exit_code == 2 and message in one_line_error(result)


def test_a_home_that_is_a_file_is_one_line(tmp_path, monkeypatch):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    monkeypatch.setenv("DLSTUDY_HOME", str(home))
    result = run("stats")
    assert result.exit_code == 2 and "DLSTUDY_HOME" in one_line_error(result)


# ---------------------------------------------------------------------------
# Writing: all or nothing


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "cards.csv"
    target.write_text("the good file")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(DlstudyError, match="the disk is full; the old file, if any, is unchanged"):
        write_atomic(target, "a new file that never lands")
    assert target.read_text() == "the good file"
    assert [p.name for p in folder.iterdir()] == ["cards.csv"]  # no temporary file left behind


# A user's stdout is block-buffered: what a failed write left in the buffer is written again at exit, which
# PYTHONUNBUFFERED (set on this machine) would hide.
BUFFERED_STDOUT = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
ONE_PROBLEM = [sys.executable, "-m", "dlstudy", "generate", "conv-output-size", "--seed", "1", "--json"]


def test_output_to_a_full_disk_is_one_line():
    # Every command's output goes through the one handler in Commands.main: one problem as JSON witnesses it as
    # well as the whole catalogue does, whose listing builds every template (~1 s more in a fresh process).
    with open("/dev/full", "w") as full:
        result = subprocess.run(ONE_PROBLEM, stdout=full, stderr=subprocess.PIPE, text=True, env=BUFFERED_STDOUT)
    assert result.stderr.strip() == "error: cannot write the output: the disk is full"
    assert result.returncode == 2


def test_output_to_a_closed_pipe_ends_quietly():
    """`dlstudy ... | head -1`: the reader is gone, so the rest of the output goes nowhere, without a message."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(ONE_PROBLEM, stdout=write_end, stderr=subprocess.PIPE, text=True, env=BUFFERED_STDOUT)
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 1


# ---------------------------------------------------------------------------
# Spreadsheet formulas in CSV


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "-log p", "\tx", "\rx",
                                  "'=already", "''+twice", "plain", "'quoted", "", "a=b"])
def test_formula_cells_are_neutralised_and_restored_exactly(cell):
    shown = neutralize(cell)
    assert not shown[:1] in ("=", "+", "-", "@", "\t", "\r")
    assert restore(shown) == cell


def test_csv_export_guards_formulas_and_import_round_trips(tmp_path, home):
    source = tmp_path / "mine.csv"
    source.write_text('front,back\n"=HYPERLINK(""http://evil"")",-log p\n+1 card,@home\n')
    assert run("import", "csv", source, "--deck", "mine").exit_code == 0
    exported = run("export", "csv", "mine").stdout
    assert "'=HYPERLINK" in exported and "'-log p" in exported and "'+1 card" in exported and "'@home" in exported
    again = tmp_path / "again.csv"
    again.write_text(exported)
    assert run("import", "csv", again, "--deck", "mine", "--replace").exit_code == 0
    assert run("export", "csv", "mine").stdout == exported  # the round trip is exact


# ---------------------------------------------------------------------------
# The review history: full disk, damage, backups


def _review(store: Store, card: str, when: datetime) -> int:
    from dlstudy.cards.store import CardRow

    return store.record_review(card, "d", 3, when, lambda row: CardRow(row.card_id, row.deck))


def test_a_full_disk_mid_session_keeps_every_confirmed_review(tmp_path):
    path = tmp_path / "reviews.sqlite3"
    store = Store(path)
    for i in range(3):
        _review(store, f"card-{i}", T0)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now full
    with pytest.raises(DlstudyError, match="the disk is full"):
        for i in range(3, 200):
            _review(store, f"card-{i}-" + "x" * 500, T0)
    store.close()
    with Store(path) as reopened:
        confirmed = len(list(reopened.reviews()))
    assert confirmed >= 3  # every review that returned is there


def test_a_quiz_whose_disk_fills_says_so_and_keeps_what_it_confirmed(home, monkeypatch):
    original = Store.record_review
    calls = []

    def fill_disk_after_first(self, card_id, deck, rating, when, schedule, duration_ms=None, answer=None):
        if calls:  # the disk is full from the second review on: a long answer needs pages there are none of
            self.db.execute(f"PRAGMA max_page_count = {self.db.execute('PRAGMA page_count').fetchone()[0]}")
            answer = "x" * 20000
        calls.append(1)
        return original(self, card_id, deck, rating, when, schedule, duration_ms, answer)

    monkeypatch.setattr(Store, "record_review", fill_disk_after_first)
    result = run("quiz", "activations", "--new", "5", "--seed", "1", input="\n3\n\n3\n\n3\n")
    assert result.exit_code == 2 and "the disk is full" in result.stderr
    monkeypatch.setattr(Store, "record_review", original)
    with open_store(backup=False) as store:
        assert len(list(store.reviews())) == 1


def test_a_damaged_database_is_never_overwritten_and_says_how_to_restore(home):
    path = home / "reviews.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    result = run("stats")
    assert result.exit_code == 2
    line = one_line_error(result)
    assert "damaged" in line and "dlstudy backup restore" in line
    assert path.read_bytes() == before


def test_backups_are_made_daily_listed_and_restored(home, monkeypatch):
    path = home / "reviews.sqlite3"
    with open_store() as store:  # day 1: the first opening backs up (an empty history)
        _review(store, "a", T0)
    monkeypatch.setenv("DLSTUDY_NOW", "2026-11-24T09:00:00+00:00")
    with open_store() as store:  # day 2: backed up with 1 review, then two more
        _review(store, "b", T0)
        _review(store, "c", T0)
    with open_store() as store:  # the same day: no new backup
        assert len(list(store.reviews())) == 3
    listed = run("backup", "list", "--json")
    names = [b["name"] for b in __import__("json").loads(listed.stdout)]
    assert names == ["reviews-2026-11-24.sqlite3", "reviews-2026-11-23.sqlite3"]
    result = run("backup", "restore", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1
    kept = [p for p in home.iterdir() if p.name.startswith("reviews.sqlite3.replaced-")]
    assert len(kept) == 1  # the history it replaced is kept, not lost
    with sqlite3.connect(kept[0]) as db:
        assert db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 3


def test_old_backups_are_pruned_and_a_damaged_history_is_not_backed_up(tmp_path):
    folder = tmp_path / "backups"
    store = Store(tmp_path / "reviews.sqlite3")
    for day in range(1, 6):
        backup.daily(store.db.raw, store.path, datetime(2026, 11, day, tzinfo=timezone.utc), keep=3)
    assert [b.name for b in backup.backups_in(folder)] == [f"reviews-2026-11-0{d}.sqlite3" for d in (5, 4, 3)]
    store.close()
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"garbage" * 1000)
    connection = sqlite3.connect(damaged)
    assert backup.daily(connection, damaged, datetime(2026, 11, 9, tzinfo=timezone.utc)) is None
    connection.close()
