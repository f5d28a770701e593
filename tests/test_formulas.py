"""Formula sheets: a crib sheet of the decks' formulas (only the math that states something), grouped by topic."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from dlstudy.cli.app import app
from dlstudy.cards.decks import load_decks
from dlstudy.output.formula_sheet import collect, entry_of

runner = CliRunner()


_MATH = re.compile(r"\$\$?(.+?)\$\$?")
_RELATION = re.compile(r"=|<|>|\\(?:approx|le|ge|propto|sim|to)(?![A-Za-z])")  # not \left, \top


def test_the_sheet_holds_the_formulas_of_formula_cards_and_derivations():
    decks = load_decks()

    def candidate(note):  # the documented rule, written out here rather than asked of entry_of
        if note.kind == "derivation":
            return True
        return "formula" in note.tags and (note.kind in ("basic", "cloze") or (note.kind == "typed" and bool(note.fields.get("back"))))

    def states_something(note):
        text = " ".join(str(v) for v in note.fields.values() if isinstance(v, (str, tuple)))
        return any(_RELATION.search(m) for m in _MATH.findall(text.replace("', '", " ")))

    for deck in decks:
        on_sheet = [n for n in deck.notes if entry_of(n) is not None]
        assert all(candidate(n) for n in on_sheet), deck.name  # nothing else reaches the sheet
        stating = [n for n in deck.notes if candidate(n) and states_something(n)]
        assert len(on_sheet) >= 0.8 * len(stating), deck.name  # example values and fragments aside, they are there
    derivations = sum(1 for d in decks for n in d.notes if n.kind == "derivation")
    assert sum(len(t.entries) for t in collect(decks, [])) >= derivations + 100


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


SENTENCES = """\
deck: sentences
title: Formulas stated in sentences
topic: sentences
cards:
  - id: sentences-leaky
    kind: cloze
    text: 'Leaky ReLU: $f(x) = x$ for $x > 0$ and {{c1::$\\alpha x$}} otherwise, with a slope such as $\\alpha =$ {{c2::0.01}}.'
    tags: [formula]
  - id: sentences-precision
    kind: cloze
    text: 'Precision $= {{c1::\\frac{TP}{TP + FP}}}$: of the items predicted positive, the fraction that are positive.'
    tags: [formula]
  - id: sentences-policy
    kind: cloze
    text: 'For a softmax policy the score is {{c1::$\\nabla \\ln \\pi = [b = a] - \\pi_b$}}, with $l = 1/8$ as an example.'
    tags: [formula]
"""


def test_a_formula_stated_in_a_sentence_is_named_and_whole(tmp_path):
    """A cloze card has no question: the words before its first formula name it. A relation with one side
    outside the math gets the word before it ("Precision $= ...$") or, when the other side is an example value
    ("$\\alpha =$ 0.01"), is left out."""
    from dlstudy.cards.decks import load_deck

    path = tmp_path / "sentences.yaml"
    path.write_text(SENTENCES)
    entries = {note.id: entry_of(note) for note in load_deck(path).notes}
    leaky, precision, policy = entries["sentences-leaky"], entries["sentences-precision"], entries["sentences-policy"]
    # the case a formula holds in comes with it; the example slope does not
    assert leaky.label == (("text", "Leaky ReLU"),) and leaky.body == ((("math", r"f(x) = x \quad \text{for}\ x > 0"),),)
    assert precision.label == (("text", "Precision"),)
    assert precision.body == ((("math", r"\text{Precision} = \frac{TP}{TP + FP}"),),)
    assert policy.label == (("text", "Softmax policy"),)  # "For a softmax policy the score is": the setting
    assert policy.body == ((("math", r"\nabla \ln \pi = [b = a] - \pi_b"),),)  # l = 1/8 is an example value


def test_no_built_in_formula_ends_in_a_relation_and_almost_every_one_has_a_name():
    relation_at_an_end = re.compile(r"(?:=|\\approx|\\le)\s*$")  # "$\alpha =$ 0.01": its value is outside
    entries = [e for t in collect(load_decks(), []) for e in t.entries]
    for entry in entries:
        for line in entry.body:
            assert not any(kind == "math" and relation_at_an_end.search(content) for kind, content in line), line
    unnamed = [e for e in entries if not e.label]
    assert len(unnamed) <= 0.05 * len(entries), [e.body[0] for e in unnamed]
