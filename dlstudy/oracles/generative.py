"""Oracles: generative."""

from __future__ import annotations
