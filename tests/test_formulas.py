"""Formula sheets: a crib sheet of the decks' formulas (only the math that states something), grouped by topic."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app
from dlstudy.cards.decks import load_decks
from dlstudy.output.formula_sheet import collect, entry_of

runner = CliRunner()


def test_every_formula_card_and_derivation_is_collected():
    decks = load_decks()
    topics = collect(decks, [])
    expected = sum(1 for d in decks for n in d.notes if entry_of(n) is not None)
    assert sum(len(t.entries) for t in topics) == expected
    derivations = sum(1 for d in decks for n in d.notes if n.kind == "derivation")
    assert expected >= derivations + 100


def test_markdown_sheet_has_topics_and_balanced_math(tmp_path):
    out = tmp_path / "f.md"
    result = runner.invoke(app, ["formulas", "cnn", "rnn", "--format", "md", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "## Convolutional neural networks" in text
    for line in text.splitlines():
        assert len(re.findall(r"(?<!\\)\$", line)) % 2 == 0, line


def test_the_whole_course_fits_a_crib_sheet_of_at_most_four_pages(tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    out = tmp_path / "f.pdf"
    result = runner.invoke(app, ["formulas", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = pdfium.PdfDocument(str(out))
    assert len(document) <= 4
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Convolutional neural networks" in text and "Reinforcement learning" in text  # topics flow on
    for raw in ("\\frac", "\\sigma", "\\mathrm", "\\left", "`", "$"):
        assert raw not in text


def test_only_formulas_reach_the_sheet():
    topics = collect(load_decks(), ["cnn"])
    for entry in (e for t in topics for e in t.entries):
        assert any(kind == "math" for line in entry.body for kind, _ in line), entry  # no prose answers
        assert not any(kind == "text" and len(content) > 5 for line in entry.body for kind, content in line), entry
        assert sum(len(content) for _, content in entry.label) <= 60, entry.label


def test_topics_option_picks_topics(tmp_path):
    out = tmp_path / "f.md"
    result = runner.invoke(app, ["formulas", "--topics", "cnn,rnn", "--format", "md", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [l for l in out.read_text().splitlines() if l.startswith("## ")] == [
        "## Convolutional neural networks", "## Recurrent neural networks"]


@pytest.mark.parametrize(
    "args, message",
    [(["formulas", "cnnn"], "did you mean 'cnn'"), (["formulas", "--format", "docx"], "pdf or md"),
     (["formulas", "-o", "x.md"], "should end in .pdf")],
)
def test_bad_requests_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.stderr
