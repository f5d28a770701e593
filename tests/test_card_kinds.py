"""The card-kind registry: names are unique, and a kind registered from outside works end to end."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from dlstudy.cards import kinds
from dlstudy.cards.content import Content, Sides, Text
from dlstudy.cards.kinds.base import Asking, CardKind, NoteReader
from dlstudy.cards.lint import lint_file
from dlstudy.cards.model import Card, Deck, Note
from dlstudy.cards.prompts import Prompt
from dlstudy.cli.app import app

runner = CliRunner()


class Definition(CardKind):
    """A toy kind: a term, and what it means. Nothing outside this class knows about it."""

    name = "definition"
    keys = ("term", "meaning")
    required = ("term", "meaning")

    def read(self, note: NoteReader) -> dict[str, Any]:
        return {"term": note.text("term"), "meaning": note.text("meaning", math=True)}

    def prompt(self, card: Card, asking: Asking) -> Prompt:
        return Prompt(card, f"Define: {card.note.fields['term']}", card.note.fields["meaning"])

    def content(self, note: Note) -> Content:
        return Sides((Text(f"Define: {note.fields['term']}"),), (Text(note.fields["meaning"]),))


TOY_DECK = """\
deck: toy
title: Toy deck
cards:
  - id: toy-relu
    kind: definition
    term: ReLU
    meaning: "$\\\\max(0, x)$"
    related: [toy-plain]
  - {id: toy-plain, front: f, back: b}
"""


@pytest.fixture
def definition_kind():
    kind = kinds.register(Definition())
    yield kind
    kinds.unregister(kind.name)


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="duplicate card kind 'basic'"):
        kinds.register(type("AnotherBasic", (CardKind,), {"name": "basic"})())
    assert kinds.names()[:5] == ("basic", "cloze", "typed", "derivation", "problem")


def test_unknown_kind_lists_the_registered_ones(tmp_path, definition_kind):
    path = tmp_path / "toy.yaml"
    path.write_text(TOY_DECK.replace("kind: definition", "kind: definitoin"))
    _, errors = lint_file(path)
    assert [str(e) for e in errors] == [
        f"{path}:5:11: unknown kind 'definitoin'; write one of basic, cloze, typed, derivation, problem, definition; "
        "did you mean 'definition'?"
    ]


def test_a_registered_kind_works_through_lint_cards_and_quiz(home, tmp_path, definition_kind):
    path = tmp_path / "toy.yaml"
    path.write_text(TOY_DECK)
    deck, errors = lint_file(path)
    assert errors == [] and deck is not None
    note = deck.notes[0]
    assert (note.kind, dict(note.fields), note.related) == ("definition", {"term": "ReLU", "meaning": r"$\max(0, x)$"}, ("toy-plain",))
    assert [card.id for card in deck.cards] == ["toy-relu", "toy-plain"]
    assert Deck.from_dict(deck.to_dict()) == deck  # what the deck cache stores

    # The kind's own keys are checked like any other's.
    path.write_text(TOY_DECK.replace("term: ReLU", "trem: ReLU"))
    _, errors = lint_file(path)
    assert any(f"{path}:6:11: unknown key 'trem' for a definition card" in str(e) for e in errors), errors
    path.write_text(TOY_DECK)

    from dlstudy.cards import study

    session = study.start_quiz(["toy"], [str(path)], seed=1)
    try:
        card = session.next_card()
        prompt = session.prompt(card)
        assert (card.id, prompt.question, prompt.self_graded) == ("toy-relu", "Define: ReLU", True)
    finally:
        session.store.close()

    result = runner.invoke(app, ["quiz", "toy", "--deck", str(path), "--limit", "1"], input="\n3\n", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "toy · definition  toy-relu" in result.stdout and "Define: ReLU" in result.stdout and "max(0,x)" in result.stdout

    # Outputs render its generic shape, with no change in them.
    exported = runner.invoke(app, ["export", "csv", "toy", "--deck", str(path)])
    assert exported.exit_code == 0, exported.output
    assert "toy-relu,toy,definition,Define: ReLU,\"$\\max(0, x)$\"" in exported.stdout
    apkg = runner.invoke(app, ["export", "anki", "toy", "--deck", str(path), "-o", str(tmp_path / "toy.apkg"), "--json"])
    assert apkg.exit_code == 0, apkg.output
    assert '"Basic (dlstudy)": 2' in apkg.stdout
