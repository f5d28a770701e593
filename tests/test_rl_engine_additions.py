"""What the rl/gnn/theory templates added to the engine: array defaults, stochastic rows, a word's code as a
case, and the whitelisted functions of the rl block."""

from __future__ import annotations

import numpy as np
import pytest

from dlstudy.engine import sampling, solving
from dlstudy.engine.params import coerce_params
from dlstudy.engine.templates import get_template
from dlstudy.errors import DlstudyError
from dlstudy.mathtext import expr, parsing
from dlstudy.mathtext.functions import evaluate


def run(text: str, **env):
    return evaluate(parsing.parse(text), env)


def test_stochastic_rows_are_probability_distributions_on_the_grid():
    template = get_template("value-iteration-sweep")
    for seed in range(40):
        P = sampling.sample(template, seed).params["P"]
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        assert np.all(P >= 0)
        np.testing.assert_allclose(P * 10, np.round(P * 10), atol=1e-9)  # decimals: 1
    seen_deterministic = any(np.any(sampling.sample(template, s).params["P"] == 1.0) for s in range(40))
    assert seen_deterministic  # zeros and ones come up too


def test_an_array_left_out_takes_its_default_in_the_shape_its_sizes_give():
    template = get_template("gcn-layer")
    params = coerce_params(template, {"e": "[1, 0, 1]", "H": "[[1, 2], [0, -1], [3, 1]]", "w": "[1, -1]"})
    assert params["n"] == 3 and params["k"] == 1
    np.testing.assert_array_equal(params["A"], np.zeros((3, 3)))
    np.testing.assert_array_equal(params["edges"], np.zeros((1, 2)))
    solution = solving.solve(template, params)
    np.testing.assert_allclose(solution.values["Adj"], [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    # a required array is still required
    with pytest.raises(DlstudyError, match="needs n, H"):
        coerce_params(template, {"e": "[1, 0, 1]", "w": "[1, -1]"})


def test_a_case_word_with_codes_is_found_from_what_formulas_see():
    template = get_template("td-zero-episode")
    params = coerce_params(template, {"V": "[0.5, 0.5, 0.5]", "path": "[2, 3, 2]", "rew": "[0, 0, 1]",
                                      "alpha": "0.5", "gamma": "1", "updates": "offline"})
    assert template.case_of(template.env(params)) == "offline"
    solution = solving.solve(template, params)
    np.testing.assert_allclose(solution.answer, [0.5, 0.75, 0.5])  # deltas 0, 0, 0.5 from the old values
    # the same episode online revisits state 2, which the online worked solution refuses with a reason
    with pytest.raises(DlstudyError, match="visit each state once"):
        coerce_params(template, {**{"V": "[0.5, 0.5, 0.5]", "path": "[2, 3, 2]", "rew": "[0, 0, 1]"},
                                 "alpha": "0.5", "gamma": "1"})


def test_table_functions():
    Q = np.array([[1.0, 3, 3], [2, 0, -1]])
    np.testing.assert_array_equal(run("reshape(seq(6), 2, 3)"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(run("rowmax(Q)", Q=Q), [3, 2])
    np.testing.assert_array_equal(run("rowargmax(Q)", Q=Q), [2, 1])  # the first of tied maxima
    np.testing.assert_array_equal(run("rowsum(Q)", Q=Q), [7, 1])
    np.testing.assert_array_equal(run("gather(Q, [3, 1])", Q=Q), [3, 2])
    np.testing.assert_array_equal(run("take([5, 6, 7], [3, 3, 1])"), [7, 7, 5])
    np.testing.assert_array_equal(run("cumsum([1, 2, 3])"), [1, 3, 6])
    np.testing.assert_array_equal(run("hstack(eye(2), [1, 1; 1, 1])"), [[1, 0, 1, 1], [0, 1, 1, 1]])
    with pytest.raises(expr.ExprError):
        run("reshape(seq(6), 4, 2)")
    with pytest.raises(expr.ExprError):
        run("gather(Q, [4, 1])", Q=Q)
    with pytest.raises(expr.ExprError):
        run("seq(2.5)")


def test_linear_algebra_functions():
    A = np.array([[2.0, 1], [1, 2]])
    assert run("det(A)", A=A) == pytest.approx(3.0)
    np.testing.assert_allclose(run("inv(A) @ A", A=A), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(run("matpow(A, 3)", A=A), A @ A @ A)
    np.testing.assert_allclose(run("matpow(A, 0)", A=A), np.eye(2))
    np.testing.assert_allclose(run("eigvals(A)", A=A), [3, 1])
    np.testing.assert_allclose(run("eigvec(A, 1)", A=A), [2**-0.5, 2**-0.5])
    np.testing.assert_allclose(run("eigvec(B, 1)", B=np.array([[1.0, 0], [0, 4]])), [0, 1])  # largest entry positive
    np.testing.assert_allclose(run("svdvals(M)", M=np.array([[3.0, 0], [0, -4], [0, 0]])), [4, 3])
    with pytest.raises(expr.ExprError):
        run("eigvals(M)", M=np.array([[1.0, 2], [0, 1]]))  # not symmetric


def test_graph_functions():
    H = np.array([[1.0, -1], [2, 5], [0, 0]])
    A = np.array([[0.0, 1, 1], [0, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(run("nbmax(A, H)", A=A, H=H), [[2, 5], [0, 0], [1, -1]])  # node 2 has none: 0
    adjacency = run("graph_adjacency(3, A, e, E)", A=np.eye(3), e=np.array([0.0, 0, 1]), E=np.array([[1.0, 2], [0, 0]]))
    np.testing.assert_array_equal(adjacency, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])  # the diagonal is never an edge
