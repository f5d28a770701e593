"""Built-in problems ship inside the wheel and are found after a plain (non-editable) install."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip would build: hatchling's PEP 517 hook, called here rather than through a pip process (~1 s)."""
    from hatchling.build import build_wheel  # the build backend of pyproject.toml (a dev dependency)

    out = tmp_path_factory.mktemp("wheel")
    with contextlib.chdir(ROOT):  # build hooks run in the project folder
        name = build_wheel(str(out))
    return out / name


def test_wheel_contains_every_problem_template(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("dlstudy/_content/problems/")}
    assert shipped == {p.name for p in (ROOT / "problems").glob("*.yaml")}


def test_installed_wheel_finds_its_problems_without_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = (
        "import json, dlstudy.paths as p, sys\n"
        "sys.argv = ['dlstudy', 'problems', '--json']\n"
        "print(p.content_dir('problems'))\n"
        "from dlstudy.cli.app import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    where, listing = result.stdout.split("\n", 1)
    assert Path(where).is_relative_to(site)
    assert len(json.loads(listing)) == len(list((ROOT / "problems").glob("*.yaml")))
