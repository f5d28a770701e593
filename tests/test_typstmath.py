"""LaTeX -> Typst: every formula we typeset compiles, and each fix-up does what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlstudy.output import typstmath
from dlstudy.output.typstmath import compile_errors, latex_to_typst

ROOT = Path(__file__).resolve().parents[1]


def test_every_step_formula_of_every_template_compiles():
    formulas = typstmath.formulas_of_templates()
    assert len(formulas) > 300  # every case of every step
    assert compile_errors(formulas) == []  # one Typst document; culprits named only on failure


def _deck_formulas() -> list[str]:
    import yaml

    from dlstudy.mathtext.markup import math_segments

    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            try:
                found.extend(latex.strip() for _, latex in math_segments(node))
            except ValueError:
                pass  # deck lint reports unbalanced math; not this test's business
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the same data, ~10x faster than pure Python
    for path in sorted((ROOT / "decks").glob("*.yaml")):
        walk(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
    return [f for f in dict.fromkeys(found) if f]


def test_every_deck_formula_compiles():
    """latex_to_typst takes any LaTeX string: the decks' formulas are the widest corpus we have."""
    formulas = _deck_formulas()
    if not formulas:
        pytest.skip("no deck formulas found")
    assert compile_errors(formulas) == []


# (LaTeX, what its Typst must contain, what it must not)
FIXUPS = [
    (r"z = \mu + \sigma \odot \epsilon", "dot.o", "dot.circle"),  # Typst 0.14 dropped the circle modifier
    (r"J_{regularized} = J + R", 'J_italic("regularized")', "r e g"),  # one italic word, not spaced letters
    (r"A = \mathrm{softmax}(T)", 'op("softmax")(T)', "s o f t"),  # an upright name, no gap before (
    (r"f(x) = x\ \mathrm{if}\ x > 0", 'op("if")', "i f"),
    (r"c(\mathrm{<s>}\ q_1)", '"<s>"', "upright"),
    (r"\textrm{abc} + \textit{defg}", '"abc"', "textrm"),
    (r"\textit{defg} + x", 'italic("defg")', "textit"),
    (r"|A \cap B| = \max(0, a - |x_i - x_j|)", "lr(|A inter B|)", "| A"),  # bars paired, not spaced
    (r"\lvert x \rvert", "lr(|x|)", "lvert"),
    (r"\lVert w \rVert^2", "norm(w)", "lVert"),
    (r"d(A, P) = \|A - P\|^2", "norm(A - P)", "bar.v.double"),
    (r"\frac{\partial J}{\partial W}\big|_{aW}", "bar.v", "big"),  # an evaluation bar, not half a pair
    (r"\lnot a", "not a", "lnot"),
    (r"x_{ij} + W_{hh}", 'x_italic("ij")', "(i j)"),
]


@pytest.fixture(scope="module")
def fixup_errors() -> dict[str, str]:
    """Each fix-up example's compile error, if any: one Typst document for all of them (one compile instead of
    one each; a failing document is compiled formula by formula to name the culprits)."""
    return dict(compile_errors([latex for latex, _, _ in FIXUPS]))


@pytest.mark.parametrize("latex, present, absent", FIXUPS)
def test_fixups(fixup_errors, latex, present, absent):
    typst = latex_to_typst(latex)
    assert present in typst and absent not in typst, typst
    assert latex not in fixup_errors, fixup_errors[latex]


def test_number_matrices_are_written_directly_as_tex2typst_would():
    import tex2typst

    for latex in (
        r"\begin{bmatrix} 1 & -2.5 \\ 3 \times 10^{-5} & 4 \end{bmatrix}",
        r"\begin{bmatrix} 1 \\ 0.9 \\ 10^{-8} \end{bmatrix}",
        r"\begin{bmatrix} 7 \end{bmatrix}",
    ):
        assert latex_to_typst(latex) == tex2typst.tex2typst(latex)


def test_bad_latex_is_a_value_error_naming_the_formula():
    with pytest.raises(ValueError, match=r"frac\{a"):
        latex_to_typst(r"\frac{a")
    errors = compile_errors([r"x + 1", r"\frac{a", r"\notacommand x"])
    assert [latex for latex, _ in errors] == [r"\frac{a", r"\notacommand x"]
