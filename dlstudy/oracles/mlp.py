"""Oracles: mlp."""

from __future__ import annotations
