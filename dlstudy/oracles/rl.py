"""Oracles: rl."""

from __future__ import annotations
