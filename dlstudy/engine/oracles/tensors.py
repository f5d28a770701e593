"""Helpers the torch oracles share. torch is imported inside each function, never at module level."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np


def tensor(value: Any, grad: bool = False):
    """A float64 torch tensor of ``value`` (a number or a NumPy array)."""
    import torch

    return torch.tensor(np.asarray(value, dtype=float), dtype=torch.float64, requires_grad=grad)


def to_numpy(t) -> np.ndarray:
    """A float NumPy copy of a tensor (detached from autograd)."""
    return t.detach().numpy().astype(float)


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
