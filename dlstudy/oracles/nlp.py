"""Oracles: nlp."""

from __future__ import annotations
