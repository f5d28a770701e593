"""Oracles: norm."""

from __future__ import annotations
