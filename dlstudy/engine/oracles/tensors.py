"""Helpers the torch oracles share. torch is imported inside each function, never at module level."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator

import numpy as np


def tensor(value: Any, grad: bool = False):
    """A float64 torch tensor of ``value`` (a number or a NumPy array)."""
    import torch

    return torch.tensor(np.asarray(value, dtype=float), dtype=torch.float64, requires_grad=grad)


def to_numpy(t) -> np.ndarray:
    """A float NumPy copy of a tensor (detached from autograd)."""
    return t.detach().numpy().astype(float)


def meta_module(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """A real ``cls`` (a torch.nn.Module class) built on the meta device, without its random initialisation.

    A meta tensor holds no values, so the initialisation writes nothing: it only runs torch's Python
    decompositions of uniform_ and the like, over half of the build (a Conv2d: 765K instructions, 357K without).
    A module that builds others (nn.Transformer) skips only its own pass; the modules inside are torch's own.
    """
    module = _uninitialised(cls)(*args, device="meta", **kwargs)
    module.__class__ = cls  # built: from now on the torch class itself, so type(module) is cls holds too
    return module


@lru_cache(maxsize=None)
def _uninitialised(cls: Any) -> Any:
    """``cls`` with its (re)initialisation methods doing nothing, for the time of the build."""
    skipped = {name: _no_initialisation for name in ("reset_parameters", "_reset_parameters") if hasattr(cls, name)}
    return type(cls.__name__, (cls,), skipped) if skipped else cls


def _no_initialisation(module: Any) -> None:
    """What a meta module's initialisation does to its values: nothing."""


@contextmanager
def single_thread() -> Iterator[None]:
    """Run tiny torch ops on one intra-op thread, restoring the setting after.

    OMP_NUM_THREADS=1 (set in oracles/__init__.py) covers the CLI; this covers a
    process that imported torch first. On a busy 2-core machine the thread pool
    waits for descheduled workers at every op: a 72-step bidirectional LSTM took
    240 ms with 2 threads and 6 ms with 1; a 4x2 batch norm 35 ms instead of 4 us.
    """
    import torch

    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
