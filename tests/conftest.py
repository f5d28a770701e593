"""Shared fixtures: user data goes to a temporary folder, never to the real home."""

from __future__ import annotations

import pytest

import dlstudy.oracles  # noqa: F401  - sets OMP_NUM_THREADS before any test module imports torch


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLSTUDY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DLSTUDY_PROBLEMS", raising=False)
    return tmp_path / "home"
