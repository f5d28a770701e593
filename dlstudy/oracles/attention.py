"""Oracles: attention."""

from __future__ import annotations
