"""The whitelisted ``gridworld``: value iteration on a gridworld MDP, in matrix form (the rl templates)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.expr import ExprError
from dlstudy.mathtext.fn_checks import positions, whole_count

# Gridworld moves in the order up, right, down, left; a slip turns the move 90 degrees either way.
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


def _gridworld(rows, cols, walls, terminals, payoffs, step, slip, gamma, sweeps, payoff_as_value, in_place):
    """Value iteration on a gridworld, in matrix form: the tabular MDP P[(s, a), s'] built from the grid, then
    ``sweeps`` sweeps of V(s) = max_a sum_s' P(s' | s, a) (reward + gamma V(s')), from V = 0.

    Cells are numbered row by row from 1; a wall cell number of 0 means no wall. Moving off the grid or into a
    wall leaves the agent where it is. Terminal cells end the episode: entering one earns the step reward
    plus its payoff, and it is worth 0 afterwards (``payoff_as_value`` = 0); or it is worth its payoff as a
    value (``payoff_as_value`` = 1, the Russell & Norvig convention, where the payoff is discounted like any
    next value). ``in_place`` = 1 sweeps the cells row by row using the values already updated in this sweep.
    Walls show 0.
    """
    rows, cols = whole_count(rows, "gridworld"), whole_count(cols, "gridworld")
    n = rows * cols
    if n > 400:
        raise ExprError("gridworld() takes at most 400 cells")
    sweeps = whole_count(sweeps, "gridworld", 0)
    wall = np.zeros(n, dtype=bool)
    wall[positions([w for w in np.atleast_1d(walls) if w != 0], n)] = True
    term_cells = positions(terminals, n)
    payoffs = np.atleast_1d(np.asarray(payoffs, dtype=float))
    if len(payoffs) != len(term_cells):
        raise ExprError("gridworld() needs one payoff per terminal cell")
    terminal = np.zeros(n, dtype=bool)
    terminal[term_cells] = True
    payoff = np.zeros(n)
    payoff[term_cells] = payoffs
    # P row by row in Python lists: a few hundred entries, where indexing a NumPy array costs more than the sum
    blocked = wall.tolist()
    outcomes = ((0, 1 - slip), (1, slip / 2), (3, slip / 2))
    table = []
    for s in range(n):
        i, j = divmod(s, cols)
        for a in range(4):
            row = [0.0] * n
            for turn, prob in outcomes:
                di, dj = _MOVES[(a + turn) % 4]
                ni, nj = i + di, j + dj
                inside = 0 <= ni < rows and 0 <= nj < cols and not blocked[ni * cols + nj]
                row[ni * cols + nj if inside else s] += prob
            table.append(row)
    P = np.array(table, dtype=float)
    live = ~(wall | terminal)
    entry = step + np.where(terminal & (payoff_as_value == 0), payoff, 0.0)  # reward for arriving in s'
    fixed = np.where(terminal & (payoff_as_value != 0), payoff, 0.0)  # terminal values that never change
    R = (P * entry[None, :]).sum(axis=1).reshape(n, 4)
    V = fixed.copy()
    for _ in range(sweeps):
        if in_place:
            for s in np.flatnonzero(live):
                V[s] = (R[s] + gamma * (P[s * 4: s * 4 + 4] @ V)).max()  # the array's own max: np.max's, less dispatch
        else:
            Q = R + gamma * (P @ V).reshape(n, 4)
            V = np.where(live, Q.max(axis=1), fixed)
    return V.reshape(rows, cols)


GRIDWORLD_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # gridworld(rows, cols, walls, terminals, payoffs, step, slip, gamma, sweeps, payoff_as_value, in_place)
    "gridworld": (lambda *args: _gridworld(*args), 11, 11),
}
