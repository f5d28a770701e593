"""Content rules (dlstudy.cards.rules): each catches a bad card, passes a good one, and the built-in decks pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from dlstudy.cards import rules
from dlstudy.cards.decks import builtin_deck_dir, deck_files, lint_paths, load_deck
from dlstudy.cards.model import Note
from dlstudy.errors import Location

BASE = Note(id="x", deck="d", kind="basic", source=Location("d.yaml", 1, 3))


def note(kind: str = "basic", **fields) -> Note:
    return replace(BASE, kind=kind, fields=fields)


def basic(front: str, back: str = "b", reverse: bool = False) -> Note:
    return note(front=front, back=back, reverse=reverse)


def flagged(name: str, *notes: Note) -> list[str]:
    return [found.message for _, found in rules.findings(list(notes), [name])]


# ---------------------------------------------------------------- multi-question


@pytest.mark.parametrize("front", [
    "Logistic sigmoid: formula, range, value at 0, derivative?",
    "What is the dying ReLU problem and how do you reduce it?",
    "Why use several heads? What does it cost?",
    "What is a sparse autoencoder? Give its loss.",
    "Pros and cons of DenseNet compared with ResNet.",
    "Describe the R-CNN pipeline and its drawbacks.",
])
def test_multi_question_fronts_are_flagged(front):
    assert flagged("multi-question", basic(front))


@pytest.mark.parametrize("front", [
    "Output height of a convolution: input $n$, kernel $k$, padding $p$, stride $s$?",
    "In 2-D, what edge must a square neighbourhood have to hold 20 % of the data? Give it to 3 significant figures.",
    "Why do deep, narrow networks beat shallow, wide ones with the same parameter budget?",
    "BERT vs GPT: how does their self-attention differ?",
    "Which activation for the output layer of a binary classifier?",
])
def test_single_question_fronts_pass(front):
    assert flagged("multi-question", basic(front)) == []


# ---------------------------------------------------------------- reversed-giveaway


@pytest.mark.parametrize("front, back", [
    ("ReLU: formula, range, derivative?", "$\\max(0, x)$"),  # reversed card asks for a question
    ("Define the Jensen-Shannon divergence.", "$\\mathrm{JSD}(p \\| q) = ...$"),  # an instruction
    ("Channel shuffle between grouped convolutions", "ShuffleNet (2018)"),  # back names the term
    ("Deadly triad", "function approximation, bootstrapping, off-policy"),  # a list
])
def test_reversed_giveaways_are_flagged(front, back):
    assert flagged("reversed-giveaway", basic(front, back, reverse=True))


@pytest.mark.parametrize("front, back", [
    ("Logistic sigmoid", "$\\sigma(x) = \\frac{1}{1 + e^{-x}}$"),
    ("Teacher forcing", "Training a sequence decoder by feeding it the ground-truth previous token, not its own prediction, as the next input."),
    ("Back-off (n-gram smoothing)", "Fall back to a shorter history when the longer one was never seen."),
])
def test_fair_reversed_cards_pass(front, back):
    assert flagged("reversed-giveaway", basic(front, back, reverse=True)) == []


def test_reverse_rule_ignores_forward_only_cards():
    assert flagged("reversed-giveaway", basic("ReLU: formula, range?", "max(0, x)")) == []


# ---------------------------------------------------------------- cloze-gaps


def cloze(text: str) -> Note:
    return note("cloze", text=text, extra="")


@pytest.mark.parametrize("text", [
    "{{c1::a}} {{c2::b}} {{c3::c}} {{c4::d}}",  # four gap numbers
    "AlexNet used {{c1::ReLU, dropout, heavy augmentation}}.",  # a list
    "Auxiliary heads {{c1::inject extra gradient into the middle of the net}}.",  # a clause
])
def test_oversized_cloze_is_flagged(text):
    assert flagged("cloze-gaps", cloze(text))


@pytest.mark.parametrize("text", [
    "Softmax: $p_j = {{c1::\\frac{e^{z_j}}{\\sum_k e^{z_k}}}}$, sums to {{c2::1}}.",  # a formula gap is one idea
    "Leaky ReLU uses a slope of {{c1::0.01}} for {{c2::negative inputs}}; range {{c3::$(-\\infty, \\infty)$}}.",
])
def test_small_cloze_passes(text):
    assert flagged("cloze-gaps", cloze(text)) == []


# ---------------------------------------------------------------- giveaway-step


def derivation(*steps: str) -> Note:
    return note("derivation", front="Derive it.", steps=steps, back="")


@pytest.mark.parametrize("step", ["Hence $y = 1$.", "So $y = 1$.", "Result: $y = 1$.", "Finally, $y = 1$.",
                                  "Step 3: $y = 1$.", "First, write $y$.", "Then $y = 1$."])
def test_giveaway_steps_are_flagged(step):
    assert flagged("giveaway-step", derivation("$x = 0$.", step))


def test_steps_that_start_with_math_pass():
    note = derivation("$\\sigma(x) = (1 + e^{-x})^{-1}$.", "Chain rule: $\\sigma' = ...$",
                      "First-order MAML drops the Hessian.", "$\\sigma'(x) = \\sigma(x)(1 - \\sigma(x))$.")
    assert flagged("giveaway-step", note) == []


# ---------------------------------------------------------------- typed-precision


def typed(front: str, answer: str = "0.2447", kind: str = "real", **precision) -> Note:
    return note("typed", front=front, answer=answer, answer_kind=kind, variable="x", back="", **precision)


@pytest.mark.parametrize("note", [
    typed("Soft target of class 2?"),  # nothing declared
    typed("Soft target of class 2?", decimals=2),  # declared but not said
    typed("Soft target of class 2? Give it to 3 significant figures.", decimals=2),  # said differently
    typed("Soft target of class 2 exactly?", answer="0.2447", decimals=2),  # 'exactly' but more decimals
])
def test_typed_cards_without_stated_precision_are_flagged(note):
    assert flagged("typed-precision", note)


@pytest.mark.parametrize("note", [
    typed("Soft target of class 2? Give it to 2 decimals.", decimals=2),
    typed("Perplexity? Give it to 3 significant figures.", answer="2.828427", sigfigs=3),
    typed("Largest slope of the sigmoid? Give it exactly.", answer="0.25", decimals=2),
    typed("Parameters of the layer?", answer="456", kind="integer"),
    typed("Derivative of tanh?", answer="1 - tanh(x)^2", kind="expression"),
])
def test_typed_cards_with_stated_precision_pass(note):
    assert flagged("typed-precision", note) == []


# ---------------------------------------------------------------- near-duplicate


def test_near_duplicates_across_decks_are_flagged():
    a = replace(basic("Triplet loss with $d(A, P) = 0.5$, $d(A, N) = 0.6$ and margin $\\alpha = 0.2$?",
                      "$\\max(0, 0.5 - 0.6 + 0.2) = 0.1$: the negative is farther, but not by the full margin."),
                id="a", deck="losses")
    b = replace(basic("Triplet loss with $d(A,P) = 0.6$, $d(A,N) = 0.5$ and margin $\\alpha = 0.2$?",
                      "$\\max(0.6 - 0.5 + 0.2, 0) = 0.3$: the negative is closer than the positive."),
                id="b", deck="vision")
    assert flagged("near-duplicate", a, b)
    assert flagged("near-duplicate", a, replace(b, deck="losses")) == []  # same deck: siblings allowed


def test_different_cards_are_not_near_duplicates():
    a = replace(basic("Derivative of $\\tanh(x)$?", "$1 - \\tanh^2(x)$"), id="a", deck="activations")
    b = replace(basic("Derivative of $\\log \\sigma(x)$?", "$1 - \\sigma(x)$"), id="b", deck="nlp")
    assert flagged("near-duplicate", a, b) == []


# ---------------------------------------------------------------- the built-in decks


def builtin_notes() -> tuple[Note, ...]:
    """The validated notes of the built-in decks, as every command loads them (a deck that does not validate
    raises): validated once a run, not once more here (~0.2 s); test_builtin_decks_lint_clean lints them."""
    return tuple(note for path in deck_files([builtin_deck_dir()]) for note in load_deck(path).notes)


@pytest.mark.parametrize("name", rules.names())
def test_builtin_decks_pass_every_rule(name):
    problems = rules.check(builtin_notes(), rules=[name])
    assert problems == [], "\n".join(map(str, problems))


def test_rules_are_registered_with_a_summary():
    assert set(rules.names()) == {"multi-question", "reversed-giveaway", "cloze-gaps", "giveaway-step",
                                  "typed-precision", "near-duplicate"}
    assert all(rules.get(name).summary for name in rules.names())


BAD_DECK = """\
deck: bad
title: Bad cards
cards:
  - id: bad-two-questions
    front: "What is the dying ReLU problem and how do you reduce it?"
    back: "b"
  - id: bad-derivation
    kind: derivation
    front: "Derive it."
    steps:
      - "$x = 0$."
      - "Hence $y = 1$."
  - id: bad-typed
    kind: typed
    front: "Soft target of class 2?"
    answer: "0.2447"
    answer_kind: real
  - id: bad-cloze
    kind: cloze
    text: "AlexNet used {{c1::ReLU, dropout, heavy augmentation}}."
  - id: bad-reverse
    front: "Deadly triad"
    back: "function approximation, bootstrapping, off-policy"
    reverse: true
"""


def test_deck_lint_reports_every_rule_at_the_key(tmp_path):
    from dlstudy.cli.app import app

    path = tmp_path / "bad.yaml"
    path.write_text(BAD_DECK)
    errors = [str(e) for e in lint_paths([path])]
    expected = [
        (5, 12, "[multi-question]"), (12, 9, "[giveaway-step]"), (17, 18, "[typed-precision]"),
        (20, 11, "[cloze-gaps]"), (24, 14, "[reversed-giveaway]"),
    ]
    assert [e.split(": ", 1)[0] for e in errors] == [f"{path}:{line}:{column}" for line, column, _ in expected]
    assert all(e.endswith(tag) for e, (_, _, tag) in zip(errors, expected))
    result = CliRunner().invoke(app, ["deck", "lint", str(path)])
    assert result.exit_code == 2 and result.stderr.splitlines() == errors


def test_deck_lint_finds_a_near_duplicate_of_a_builtin_card(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "deck: mine\ntitle: Mine\ncards:\n"
        "  - id: my-sigmoid\n    front: 'Logistic sigmoid formula'\n    back: '$\\sigma(x) = \\frac{1}{1 + e^{-x}}$'\n"
    )
    errors = [str(e) for e in lint_paths([path])]
    assert len(errors) == 1 and f"{path}:4:5: 'my-sigmoid' nearly repeats 'activations-sigmoid-formula'" in errors[0]
