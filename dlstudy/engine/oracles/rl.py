"""Oracles for reinforcement learning: Bellman backups, dynamic programming, TD control, DQN targets.

The dynamic-programming oracles build the whole tabular MDP as arrays
(``P[s, a, s']`` and ``R[s, a]``) and run the algorithm on it: one synchronous
sweep of value iteration or policy evaluation, a greedy improvement step, or
an exact solve of the Bellman expectation equations with ``numpy.linalg.solve``.
TD oracles apply the update to a real Q table; DQN oracles index a batch of
network outputs the way DQN code does (argmax, gather, terminal mask).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dlstudy.engine.oracles import register


# ---------------------------------------------------------------------------
# Tabular MDP helpers (also used directly by the tests on larger MDPs)


def two_state_transitions(p_to_first: np.ndarray) -> np.ndarray:
    """``P[..., s']`` over two successor states from the probability of landing in the first one."""
    p = np.asarray(p_to_first, dtype=float)
    return np.stack([p, 1.0 - p], axis=-1)


def q_values(P: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """One-step lookahead ``Q[s, a]`` = expected reward + discounted expected next value."""
    return np.asarray(R, dtype=float) + gamma * np.einsum("...t,t->...", P, np.asarray(V, dtype=float))


def value_iteration_sweep(P: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """A synchronous sweep: every state backs up from the old V at once."""
    Q = q_values(P, R, V, gamma)
    return Q, Q.max(axis=1)


def policy_matrices(P: np.ndarray, R: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Markov reward process a stochastic policy ``pi[s, a]`` induces: ``P_pi[s, s']`` and ``r_pi[s]``."""
    return np.einsum("sa,sat->st", pi, P), np.einsum("sa,sa->s", pi, R)


def policy_evaluation_sweep(P: np.ndarray, R: np.ndarray, pi: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """One synchronous sweep of iterative policy evaluation, in matrix form r_pi + gamma P_pi V."""
    P_pi, r_pi = policy_matrices(P, R, pi)
    return r_pi + gamma * P_pi @ V


def solve_policy_values(P_pi: np.ndarray, r_pi: np.ndarray, gamma: float) -> np.ndarray:
    """Exact v_pi from the linear Bellman expectation equations (I - gamma P_pi) v = r_pi."""
    return np.linalg.solve(np.eye(len(r_pi)) - gamma * P_pi, r_pi)


def _one_based(index: np.ndarray) -> np.ndarray:
    return np.asarray(index, dtype=float) + 1.0


# ---------------------------------------------------------------------------
# Dynamic programming


@register("bellman_optimality_backup")
def bellman_optimality_backup(p: Mapping[str, Any]) -> dict[str, Any]:
    # MDP over three states: the state s being backed up (row 0) and the two successors s1, s2.
    n_actions = len(p["r"])
    P = np.zeros((3, n_actions, 3))
    P[0, :, 1:] = two_state_transitions(p["p"])
    P[1:, :, 1:] = np.eye(2)[:, None, :]  # successors are absorbing; only row 0 matters
    R = np.zeros((3, n_actions))
    R[0] = p["r"]
    V = np.array([0.0, *np.asarray(p["V"], dtype=float)])
    Q, V_new = value_iteration_sweep(P, R, V, float(p["gamma"]))
    return {"q": Q[0], "v": float(V_new[0])}


@register("value_iteration_sweep")
def value_iteration_sweep_oracle(p: Mapping[str, Any]) -> dict[str, Any]:
    P = two_state_transitions(p["P"])
    Q, V_next = value_iteration_sweep(P, p["R"], p["V"], float(p["gamma"]))
    return {"Q": Q, "V_next": V_next}


@register("policy_evaluation_sweep")
def policy_evaluation_sweep_oracle(p: Mapping[str, Any]) -> dict[str, Any]:
    P = two_state_transitions(p["P"])
    pi = two_state_transitions(p["pi"])  # pi[s] = (pi(a1|s), pi(a2|s))
    gamma = float(p["gamma"])
    return {"Q": q_values(P, p["R"], p["V"], gamma), "V_next": policy_evaluation_sweep(P, p["R"], pi, p["V"], gamma)}


@register("policy_improvement")
def policy_improvement(p: Mapping[str, Any]) -> dict[str, Any]:
    P = two_state_transitions(p["P"])
    Q = q_values(P, p["R"], p["V"], float(p["gamma"]))
    return {"Q": Q, "greedy": _one_based(np.argmax(Q, axis=1))}


@register("bellman_expectation_solve")
def bellman_expectation_solve(p: Mapping[str, Any]) -> dict[str, Any]:
    P_pi = two_state_transitions(p["p"])
    gamma = float(p["gamma"])
    A = np.eye(2) - gamma * P_pi
    return {"A": A, "det": float(np.linalg.det(A)), "V": solve_policy_values(P_pi, np.asarray(p["r"], float), gamma)}


# ---------------------------------------------------------------------------
# Returns, exploration, TD control


@register("discounted_return")
def discounted_return(p: Mapping[str, Any]) -> dict[str, Any]:
    rewards = np.asarray(p["rew"], dtype=float)
    gamma = float(p["gamma"])
    # Discount weights from the impulse response of the return recursion G_t = r_t + gamma G_{t+1}.
    weights = np.cumprod(np.r_[1.0, np.full(len(rewards) - 1, gamma)])
    G = 0.0
    for reward in rewards[::-1]:  # the backward recursion RL code uses
        G = reward + gamma * G
    return {"w": weights, "G": G}


@register("epsilon_greedy_probabilities")
def epsilon_greedy_probabilities(p: Mapping[str, Any]) -> dict[str, Any]:
    q = np.asarray(p["q"], dtype=float)
    eps = float(p["eps"])
    n = len(q)
    # Enumerate the two-stage draw: explore (prob eps, then a uniform action) or exploit (prob 1 - eps, argmax).
    branch_prob = np.array([eps] * n + [1.0 - eps])
    branch_scale = np.array([1.0 / n] * n + [1.0])
    picked = np.r_[np.arange(n), np.argmax(q)]
    probs = np.zeros(n)
    np.add.at(probs, picked, branch_prob * branch_scale)
    return {"p_greedy": float(probs[np.argmax(q)]), "probs": probs}


def _td_update(p: Mapping[str, Any], next_value) -> dict[str, Any]:
    """Apply one tabular TD update to a real Q table (row 0 = s, row 1 = s')."""
    q_next = np.asarray(p["q_next"], dtype=float)
    table = np.zeros((2, len(q_next)))
    a = 0
    table[0, a] = p["q_sa"]
    table[1] = q_next
    target = float(p["r"]) + float(p["gamma"]) * next_value(table[1])
    td_error = target - table[0, a]
    table[0, a] += float(p["alpha"]) * td_error
    return {"target": target, "td": td_error, "q_new": float(table[0, a])}


@register("q_learning_update")
def q_learning_update(p: Mapping[str, Any]) -> dict[str, Any]:
    return _td_update(p, lambda row: row.max())  # off-policy: greedy bootstrap


@register("sarsa_update")
def sarsa_update(p: Mapping[str, Any]) -> dict[str, Any]:
    a_next = int(p["a_next"]) - 1
    return _td_update(p, lambda row: row[a_next])  # on-policy: the action actually taken next


# ---------------------------------------------------------------------------
# Deep Q-learning


@register("dqn_target")
def dqn_target(p: Mapping[str, Any]) -> dict[str, Any]:
    online = np.asarray(p["Qo"], dtype=float)
    target_net = np.asarray(p["Qt"], dtype=float)
    selector = online if p["method"] == "double" else target_net  # Double DQN: online net selects
    a_star = np.argmax(selector, axis=1)
    q_eval = np.take_along_axis(target_net, a_star[:, None], axis=1)[:, 0]  # target net evaluates
    not_done = 1.0 - np.asarray(p["d"], dtype=float)
    y = np.asarray(p["r"], dtype=float) + float(p["gamma"]) * not_done * q_eval
    return {"a_star": _one_based(a_star), "q_eval": q_eval, "y": y}


@register("double_dqn_action")
def double_dqn_action(p: Mapping[str, Any]) -> dict[str, Any]:
    online = np.asarray(p["qo"], dtype=float)[None, :]
    return {"a_star": int(np.argmax(online, axis=1)[0]) + 1}
