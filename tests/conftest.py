"""Shared fixtures: user data goes to a temporary folder, never to the real home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLSTUDY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DLSTUDY_PROBLEMS", raising=False)
    return tmp_path / "home"
