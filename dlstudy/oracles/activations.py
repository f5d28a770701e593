"""Oracles: activations."""

from __future__ import annotations
