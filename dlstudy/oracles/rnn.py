"""Oracles: rnn."""

from __future__ import annotations
