"""The oracle registry: live computations that produce answer keys.

An oracle takes a template's parameters (ints, floats, words, NumPy arrays) and
returns a dict of named quantities computed by actually doing the operation
(NumPy or torch), never by re-typing the closed-form formula.  Keys match the
template's step names; tests prove each step's formula equals them.

Ids resolve only here: a template names an oracle id, never an import path.
Modules import torch inside the oracle functions, so listing and ``--help``
stay fast.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Mapping

# Oracles run tensors of a handful of entries, where torch's worker threads cost
# far more than they save (seen: 35 ms instead of 4 us for a 4x2 batch norm on a
# busy 2-core machine). Set before torch is first imported, which happens
# inside an oracle; a user's own OMP_NUM_THREADS wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

Oracle = Callable[[Mapping[str, Any]], dict[str, Any]]

# Every module that defines oracles; importing them fills the registry.
MODULES = (
    "cnn_sizes", "cnn_costs", "cnn_by_hand", "cnn_memory", "architectures",
    "optimizers", "lr_schedules", "minibatches", "regularization", "initialization",
    "mlp", "activations", "norm", "rnn", "attention", "rl", "generative", "losses", "nlp", "vision", "misc",
    "gnn", "theory",
    "graph", "foundations",
    "training",
    "compression",
)

_REGISTRY: dict[str, Oracle] = {}
_loaded = False


def register(oracle_id: str) -> Callable[[Oracle], Oracle]:
    """Decorator: add a function to the registry under ``oracle_id``; duplicates raise."""

    def add(func: Oracle) -> Oracle:
        if oracle_id in _REGISTRY:
            raise ValueError(f"duplicate oracle id {oracle_id!r}")
        _REGISTRY[oracle_id] = func
        return func

    return add


def _load_all() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in MODULES:
            importlib.import_module(f"dlstudy.engine.oracles.{module}")


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def exists(oracle_id: str) -> bool:
    _load_all()
    return oracle_id in _REGISTRY


def get(oracle_id: str) -> Oracle:
    _load_all()
    return _REGISTRY[oracle_id]
