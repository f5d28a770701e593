"""Engine additions of the cnn template team: vector entries given by name, coded-word cases, derived sizes."""

from __future__ import annotations

import numpy as np
import pytest

from dlstudy.engine import sampling
from dlstudy.engine.params import coerce_params
from dlstudy.engine.templates import get_template, parse_template
from dlstudy.errors import DlstudyError

ENTRIES = """\
id: entries-demo
topic: cnn
title: Demo
statement: 'Kernels $k = {k}$.'
params:
  L: {size: [3, 3], max: 10, about: layers}
  k: {vector: L, range: [1, 5], domain: integer, min: 1, entries: [k1, k2, k3], about: kernel sizes}
oracle: conv2d_output_size
answer: {kind: integer}
steps:
  - {name: r, what: sum, latex: 'r', expr: 'sum(k)'}
"""


def _demo(tmp_path):
    path = tmp_path / "entries-demo.yaml"
    path.write_text(ENTRIES)
    return parse_template(path)


def test_entries_build_the_vector_and_its_size(tmp_path):
    template = _demo(tmp_path)
    params = coerce_params(template, {"k1": "3", "k2": "2", "k3": "5"})
    assert params["k"].tolist() == [3, 2, 5] and params["L"] == 3
    assert coerce_params(template, {"k": "[1, 2, 3, 4]"})["L"] == 4  # the vector itself still works, any size


@pytest.mark.parametrize("given, message", [
    ({"k1": "3", "k2": "2"}, "k3 is missing"),
    ({"k1": "3", "k2": "2", "k3": "1", "k": "[1, 2, 3]"}, "given twice"),
    ({"k1": "3", "k2": "0.5", "k3": "1"}, "whole number"),
])
def test_entries_refuse_clearly(tmp_path, given, message):
    with pytest.raises(DlstudyError, match=message):
        coerce_params(_demo(tmp_path), given)


def test_entry_names_clash_with_other_names(tmp_path):
    path = tmp_path / "entries-demo.yaml"
    path.write_text(ENTRIES.replace("entries: [k1, k2, k3]", "entries: [k1, L, k3]"))
    with pytest.raises(DlstudyError, match="already used"):
        parse_template(path)


def test_old_receptive_field_names_still_solve():
    template = get_template("receptive-field")
    params = coerce_params(template, {"k1": "3", "s1": "1", "k2": "2", "s2": "2", "k3": "3", "s3": "1"})
    assert params["k"].tolist() == [3, 2, 3] and params["s"].tolist() == [1, 2, 1]


def test_case_of_reads_coded_words_back():
    template = get_template("conv-output-size")  # fit: floor = 0, invalid = 1, and the cases follow it
    assert template.case_of({"fit": "invalid"}) == "invalid"
    assert template.case_of(template.env({"fit": "invalid"})) == "invalid"
    assert template.case_of(template.env({"fit": "floor"})) == "floor"


def test_sampling_rejects_draws_whose_derived_sizes_vanish():
    # conv-backward's upstream gradient is sized by a formula that is 0 or negative when the kernel outgrows the
    # input; such draws are rejected like failed constraints (they used to raise from NumPy).
    template = get_template("conv-backward")
    for seed in range(10):
        drawn = sampling.sample_domain(template, seed)
        assert np.shape(drawn.params["G"])[0] >= 1
