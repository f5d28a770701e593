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

import os
from typing import Any, Callable, Mapping

from dlstudy.registry import Registry

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
    "mlp", "activations", "norm", "rnn", "attention", "rl", "generative", "losses", "nlp", "decoding", "vision", "misc",
    "gnn", "theory",
    "graph", "foundations",
    "training",
    "compression",
)

_ORACLES: Registry[Oracle] = Registry("oracle id", __name__, MODULES)


def register(oracle_id: str) -> Callable[[Oracle], Oracle]:
    """Decorator: add a function to the registry under ``oracle_id``; duplicates raise."""

    def add(func: Oracle) -> Oracle:
        return _ORACLES.add(oracle_id, func)

    return add


def names() -> list[str]:
    return sorted(_ORACLES.names())


def exists(oracle_id: str) -> bool:
    return oracle_id in _ORACLES


def get(oracle_id: str) -> Oracle:
    return _ORACLES.get(oracle_id)
