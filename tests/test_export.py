"""Export to Anki and CSV/JSON, import from CSV: what a user gets back is what dlstudy holds."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from datetime import datetime, timezone

import genanki
import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app
from dlstudy.output.anki import MODEL_NAMES, anki_cloze, html_field, stable_id

runner = CliRunner()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

DECK = r"""
deck: mini
title: Mini & co
cards:
  - id: mini-basic
    front: 'Is $a < b$ when $a = 1$, $b = 2$? Costs \$5'
    back: 'Yes: $$a < b$$'
    tags: [formula, two words, minitag]
  - id: mini-reversed
    front: 'ReLU'
    back: '$\max(0, x)$'
    reverse: true
  - id: mini-cloze
    kind: cloze
    text: 'The estimate {{c1::\hat{\mathbf{x}}}} is $y = {{c2::\frac{a}{b}::ratio}}$ and {{c1::$W^T$}}.'
    extra: 'see $x$'
  - id: mini-typed
    kind: typed
    front: 'd/dx tanh(x)?'
    answer: '1 - tanh(x)^2'
    answer_kind: expression
    back: "Since $\\tanh' = 1 - \\tanh^2$."
  - id: mini-derivation
    kind: derivation
    front: 'Derive it.'
    steps: ['first $x$', 'second $y$', 'third']
  - id: mini-problem
    kind: problem
    template: conv-output-size
"""


def run(*args, input=None, env=None):
    result = runner.invoke(app, [str(a) for a in args], input=input, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def deck(tmp_path):
    path = tmp_path / "decks" / "mini.yaml"
    path.parent.mkdir()
    path.write_text(DECK)
    return path


def read_apkg(path):
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()
        data = z.read("collection.anki2")
    db_path = path.with_suffix(".anki2")
    db_path.write_bytes(data)
    db = sqlite3.connect(db_path)
    try:
        models = json.loads(db.execute("SELECT models FROM col").fetchone()[0])
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
        notes = {}
        for guid, mid, flds, tags in db.execute("SELECT guid, mid, flds, tags FROM notes"):
            notes[guid] = {"model": models[str(mid)]["name"], "mid": mid, "fields": flds.split("\x1f"), "tags": tags.split()}
        cards = db.execute("SELECT count(*) FROM cards").fetchone()[0]
    finally:
        db.close()
    return {"models": {m["name"]: int(k) for k, m in models.items()},
            "decks": {d["name"]: int(k) for k, d in decks.items()}, "notes": notes, "cards": cards}


def export(deck, out, *more):
    result = run("export", "anki", "mini", "--deck", deck, "-o", out, *more)
    assert result.exit_code == 0, result.output
    return read_apkg(out)


def guid(*values):
    return genanki.guid_for("dlstudy", *values)


# ---------------------------------------------------------------------------
# Text conversion


def test_math_becomes_mathjax_and_text_is_escaped():
    assert html_field(r"Is $a < b$ & $$\frac{1}{2}$$ \$5") == r"Is \(a &lt; b\) &amp; \[\frac{1}{2}\] $5"
    assert html_field("line one\nline two") == "line one<br>line two"


ANKI_GAP = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.S)  # how Anki reads a gap: it ends at the first }}


def test_cloze_gaps_with_closing_braces_stay_whole_for_anki():
    text = r"$\hat{x} = {{c1::\hat{\mathbf{x}}}}$, {{c2::\frac{a}{b}::ratio}} and {{c3::plain}}"
    converted = anki_cloze(text)
    assert converted == r"\(\hat{x} = {{c1::\hat{\mathbf{x} } }}\), {{c2::\frac{a}{b} ::ratio}} and {{c3::plain}}"
    gaps = ANKI_GAP.findall(converted)
    assert [(n, c.replace(" ", ""), h) for n, c, h in gaps] == [
        ("1", r"\hat{\mathbf{x}}", ""), ("2", r"\frac{a}{b}", "ratio"), ("3", "plain", ""),
    ]


# Anki recognises an updated export by these numbers, so they may never change. Each is
# 2^30 + (the first 8 bytes of sha256("dlstudy:" + key), big-endian) mod 2^30, worked out with
# `printf 'dlstudy:deck:cnn' | sha256sum` and bc, not with dlstudy.
DECK_MINI_ID = 1576596057
MODEL_IDS = {"basic": 1478803807, "reversed": 1604647373, "cloze": 1319278714}
# genanki.guid_for("dlstudy", *values): Anki's base-91 digits of the first 8 bytes of
# sha256("dlstudy__" + "__".join(values)), worked out the same way.
GUID_MINI_BASIC = "HocNS5!JS!"
GUID_MINI_PROBLEM_SEED_2 = "nOh}6J4!j>"


def test_stable_ids_are_fixed_numbers():
    assert stable_id("deck:cnn") == 1738082060
    assert stable_id("deck:rnn") == 1866633937
    assert {kind: stable_id(f"model:{kind}:v1") for kind in MODEL_IDS} == MODEL_IDS


# ---------------------------------------------------------------------------
# Anki packages


def test_apkg_holds_the_expected_notes(home, deck, tmp_path):
    apkg = export(deck, tmp_path / "mini.apkg", "--variants", "2")
    notes = apkg["notes"]
    assert "dlstudy::mini" in apkg["decks"]
    assert len(notes) == 7  # 5 notes + 2 problem variants
    assert apkg["cards"] == 1 + 2 + 2 + 1 + 1 + 2  # reversed: 2 cards; cloze: gaps c1, c2

    basic = notes[GUID_MINI_BASIC]
    assert basic["model"] == MODEL_NAMES["basic"]
    assert basic["fields"] == [r"Is \(a &lt; b\) when \(a = 1\), \(b = 2\)? Costs $5", r"Yes: \[a &lt; b\]"]
    assert basic["tags"] == ["formula", "two_words", "minitag", "kind::basic"]

    reversed_ = notes[guid("mini-reversed")]
    assert reversed_["model"] == MODEL_NAMES["reversed"]
    assert reversed_["fields"] == ["ReLU", r"\(\max(0, x)\)"]

    cloze = notes[guid("mini-cloze")]
    assert cloze["model"] == MODEL_NAMES["cloze"]
    assert cloze["fields"] == [
        r"The estimate {{c1::\hat{\mathbf{x} } }} is \(y = {{c2::\frac{a}{b} ::ratio}}\) and {{c1::\(W^T\)}}.",
        r"see \(x\)",
    ]

    typed = notes[guid("mini-typed")]
    assert typed["model"] == MODEL_NAMES["basic"]
    assert "1 - tanh(x)^2" in typed["fields"][1] and r"\(\tanh' = 1 - \tanh^2\)" in typed["fields"][1]

    derivation = notes[guid("mini-derivation")]
    assert derivation["fields"][1] == r'<ol class="steps"><li>first \(x\)</li><li>second \(y\)</li><li>third</li></ol>'


def test_problem_variants_are_the_engines(home, deck, tmp_path):
    from dlstudy.engine import exercises

    notes = export(deck, tmp_path / "mini.apkg", "--variants", "3")["notes"]
    assert GUID_MINI_PROBLEM_SEED_2 in notes
    for seed in (1, 2, 3):
        front, back = notes[guid("mini-problem", seed)]["fields"]
        variant, solution = exercises.generate("conv-output-size", seed)
        # the statement as the sheets render it (its math as \( ... \) for MathJax)
        from dlstudy.output import anki
        from dlstudy.output.sheets.model import statement_parts

        assert anki._parts_html(statement_parts(variant)) in front
        assert f"dlstudy generate conv-output-size --seed {seed}" in front
        assert f"(typed: <code>{solution.answer_text}</code>)" in back
        assert rf"<b>Answer:</b> \({solution.answer_text}\)" in back  # an integer answer reads the same in LaTeX
        assert back.count("<li>") == len(solution.steps)
        assert r"q = \frac{n + 2p - k_{\mathrm{eff}}}{s}" in back  # each step's formula, as LaTeX for MathJax


def test_reexport_keeps_guids_and_ids(home, deck, tmp_path):
    first = export(deck, tmp_path / "a.apkg")
    deck.write_text(DECK.replace("'Derive it.'", "'Derive it, reworded.'"))
    second = export(deck, tmp_path / "b.apkg")
    assert set(first["notes"]) == set(second["notes"])
    assert first["models"] == second["models"] == {MODEL_NAMES[kind]: number for kind, number in MODEL_IDS.items()}
    assert first["decks"]["dlstudy::mini"] == second["decks"]["dlstudy::mini"] == DECK_MINI_ID
    assert second["notes"][guid("mini-derivation")]["fields"][0] == "Derive it, reworded."
    assert {n["mid"] for n in second["notes"].values()} <= set(first["models"].values())


def test_export_anki_mistakes(home, deck, tmp_path):
    result = run("export", "anki", "minii", "--deck", deck, "-o", tmp_path / "x.apkg")
    assert result.exit_code == 2 and "did you mean 'mini'" in result.stderr
    result = run("export", "anki", "mini", "--deck", deck, "-o", tmp_path / "x.zip")
    assert result.exit_code == 2 and ".apkg" in result.stderr
    assert not list(tmp_path.glob("x.*"))


# ---------------------------------------------------------------------------
# CSV and JSON


def quiz(deck, lines, *args):
    result = run("quiz", "mini", "--deck", deck, "--seed", "1", *args, input="".join(f"{l}\n" for l in lines),
                 env={"DLSTUDY_NOW": T0.isoformat()})
    assert result.exit_code == 0, result.output
    return result


def test_cards_and_reviews_as_csv_and_json(home, deck, tmp_path):
    quiz(deck, ["", "3", "", "1"], "--limit", "2")  # mini-basic Good, mini-reversed Again
    cram = run("quiz", "minitag", "--deck", deck, "--cram", input="\n4\n")  # mini-basic again: logged, not counted
    assert cram.exit_code == 0, cram.output

    result = run("export", "csv", "mini", "--deck", deck)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [
        "mini-basic", "mini-reversed", "mini-reversed::reverse", "mini-cloze::c1", "mini-cloze::c2",
        "mini-typed", "mini-derivation", "mini-problem",
    ]
    by_id = {r["id"]: r for r in rows}
    basic = by_id["mini-basic"]
    assert (basic["front"], basic["back"], basic["tags"]) == (r"Is $a < b$ when $a = 1$, $b = 2$? Costs \$5", "Yes: $$a < b$$", "formula two words minitag")
    assert (basic["state"], basic["reviews"], basic["lapses"]) == ("learning", "1", "0")
    assert float(basic["stability"]) > 0 and basic["due"].startswith("2026-11-23T")
    assert (by_id["mini-reversed::reverse"]["front"], by_id["mini-reversed::reverse"]["back"]) == (r"$\max(0, x)$", "ReLU")
    assert by_id["mini-cloze::c2"]["front"] == r"The estimate {{c1::\hat{\mathbf{x}}}} is $y = {{c2::\frac{a}{b}::ratio}}$ and {{c1::$W^T$}}."
    assert by_id["mini-derivation"]["back"] == "1. first $x$\n2. second $y$\n3. third"
    assert (by_id["mini-typed"]["state"], by_id["mini-typed"]["due"], by_id["mini-typed"]["stability"]) == ("new", "", "")

    as_json = json.loads(run("export", "csv", "mini", "--deck", deck, "--json").stdout)
    assert [r["id"] for r in as_json] == [r["id"] for r in rows]
    assert as_json[0]["tags"] == ["formula", "two words", "minitag"] and as_json[0]["reviews"] == 1
    assert as_json[0]["stability"] == pytest.approx(float(basic["stability"]))

    result = run("export", "csv", "--reviews")
    reviews = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["card_id"], r["deck"], r["rating"], r["cram"]) for r in reviews] == [
        ("mini-basic", "mini", "3", "0"), ("mini-reversed", "mini", "1", "0"), ("mini-basic", "mini", "4", "1"),
    ]
    assert list(reviews[0]) == ["id", "card_id", "deck", "rating", "reviewed_at", "duration_ms", "answer", "cram"]
    out = tmp_path / "reviews.json"
    result = run("export", "csv", "mini", "--reviews", "--json", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    data = json.loads(out.read_text())
    assert [(r["card_id"], r["rating"], r["cram"]) for r in data] == [(r["card_id"], int(r["rating"]), r["cram"] == "1") for r in reviews]


# ---------------------------------------------------------------------------
# Import


GOOD_CSV = 'front,back,tags\nWhat is $\\sigma(0)$?,$0.5$,"act sigmoid"\n"Softmax outputs, summed?",1,"softmax, sums"\n\nReLU of $-3$?,0\n'


def deck_names():
    return [d["name"] for d in json.loads(run("decks", "--json").stdout)]


def test_imported_csv_becomes_a_deck_to_quiz(home, tmp_path):
    path = tmp_path / "My Words.csv"
    path.write_text(GOOD_CSV)
    result = run("import", "csv", path, "--title", "Words")
    assert result.exit_code == 0, result.stderr
    written = home / "decks" / "my-words.yaml"
    assert run("deck", "lint", written).exit_code == 0
    listed = next(d for d in json.loads(run("decks", "--json").stdout) if d["name"] == "my-words")
    assert (listed["title"], listed["cards"], listed["new"]) == ("Words", 3, 3)
    rows = list(csv.DictReader(io.StringIO(run("export", "csv", "my-words").stdout)))
    assert [(r["front"], r["back"], r["tags"]) for r in rows] == [
        (r"What is $\sigma(0)$?", "$0.5$", "act sigmoid"), ("Softmax outputs, summed?", "1", "softmax sums"), ("ReLU of $-3$?", "0", ""),
    ]
    assert all(re.fullmatch(r"my-words-[0-9a-f]{8}", r["id"]) for r in rows)

    result = run("quiz", "my-words", "--limit", "1", input="\n3\n")
    assert result.exit_code == 0 and "What is σ(0)?" in result.stdout, result.stdout
    db = sqlite3.connect(home / "reviews.sqlite3")
    assert db.execute("SELECT card_id, rating FROM reviews").fetchall() == [(rows[0]["id"], 3)]
    db.close()

    # Re-importing an edited file: refused without --replace; with it, unchanged fronts keep their ids.
    path.write_text(GOOD_CSV.replace("$0.5$", "one half").replace("ReLU of $-3$?", "ReLU of $-4$?"))
    assert run("import", "csv", path).exit_code == 2
    result = run("import", "csv", path, "--replace")
    assert result.exit_code == 0 and "2 unchanged card(s)" in result.stdout
    again = list(csv.DictReader(io.StringIO(run("export", "csv", "my-words").stdout)))
    assert [r["id"] for r in again][:2] == [r["id"] for r in rows][:2] and again[2]["id"] != rows[2]["id"]
    assert again[0]["state"] == "learning" and again[0]["back"] == "one half"


def test_exported_csv_imports_back(home, tmp_path):
    path = tmp_path / "words.csv"
    path.write_text(GOOD_CSV)
    run("import", "csv", path)
    out = tmp_path / "export.csv"
    run("export", "csv", "words", "-o", out)
    result = run("import", "csv", out, "--deck", "words-copy")  # the header names the front, back and tags columns
    assert result.exit_code == 0, result.stderr

    def texts(name):
        return [(r["front"], r["back"], r["tags"]) for r in csv.DictReader(io.StringIO(run("export", "csv", name).stdout))]

    assert texts("words-copy") == texts("words") and len(texts("words")) == 3


BAD_CSVS = {  # FILE:LINE:COL: the line the row starts on, the cell's column
    "empty front": ("front,back\nq1,a1\n  ,a2\n", "3:1: the front is empty"),
    "empty back": ("q1,a1\nq2,\n", "2:2: the back is empty"),
    "column count": ("q1,a1\nq2,a2,tag,extra\n", "2:1: 4 columns"),
    "column count with header": ("front,back,tags\nq1,a1,t\nq2,a2,t,u\nq3\n", "3:1: 4 columns, but the header has 3"),
    "unbalanced dollar": ("q1,a1\nq2,costs $5\n", "2:2: unbalanced math in the back"),
    "math does not render": ("q1,$\\frac{a}{$\n", "1:2: math in the back does not render"),
    "duplicate front": ("q1,a1\nq2,a2\n q1 ,a3\n", "3:1: the same front as line 1"),
    "bad quotes": ('q1,a1\n"q2,a2\n', "2:1: not valid CSV"),
    "line of a row after a multi-line cell": ('q1,"a\nb"\n,a2\n', "3:1: the front is empty"),
    "columns found by the header": ("back,front\na1,\n", "2:2: the front is empty"),
}


@pytest.mark.parametrize("name", BAD_CSVS)
def test_bad_csv_is_located_by_line_and_column_and_nothing_is_written(home, tmp_path, name):
    text, message = BAD_CSVS[name]
    path = tmp_path / "cards.csv"
    path.write_text(text)
    result = run("import", "csv", path)
    assert result.exit_code == 2
    assert f"{path}:{message}" in result.stderr, result.stderr
    assert not (home / "decks").exists()


def test_import_refuses_taken_names_and_ids(home, tmp_path):
    path = tmp_path / "cnn.csv"
    path.write_text("q1,a1\n")
    result = run("import", "csv", path)
    assert result.exit_code == 2 and "a deck named 'cnn' already exists" in result.stderr

    from dlstudy.cards.importing import card_id

    other = tmp_path / "other" / "other.yaml"
    other.parent.mkdir()
    other.write_text(f"deck: other\ntitle: t\ncards:\n  - {{id: {card_id('vocab', 'q2')}, front: f, back: b}}\n")
    (home / "config.toml").write_text(f'decks = ["{other.parent}"]\n')
    path = tmp_path / "vocab.csv"
    path.write_text("q1,a1\nq2,a2\n")
    result = run("import", "csv", path)
    assert result.exit_code == 2 and f"{path}:2:1: card id 'vocab-" in result.stderr and "other.yaml:4" in result.stderr
    assert not (home / "decks").exists()

