"""Fast paths stay fast: --help and listing import neither torch nor sympy."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
sys.argv = ["dlstudy", *{argv!r}]
from dlstudy.cli.app import main
try:
    main()
except SystemExit:
    pass
print("HEAVY:" + ",".join(m for m in ("torch", "sympy", "numpy") if m in sys.modules))
"""


def _heavy_modules(*argv: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=list(argv))],
        capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
    )
    line = [l for l in result.stdout.splitlines() if l.startswith("HEAVY:")][-1]
    return set(filter(None, line[len("HEAVY:"):].split(",")))


@pytest.mark.parametrize("argv", [["--help"], ["problems", "--help"], ["drill", "--help"], ["--version"]])
def test_help_imports_nothing_heavy(argv):
    assert _heavy_modules(*argv) == set()


@pytest.mark.parametrize("argv", [["problems"], ["problems", "--json"], ["problems", "--topic", "cnn"]])
def test_listing_imports_neither_torch_nor_sympy(argv):
    assert not _heavy_modules(*argv) & {"torch", "sympy"}


def test_numpy_oracle_check_does_not_import_torch():
    heavy = _heavy_modules("check", "conv-output-size", "n=227", "k=11", "p=0", "s=4", "d=1", "--answer", "55")
    assert "torch" not in heavy and "sympy" not in heavy


@pytest.mark.parametrize("argv", [["decks"], ["quiz", "cnn", "--limit", "1"], ["stats"]])
def test_quiz_start_imports_neither_torch_nor_sympy(argv, tmp_path, monkeypatch):
    monkeypatch.setenv("DLSTUDY_HOME", str(tmp_path))
    assert not _heavy_modules(*argv) & {"torch", "sympy"}


def test_no_template_pulls_in_sympy_or_torch_dynamo():
    """torch imports sympy (0.3 s) on meta-device forward passes and backward(gradient), and
    torch._dynamo (0.8 s) on the first torch.optim optimizer; oracles avoid those paths so a
    20-problem sheet stays within 1.5 s (bench/run.py)."""
    probe = (
        "import sys\n"
        "from dlstudy.engine import exercises\n"
        "from dlstudy.engine.templates import template_ids\n"
        "for template_id in template_ids():\n"
        "    exercises.generate(template_id, 1)\n"
        "    for heavy in ('sympy', 'torch._dynamo'):\n"
        "        if heavy in sys.modules:\n"
        "            print('HEAVY', template_id, heavy)\n"
        "            sys.exit(0)\n"
        "print('HEAVY none')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "HEAVY none", result.stdout
