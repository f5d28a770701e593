"""Fast paths stay fast: --help and listing import neither torch nor sympy; generating a problem
imports neither sympy nor torch._dynamo.

Every probe runs in ONE fresh interpreter, one command after another (a Python start that imports
dlstudy costs ~0.3 s, torch ~1.5 s more). After each command, and after the background threads it
started have finished, the probe records which watched modules are loaded. Modules only accumulate,
so "X is not loaded after command N" proves that command N did not import X, and neither did any
command before it. The commands allowed to import the most come last. A failure names the command
that first loaded the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HELP_LIGHT = {"torch", "sympy", "numpy", "typst", "tex2typst"}  # --help: typer only
NO_TORCH_NO_SYMPY = {"torch", "sympy"}
WATCHED = sorted(HELP_LIGHT | {"torch._dynamo"})

# (argv, modules it must not import), in the order they run; listing may load NumPy, so it comes after help.
COMMANDS = [
    (["--help"], HELP_LIGHT),
    (["problems", "--help"], HELP_LIGHT),
    (["drill", "--help"], HELP_LIGHT),
    (["--version"], HELP_LIGHT),
    (["sheet", "--help"], HELP_LIGHT),
    (["export", "--help"], HELP_LIGHT),
    (["import", "csv", "--help"], HELP_LIGHT),
    (["problems"], NO_TORCH_NO_SYMPY),
    (["problems", "--json"], NO_TORCH_NO_SYMPY),
    (["problems", "--topic", "cnn"], NO_TORCH_NO_SYMPY),
    # a NumPy oracle: checking an answer needs no torch
    (["check", "conv-output-size", "n=227", "k=11", "p=0", "s=4", "d=1", "--answer", "55"], NO_TORCH_NO_SYMPY),
    # starting to study, from an empty data folder (the decks are validated, not read from a cache)
    (["decks"], NO_TORCH_NO_SYMPY),
    (["quiz", "cnn", "--limit", "1"], NO_TORCH_NO_SYMPY),
    (["stats"], NO_TORCH_NO_SYMPY),
]
# Last: generating every template once. torch imports sympy (0.3 s) on meta-device forward passes and
# backward(gradient), and torch._dynamo (0.8 s) on the first torch.optim optimizer; oracles avoid those
# paths so a 20-problem sheet stays within 1.5 s (bench/run.py).
GENERATE_FORBIDDEN = {"sympy", "torch._dynamo"}

PROBE = r"""
import json, sys, threading, traceback
WATCHED = {watched!r}
COMMANDS = {commands!r}

def loaded():
    return sorted(m for m in WATCHED if m in sys.modules)

def report(**record):
    print("PROBE " + json.dumps(record), flush=True)

def wait_for_background_work():
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            thread.join(timeout=60)

from dlstudy.cli.app import main
for argv in COMMANDS:
    sys.argv = ["dlstudy", *argv]
    error = None
    try:
        main()
    except SystemExit:
        pass
    except BaseException:
        error = traceback.format_exc()
    wait_for_background_work()
    report(step=" ".join(argv), loaded=loaded(), error=error)

from dlstudy.engine import exercises
from dlstudy.engine.templates import template_ids
first = {{}}
error = None
try:
    for template_id in template_ids():
        exercises.generate(template_id, 1)
        for module in loaded():
            first.setdefault(module, template_id)
except BaseException:
    error = traceback.format_exc()
report(step="generate every template", loaded=loaded(), first=first, error=error)
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict[str, dict]:
    """Each step's record: the watched modules loaded after it, and any exception it raised."""
    empty_home = tmp_path_factory.mktemp("empty-home")  # not the shared validated cache of conftest
    env = {**os.environ, "DLSTUDY_HOME": str(empty_home)}
    source = PROBE.format(watched=WATCHED, commands=[argv for argv, _ in COMMANDS])
    result = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, env=env,
                            stdin=subprocess.DEVNULL, timeout=600)
    records = [json.loads(line[len("PROBE "):]) for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert len(records) == len(COMMANDS) + 1, f"the probe stopped early:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return {record["step"]: record for record in records}


def first_loader(probe: dict[str, dict], module: str) -> str:
    """The first step after which ``module`` was loaded."""
    return next(step for step, record in probe.items() if module in record["loaded"])


@pytest.mark.parametrize("argv, forbidden", COMMANDS, ids=[" ".join(argv) for argv, _ in COMMANDS])
def test_command_imports_nothing_heavy(probe, argv, forbidden):
    record = probe[" ".join(argv)]
    assert record["error"] is None, record["error"]
    heavy = forbidden & set(record["loaded"])
    assert not heavy, {module: f"first loaded by `dlstudy {first_loader(probe, module)}`" for module in heavy}


def test_no_template_pulls_in_sympy_or_torch_dynamo(probe):
    record = probe["generate every template"]
    assert record["error"] is None, record["error"]
    assert "torch" in record["loaded"]  # the walk did run the torch oracles
    heavy = GENERATE_FORBIDDEN & set(record["loaded"])
    assert not heavy, {module: record["first"].get(module) or f"`dlstudy {first_loader(probe, module)}`" for module in heavy}

