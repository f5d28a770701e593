"""Pedagogy rules (dlstudy.cards.pedagogy): each catches a bad card, passes a good one, and the built-in decks pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from dlstudy.cards import pedagogy
from dlstudy.cards.decks import Note, builtin_deck_dir, deck_files, lint_file

BASE = Note(id="x", deck="d", kind="basic", source="d.yaml:1")


def basic(front: str, back: str = "b", reverse: bool = False, **kw) -> Note:
    return replace(BASE, front=front, back=back, reverse=reverse, **kw)


def flagged(rule, *notes) -> list[str]:
    return [message for _, message in rule(list(notes))]


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
    assert flagged(pedagogy.multi_question, basic(front))


@pytest.mark.parametrize("front", [
    "Output height of a convolution: input $n$, kernel $k$, padding $p$, stride $s$?",
    "In 2-D, what edge must a square neighbourhood have to hold 20 % of the data? Give it to 3 significant figures.",
    "Why do deep, narrow networks beat shallow, wide ones with the same parameter budget?",
    "BERT vs GPT: how does their self-attention differ?",
    "Which activation for the output layer of a binary classifier?",
])
def test_single_question_fronts_pass(front):
    assert flagged(pedagogy.multi_question, basic(front)) == []


# ---------------------------------------------------------------- reversed-giveaway


@pytest.mark.parametrize("front, back", [
    ("ReLU: formula, range, derivative?", "$\\max(0, x)$"),  # reversed card asks for a question
    ("Define the Jensen-Shannon divergence.", "$\\mathrm{JSD}(p \\| q) = ...$"),  # an instruction
    ("Channel shuffle between grouped convolutions", "ShuffleNet (2018)"),  # back names the term
    ("Deadly triad", "function approximation, bootstrapping, off-policy"),  # a list
])
def test_reversed_giveaways_are_flagged(front, back):
    assert flagged(pedagogy.reversed_giveaway, basic(front, back, reverse=True))


@pytest.mark.parametrize("front, back", [
    ("Logistic sigmoid", "$\\sigma(x) = \\frac{1}{1 + e^{-x}}$"),
    ("Teacher forcing", "Training a sequence decoder by feeding it the ground-truth previous token, not its own prediction, as the next input."),
    ("Back-off (n-gram smoothing)", "Fall back to a shorter history when the longer one was never seen."),
])
def test_fair_reversed_cards_pass(front, back):
    assert flagged(pedagogy.reversed_giveaway, basic(front, back, reverse=True)) == []


def test_reverse_rule_ignores_forward_only_cards():
    assert flagged(pedagogy.reversed_giveaway, basic("ReLU: formula, range?", "max(0, x)")) == []


# ---------------------------------------------------------------- cloze-gaps


def cloze(text: str) -> Note:
    return replace(BASE, kind="cloze", text=text)


@pytest.mark.parametrize("text", [
    "{{c1::a}} {{c2::b}} {{c3::c}} {{c4::d}}",  # four gap numbers
    "AlexNet used {{c1::ReLU, dropout, heavy augmentation}}.",  # a list
    "Auxiliary heads {{c1::inject extra gradient into the middle of the net}}.",  # a clause
])
def test_oversized_cloze_is_flagged(text):
    assert flagged(pedagogy.cloze_gaps, cloze(text))


@pytest.mark.parametrize("text", [
    "Softmax: $p_j = {{c1::\\frac{e^{z_j}}{\\sum_k e^{z_k}}}}$, sums to {{c2::1}}.",  # a formula gap is one idea
    "Leaky ReLU uses a slope of {{c1::0.01}} for {{c2::negative inputs}}; range {{c3::$(-\\infty, \\infty)$}}.",
])
def test_small_cloze_passes(text):
    assert flagged(pedagogy.cloze_gaps, cloze(text)) == []


# ---------------------------------------------------------------- giveaway-step


def derivation(*steps: str) -> Note:
    return replace(BASE, kind="derivation", front="Derive it.", steps=steps)


@pytest.mark.parametrize("step", ["Hence $y = 1$.", "So $y = 1$.", "Result: $y = 1$.", "Finally, $y = 1$.",
                                  "Step 3: $y = 1$.", "First, write $y$.", "Then $y = 1$."])
def test_giveaway_steps_are_flagged(step):
    assert flagged(pedagogy.giveaway_step, derivation("$x = 0$.", step))


def test_steps_that_start_with_math_pass():
    note = derivation("$\\sigma(x) = (1 + e^{-x})^{-1}$.", "Chain rule: $\\sigma' = ...$",
                      "First-order MAML drops the Hessian.", "$\\sigma'(x) = \\sigma(x)(1 - \\sigma(x))$.")
    assert flagged(pedagogy.giveaway_step, note) == []


# ---------------------------------------------------------------- typed-precision


def typed(front: str, answer: str = "0.2447", kind: str = "real", **extra) -> SimpleNamespace:
    fields = {**BASE.__dict__, "kind": "typed", "front": front, "answer": answer, "answer_kind": kind}
    return SimpleNamespace(**{"sigfigs": None, "decimals": None, **fields, **extra})


@pytest.mark.parametrize("note", [
    typed("Soft target of class 2?"),  # nothing declared
    typed("Soft target of class 2?", decimals=2),  # declared but not said
    typed("Soft target of class 2? Give it to 3 significant figures.", decimals=2),  # said differently
    typed("Soft target of class 2 exactly?", answer="0.2447", decimals=2),  # 'exactly' but more decimals
])
def test_typed_cards_without_stated_precision_are_flagged(note):
    assert flagged(pedagogy.typed_precision, note)


@pytest.mark.parametrize("note", [
    typed("Soft target of class 2? Give it to 2 decimals.", decimals=2),
    typed("Perplexity? Give it to 3 significant figures.", answer="2.828427", sigfigs=3),
    typed("Largest slope of the sigmoid? Give it exactly.", answer="0.25", decimals=2),
    typed("Parameters of the layer?", answer="456", kind="integer"),
    typed("Derivative of tanh?", answer="1 - tanh(x)^2", kind="expression"),
])
def test_typed_cards_with_stated_precision_pass(note):
    assert flagged(pedagogy.typed_precision, note) == []


def test_precision_is_read_from_the_yaml_when_the_model_lacks_it(tmp_path):
    deck = tmp_path / "t.yaml"
    deck.write_text(
        "deck: t\ntitle: t\ncards:\n"
        "  - id: a\n    kind: typed\n    front: 'p? Give it to 2 decimals.'\n    answer: '0.2447'\n"
        "    answer_kind: real\n    decimals: 2\n"
    )
    note = replace(BASE, id="a", kind="typed", front="p? Give it to 2 decimals.", answer="0.2447",
                   answer_kind="real", source=f"{deck}:4")
    assert pedagogy.field(note, "decimals") == 2
    assert flagged(pedagogy.typed_precision, note) == []


# ---------------------------------------------------------------- near-duplicate


def test_near_duplicates_across_decks_are_flagged():
    a = replace(BASE, id="a", deck="losses", front="Triplet loss with $d(A, P) = 0.5$, $d(A, N) = 0.6$ and margin $\\alpha = 0.2$?",
                back="$\\max(0, 0.5 - 0.6 + 0.2) = 0.1$: the negative is farther, but not by the full margin.")
    b = replace(BASE, id="b", deck="vision", front="Triplet loss with $d(A,P) = 0.6$, $d(A,N) = 0.5$ and margin $\\alpha = 0.2$?",
                back="$\\max(0.6 - 0.5 + 0.2, 0) = 0.3$: the negative is closer than the positive.")
    assert flagged(pedagogy.near_duplicate, a, b)
    assert flagged(pedagogy.near_duplicate, a, replace(b, deck="losses")) == []  # same deck: siblings allowed


def test_different_cards_are_not_near_duplicates():
    a = replace(BASE, id="a", deck="activations", front="Derivative of $\\tanh(x)$?", back="$1 - \\tanh^2(x)$")
    b = replace(BASE, id="b", deck="nlp", front="Derivative of $\\log \\sigma(x)$?", back="$1 - \\sigma(x)$")
    assert flagged(pedagogy.near_duplicate, a, b) == []


# ---------------------------------------------------------------- lint-allow


def test_lint_allow_silences_one_rule_for_one_note():
    note = SimpleNamespace(**{**basic("What is X and why?").__dict__, "lint_allow": ["multi-question"]})
    assert pedagogy.multi_question([note]) == []
    assert pedagogy.check([note], ["multi-question"]) == []


# ---------------------------------------------------------------- the built-in decks


def builtin_notes() -> list[Note]:
    notes = []
    for path in deck_files([builtin_deck_dir()]):
        deck, errors = lint_file(path)
        assert deck is not None, [str(e) for e in errors]
        notes.extend(deck.notes)
    return notes


@pytest.mark.parametrize("name", list(pedagogy.RULES))
def test_builtin_decks_pass_every_rule(name):
    problems = pedagogy.RULES[name](builtin_notes())
    assert problems == [], "\n".join(f"{s}: {m}" for s, m in problems)


def test_related_ids_exist():
    assert pedagogy.unknown_related(builtin_notes()) == []


def test_rules_are_registered():
    assert set(pedagogy.RULES) == {"multi-question", "reversed-giveaway", "cloze-gaps", "giveaway-step",
                                   "typed-precision", "near-duplicate"}
    assert Path(pedagogy.__file__).name == "pedagogy.py"
