"""The built-in decks: valid, complete, every formula renders; malformed decks give located errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dlstudy.cards import decks
from dlstudy.cards.decks import Gap, cloze_side, lint_file, lint_paths, load_decks, parse_cloze, render_math
from dlstudy.errors import DlstudyError
from dlstudy.engine.templates import all_templates

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_decks_lint_clean():
    assert [str(e) for e in lint_paths([decks.builtin_deck_dir()])] == []


def test_builtin_decks_validate_against_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from dlstudy.yamlfile import load_yaml

    schema = json.loads((ROOT / "docs" / "deck.schema.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)  # one validator for every deck (jsonschema.validate builds one per call)
    for path in sorted((ROOT / "decks").glob("*.yaml")):
        error = jsonschema.exceptions.best_match(validator.iter_errors(json.loads(json.dumps(load_yaml(path)))))
        assert error is None, f"{path.name}: {error}"


def test_course_coverage_counts():
    cards = [card for deck in load_decks() for card in deck.cards()]
    kinds = Counter(card.kind for card in cards)
    assert len(cards) >= 300, kinds
    assert kinds["derivation"] >= 40, kinds
    assert all(kinds[k] > 0 for k in decks.CARD_KINDS), kinds


def test_every_template_has_a_problem_card_in_its_topic_deck():
    by_topic: dict[str, set[str]] = {}
    for deck in load_decks():
        by_topic.setdefault(deck.topic, set()).update(n.template for n in deck.notes if n.kind == "problem")
    missing = [t.id for t in all_templates() if t.id not in by_topic.get(t.topic, set())]
    assert missing == []


def test_every_formula_in_every_deck_renders():
    for deck in load_decks():
        for note in deck.notes:
            texts = [note.front, note.back, note.extra, *note.steps]
            if note.kind == "cloze":
                texts += [cloze_side(note.text, n, reveal) for n in decks.gap_numbers(note.text) for reveal in (False, True)]
            for text in texts:
                rendered = render_math(text)
                assert "\\frac" not in rendered and "\\sigma" not in rendered, (note.id, rendered)


def test_cloze_gaps_survive_latex_braces():
    text = r"$y = {{c1::\frac{a}{b}}}$ and {{c2::\hat{\mathbf{x}}}} and {{c1::z::letter}}"
    parts = parse_cloze(text)
    gaps = [p for p in parts if isinstance(p, Gap)]
    assert [(g.number, g.content, g.hint) for g in gaps] == [
        (1, r"\frac{a}{b}", ""), (2, r"\hat{\mathbf{x}}", ""), (1, "z", "letter"),
    ]
    assert cloze_side(text, 1, reveal=False) == r"$y = […]$ and \hat{\mathbf{x}} and [letter]"
    assert "a/b" in render_math(cloze_side(text, 1, reveal=True))


BAD_DECKS = {
    "bad yaml": ("deck: x\ntitle: [unclosed\n", r":\d+:\d+: "),
    "duplicate id": (
        "deck: x\ntitle: t\ncards:\n  - {id: a, front: f, back: b}\n  - {id: a, front: f, back: b}\n",
        r"x.yaml:5:\d+: duplicate id 'a'",
    ),
    "unknown template": (
        "deck: x\ntitle: t\ncards:\n  - id: p\n    kind: problem\n    template: conv-outpt-size\n",
        r"x.yaml:6:15: unknown problem template 'conv-outpt-size'; did you mean 'conv-output-size'\?",
    ),
    "unbalanced dollar": (
        "deck: x\ntitle: t\ncards:\n  - id: a\n    front: 'cost $x'\n    back: b\n",
        r"x.yaml:5:12: unbalanced math in 'front'",
    ),
    "python tag": (
        "deck: x\ntitle: t\ncards:\n  - id: !!python/object/apply:os.system ['touch PWNED']\n",
        r"x.yaml:4:\d+: ",
    ),
    "misread escape": (
        'deck: x\ntitle: t\ncards:\n  - id: a\n    front: "$\\frac{1}{2}$"\n    back: b\n',
        r"x.yaml:5:12: 'front' contains a control character",
    ),
}


@pytest.mark.parametrize("name", BAD_DECKS)
def test_malformed_decks_give_located_errors(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text, pattern = BAD_DECKS[name]
    path = tmp_path / "x.yaml"
    path.write_text(text)
    deck, errors = lint_file(path)
    assert deck is None and errors
    import re

    assert any(re.search(pattern, str(e)) for e in errors), [str(e) for e in errors]
    with pytest.raises(DlstudyError):
        decks.load_deck(path)
    assert not (tmp_path / "PWNED").exists()


def test_lint_command_exit_codes(tmp_path):
    from typer.testing import CliRunner

    from dlstudy.cli.app import app

    bad = tmp_path / "x.yaml"
    bad.write_text(BAD_DECKS["unknown template"][0])
    result = CliRunner().invoke(app, ["deck", "lint", str(bad)])
    assert result.exit_code == 2 and "x.yaml:6:15:" in result.stderr
    result = CliRunner().invoke(app, ["deck", "lint", str(ROOT / "decks")])
    assert result.exit_code == 0, result.stderr
