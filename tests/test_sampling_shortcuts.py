"""The sampler's shortcuts (constraints on steps tried early, their terms on the parameters alone tried before
any step) accept and reject exactly the draws the full check would."""

from __future__ import annotations

import numpy as np
import pytest

from dlstudy.engine import sampling
from dlstudy.engine.evaluation import all_hold, first_violated, formula_values, holds, values_within_constraints
from dlstudy.engine.templates import get_template, template_ids
from dlstudy.mathtext import expr

WITH_STEP_CONSTRAINTS = [t for t in template_ids() if any(c.uses_steps for c in get_template(t).constraints)]


def _full_verdict(template, params, sampling_flag):
    try:
        values = formula_values(template, params)
    except expr.ExprError:
        return False
    return first_violated(template, values, sampling_flag, after_steps=True) is None


@pytest.mark.parametrize("template_id", WITH_STEP_CONSTRAINTS[::3])
def test_early_checks_agree_with_the_full_check(template_id):
    generic = get_template(template_id)
    rng = np.random.default_rng(7)
    verdicts: list[bool] = []
    with np.errstate(all="ignore"):
        for _ in range(2000):
            if len(verdicts) == 60:
                break
            try:
                template, params = sampling._draw_all(generic, lambda p, drawn, t: sampling._draw(p, rng, drawn, t), True)
            except sampling._Rejected:
                continue
            env = template.env(params)
            left_to_try = all_hold(template.unsettled(True), env)  # what _first_valid tries after the draw
            if first_violated(template, env, sampling=True) is not None:
                assert not left_to_try, "the sampler keeps a draw that a constraint on the parameters rejects"
                continue
            full = _full_verdict(template, params, True)
            terms_hold = all(holds(term, env) for c in template.constraints if c.uses_steps for term in c.param_terms)
            if not terms_hold:
                assert not full, "a term on the parameters failed, yet the whole constraint held"
            assert left_to_try == terms_hold, "the sampler's checks after the draw are not every term on the parameters"
            assert (values_within_constraints(template, params, sampling=True) is not None) == full
            verdicts.append(full)
    assert verdicts, "no draw got as far as the steps"


def test_the_param_terms_are_the_and_terms_without_steps():
    constraint = next(c for c in get_template("gat-attention").constraints if c.uses_steps)
    texts = [expr.names(term.node) for term in constraint.param_terms]
    assert texts and all(names <= {"A", "n"} for names in texts)  # A symmetric, no self-loops, not complete
    assert not any("E" in names for names in texts)  # any(E < 0) needs the scores


REDRAW = """\
id: redraw
topic: cnn
title: Redraw
statement: "{X} {Y}"
params:
  n: {size: [3, 3], max: 10}
  X: {vector: n, range: [0, 9]}
  Y: {vector: n, range: [0, 9]}
constraints:
  - when: 'sum(X) == 13 and n >= 2'
    message: a rare sum
    sampling_only: true
oracle: conv2d_output_size
answer: {kind: integer}
steps:
  - name: o
    latex: 'o = n'
    expr: 'n'
"""


def test_a_constraint_on_one_parameter_redraws_only_that_parameter(tmp_path):
    """The parameters before it are kept and the ones after it are drawn once, after it holds."""
    from dlstudy.engine.templates import parse_template

    path = tmp_path / "redraw.yaml"
    path.write_text(REDRAW)
    template = parse_template(path)
    assert set(template.param_checks(True)) == {"n", "X"}  # `n >= 2` ends with n, `sum(X) == 13` with X
    assert not template.param_checks(False)  # sampling only
    for seed in range(10):
        rng = np.random.default_rng(seed)
        drawn = []

        def draw(param, params, t):
            drawn.append(param.name)
            return sampling._draw(param, rng, params, t)

        _, params = sampling._draw_all(template, draw, True)
        assert params["X"].sum() == 13
        assert drawn.count("n") == 1 and drawn.count("Y") == 1 and drawn.count("X") > 1
