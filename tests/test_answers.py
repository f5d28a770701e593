"""What students type is understood: formats, tolerance, partial credit, symbolic equality."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlstudy.mathtext import parsing
from dlstudy.engine.answers import AnswerFormatError, parse_answer
from dlstudy.engine.checking import judge
from dlstudy.mathtext.numbers import format_value
from dlstudy.engine.symbolic import equivalent
from dlstudy.engine.templates import get_template


@pytest.mark.parametrize(
    "text, value",
    [("3/4", 0.75), ("1.2e-3", 0.0012), ("\u22120.5", -0.5), (" 2^10 ", 1024), ("-3", -3), (".5", 0.5), ("pi", np.pi)],
)
def test_real_formats(text, value):
    assert parse_answer("real", text) == pytest.approx(value)


@pytest.mark.parametrize("text, value", [("34944", 34944), ("34,944", 34944), ("1e3", 1000), ("\u221212", -12)])
def test_integer_formats(text, value):
    assert parse_answer("integer", text) == value


def test_integer_answer_that_is_not_whole_is_read_to_be_judged():
    # forgetting a floor (3.5 for 3) is a mistake to diagnose, not a typing error
    assert parse_answer("integer", "3/4") == 0.75
    assert parse_answer("integer", "34,944") == 34944 and isinstance(parse_answer("integer", "7"), int)


def test_large_whole_numbers_are_read_shown_and_judged_exactly():
    # 8000000008000000001 has 19 digits; as a float it is 8000000008000000000 (floats keep 15-17 digits)
    exact = 4 * (10**9 * 10**9 + 10**9 * 10**9 + 2 * 10**9)  # an LSTM with n = m = 10^9: 8000000008000000000
    assert parse_answer("integer", "8000000008000000000") == exact
    assert parse_answer("integer", "8,000,000,008,000,000,000") == exact
    assert parse_answer("integer", "8.000000008e18") == exact and isinstance(parse_answer("integer", "8e18"), int)
    assert parse_answer("integer", "8000000008000000001") == exact + 1
    assert parse_answer("integer", "2.5e0") == 2.5  # not whole: judged (wrong), not refused
    assert format_value(exact) == "8000000008000000000" and format_value(np.int64(exact)) == "8000000008000000000"
    assert format_value(1.5e20) == "1.5e20"  # a real stays in significant figures
    template = _template()
    assert judge(template, "integer", exact, exact).score == 1
    assert judge(template, "integer", exact + 1, exact).score == 0
    assert judge(template, "integer", 8 * 10**18, exact).score == 0  # "8e18" is not the count
    assert judge(template, "integer", exact, float(exact)).score == 1  # a count that a float holds exactly


@pytest.mark.parametrize("text", ["[1, 2, 3]", "1 2 3", "1, 2, 3", "(1, 2, 3)", "[1 2 3]", "[[1, 2, 3]]", "[1; 2; 3]",
                                  "[1\x1c, 2 ,\u20033]"])  # any character str.isspace calls a space
def test_vector_formats(text):
    assert parse_answer("vector", text).tolist() == [1, 2, 3]


@pytest.mark.parametrize("text", ["[1, 2; 3, 4]", "[[1, 2], [3, 4]]", "1 2; 3 4", "1, 2\n3, 4", "[[1,2],[3,4]]"])
def test_matrix_formats(text):
    assert parse_answer("matrix", text).tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("kind, text", [("vector", "[1, 1e999, 3]"), ("vector", "1 2 -1e400"),
                                        ("matrix", "[1, 2; 3, 1e999]"), ("matrix", "[[1, 2], [-1e999, 4]]")])
def test_an_entry_too_large_for_a_float_is_a_format_error(kind, text):
    with pytest.raises(AnswerFormatError, match="finite"):
        parse_answer(kind, text)


def test_ragged_matrix_is_a_format_error():
    with pytest.raises(AnswerFormatError, match="same length"):
        parse_answer("matrix", "[1, 2; 3]")


@pytest.mark.parametrize("text", ["55x55x96", "55 x 55 x 96", "(55, 55, 96)", "55×55×96", "[55, 55, 96]", "55X55X96"])
def test_shape_formats(text):
    assert parse_answer("shape", text) == (55, 55, 96)


def test_choice_by_letter_number_or_text():
    options = ("a1", "a2", "a3")
    assert parse_answer("choice", "b", choices=options) == 2
    assert parse_answer("choice", "B)", choices=options) == 2
    assert parse_answer("choice", "3", choices=options) == 3
    assert parse_answer("choice", "A2", choices=options) == 2
    with pytest.raises(AnswerFormatError):
        parse_answer("choice", "d", choices=options)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-6))
def test_displayed_numbers_parse_back_within_tolerance(value):
    shown = format_value(value)
    assert parse_answer("real", shown) == pytest.approx(value, rel=1e-3)


def _template():
    return get_template("conv-output-size")


def test_vector_partial_credit_names_wrong_entries():
    template = _template()
    match = judge(template, "vector", np.array([1.0, 2.5, 3.0, 9.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    assert match.score == 0.5
    assert [w.split(":")[0] for w in match.wrong] == ["entry 2", "entry 4"]


def test_matrix_partial_credit_names_row_and_column():
    template = _template()
    match = judge(template, "matrix", np.array([[1.0, 0.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert match.score == 0.75
    assert match.wrong[0].startswith("row 1, column 2")


def test_wrong_size_gets_no_credit_and_says_why():
    match = judge(_template(), "vector", np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    assert match.score == 0 and "size 3" in match.detail


def test_real_tolerance_is_relative_one_percent_by_default():
    template = _template()
    assert judge(template, "real", 100.9, 100.0).score == 1
    assert judge(template, "real", 101.1, 100.0).score == 0
    assert judge(template, "integer", 56, 55).score == 0


def _expr(text):
    return parse_answer("expression", text)


@pytest.mark.parametrize(
    "text",
    ["sigmoid(x)*(1-sigmoid(x))", "exp(-x)/(1+exp(-x))^2", "σ(x)(1 − σ(x))", "1/(1+exp(-x)) - 1/(1+exp(-x))^2"],
)
def test_sigmoid_derivative_forms_are_equivalent(text):
    key = parsing.parse("sigmoid(x)*(1 - sigmoid(x))")
    assert equivalent(_expr(text), key, "x", {})


def test_wrong_derivative_is_not_equivalent():
    key = parsing.parse("sigmoid(x)*(1 - sigmoid(x))")
    assert not equivalent(_expr("sigmoid(x)^2"), key, "x", {})


def test_sympy_decides_when_random_points_cannot():
    # Undefined at every probe point (|x| < 2.5): only sympy can tell these apart.
    key = parsing.parse("sqrt(x - 5)")
    assert equivalent(_expr("(x - 5)^(1/2)"), key, "x", {})
    assert not equivalent(_expr("sqrt(x - 6)"), key, "x", {})


def test_expression_with_unknown_name_names_the_variable():
    with pytest.raises(AnswerFormatError, match="unknown name 'y'"):
        parse_answer("expression", "y^2")


def test_sigfig_mode_accepts_half_a_unit_in_the_last_place():
    import dataclasses

    template = _template()
    template = dataclasses.replace(template, answer=dataclasses.replace(template.answer, sigfigs=3))
    assert judge(template, "real", 0.1235, 0.12346).score == 1  # 0.123|46: within 0.0005
    assert judge(template, "real", 0.1230, 0.12346).score == 1
    assert judge(template, "real", 0.1229, 0.12346).score == 0
    assert judge(template, "real", 12300, 12346).score == 1
    assert judge(template, "real", 12400, 12346).score == 0
