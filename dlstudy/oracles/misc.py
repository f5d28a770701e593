"""Oracles: misc."""

from __future__ import annotations
