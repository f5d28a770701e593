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


# Deck keys that the pedagogy rules use (related, sigfigs, decimals, lint-allow) are
# being added to the deck model on another branch. Until dlstudy.cards.decks knows
# them, the structural linter would reject every built-in deck, so the tests drop
# them from the YAML it reads; dlstudy.cards.pedagogy reads them from the files
# itself. This shim turns itself off once COMMON_KEYS contains "related".
NEW_DECK_KEYS = ("related", "sigfigs", "decimals", "lint-allow")


@pytest.fixture(autouse=True)
def deck_keys_not_yet_in_the_model(monkeypatch):
    from dlstudy.cards import decks

    if "related" in getattr(decks, "COMMON_KEYS", ("related",)) or not hasattr(decks, "load_yaml"):
        return
    original = decks.load_yaml

    def load_without_new_keys(path, *args, **kwargs):
        data = original(path, *args, **kwargs)
        for card in (data.get("cards") or []) if isinstance(data, dict) else []:
            if isinstance(card, dict):
                for key in NEW_DECK_KEYS:
                    card.pop(key, None)
        return data

    monkeypatch.setattr(decks, "load_yaml", load_without_new_keys)
