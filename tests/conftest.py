"""Shared fixtures: user data goes to a temporary folder, never to the real home; the clock is fixed."""

from __future__ import annotations

import pytest

import dlstudy.engine.oracles  # noqa: F401  - sets OMP_NUM_THREADS before any test module imports torch


FIXED_NOW = "2026-11-23T09:00:00+00:00"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """User data in a temporary folder, and a fixed clock (dlstudy.clock reads DLSTUDY_NOW)."""
    monkeypatch.setenv("DLSTUDY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DLSTUDY_NOW", FIXED_NOW)
    monkeypatch.delenv("DLSTUDY_PROBLEMS", raising=False)
    return tmp_path / "home"


@pytest.fixture
def home(isolated_home):
    """A data folder whose config makes scheduling deterministic (no fuzz) and lets every new card in."""
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.toml").write_text("fuzz = false\nnew_per_day = 100\n")
    return isolated_home
