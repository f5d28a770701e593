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


def with_terminal_state(P: np.ndarray) -> np.ndarray:
    """``P[..., s']`` with one absorbing terminal state appended: the probability a row is missing
    (a row summing to less than 1) is the chance that the episode ends there. Its value stays 0."""
    P = np.asarray(P, dtype=float)
    ends = np.clip(1.0 - P.sum(axis=-1, keepdims=True), 0.0, None)
    return np.concatenate([P, ends], axis=-1)


def mdp_from_tables(p: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``P[s, a, s']`` and ``R[s, a]`` from a template's tables (P is (S*A) x S, row (s - 1)A + a),
    with the terminal state appended as state S + 1 (reward 0, absorbing)."""
    R = np.asarray(p["R"], dtype=float)
    S, A = R.shape
    P = with_terminal_state(np.asarray(p["P"], dtype=float).reshape(S, A, S))
    terminal_row = np.zeros((1, A, S + 1))
    terminal_row[0, :, S] = 1.0
    return np.concatenate([P, terminal_row], axis=0), np.concatenate([R, np.zeros((1, A))], axis=0)


def _with_terminal_value(V: Any) -> np.ndarray:
    return np.r_[np.asarray(V, dtype=float), 0.0]


# ---------------------------------------------------------------------------
# Dynamic programming


@register("bellman_optimality_backup")
def bellman_optimality_backup(p: Mapping[str, Any]) -> dict[str, Any]:
    # MDP over the state s being backed up (row 0), its m successors and a terminal state for missing mass.
    transitions = with_terminal_state(np.asarray(p["P"], dtype=float))  # n actions x (m + 1)
    n_actions, n_next = transitions.shape
    P = np.zeros((1 + n_next, n_actions, 1 + n_next))
    P[0, :, 1:] = transitions
    P[1:, :, 1:] = np.eye(n_next)[:, None, :]  # successors are absorbing; only row 0 matters
    R = np.zeros((1 + n_next, n_actions))
    R[0] = p["r"]
    V = np.r_[0.0, _with_terminal_value(p["V"])]
    Q, V_new = value_iteration_sweep(P, R, V, float(p["gamma"]))
    return {"q": Q[0], "v": float(V_new[0])}


@register("value_iteration_sweep")
def value_iteration_sweep_oracle(p: Mapping[str, Any]) -> dict[str, Any]:
    P, R = mdp_from_tables(p)
    Q, V_next = value_iteration_sweep(P, R, _with_terminal_value(p["V"]), float(p["gamma"]))
    return {"Q": Q[:-1], "V_next": V_next[:-1]}


@register("policy_evaluation_sweep")
def policy_evaluation_sweep_oracle(p: Mapping[str, Any]) -> dict[str, Any]:
    P, R = mdp_from_tables(p)
    pi = np.asarray(p["pi"], dtype=float)
    pi = np.concatenate([pi, np.full((1, pi.shape[1]), 1.0 / pi.shape[1])])  # any policy in the terminal state
    V, gamma = _with_terminal_value(p["V"]), float(p["gamma"])
    return {"Q": q_values(P, R, V, gamma)[:-1], "V_next": policy_evaluation_sweep(P, R, pi, V, gamma)[:-1]}


@register("policy_improvement")
def policy_improvement(p: Mapping[str, Any]) -> dict[str, Any]:
    P, R = mdp_from_tables(p)
    Q = q_values(P, R, _with_terminal_value(p["V"]), float(p["gamma"]))[:-1]
    return {"Q": Q, "greedy": _one_based(np.argmax(Q, axis=1))}  # argmax: the first action on ties


@register("bellman_expectation_solve")
def bellman_expectation_solve(p: Mapping[str, Any]) -> dict[str, Any]:
    P_pi = np.asarray(p["P"], dtype=float)
    gamma = float(p["gamma"])
    A = np.eye(len(P_pi)) - gamma * P_pi
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
    greedy = int(np.argmax(q))
    # Enumerate the two-stage draw: explore (prob eps, then a uniform action) or exploit (prob 1 - eps, argmax).
    explored = np.arange(n) if p.get("explore", "all") == "all" else np.delete(np.arange(n), greedy)
    branch_prob = np.r_[np.full(len(explored), eps / len(explored)), 1.0 - eps]
    picked = np.r_[explored, greedy]
    probs = np.zeros(n)
    np.add.at(probs, picked, branch_prob)
    return {"p_greedy": float(probs[greedy]), "probs": probs}


def _td_update(p: Mapping[str, Any], next_value) -> dict[str, Any]:
    """Apply one tabular TD update to a real Q table (row 0 = s, row 1 = s'); a terminal s' has no future."""
    q_next = np.asarray(p["q_next"], dtype=float)
    table = np.zeros((2, len(q_next)))
    a = 0
    table[0, a] = p["q_sa"]
    table[1] = q_next
    future = 0.0 if p.get("done", False) else next_value(table[1])
    target = float(p["r"]) + float(p["gamma"]) * future
    td_error = target - table[0, a]
    table[0, a] += float(p["alpha"]) * td_error
    return {"future": future, "target": target, "td": td_error, "q_new": float(table[0, a])}


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
    import torch

    online = torch.tensor(np.asarray(p["Qo"], dtype=float))
    target_net = torch.tensor(np.asarray(p["Qt"], dtype=float))
    selector = online if p["method"] == "double" else target_net  # Double DQN: the online net selects
    a_star = selector.argmax(dim=1, keepdim=True)
    q_eval = target_net.gather(1, a_star).squeeze(1)  # the target net evaluates, as the PyTorch DQN tutorial
    not_done = 1.0 - torch.tensor(np.asarray(p["d"], dtype=float))
    y = torch.tensor(np.asarray(p["r"], dtype=float)) + float(p["gamma"]) * not_done * q_eval
    return {"a_star": _one_based(a_star.squeeze(1).numpy()), "q_eval": q_eval.numpy(), "y": y.numpy()}


@register("double_dqn_action")
def double_dqn_action(p: Mapping[str, Any]) -> dict[str, Any]:
    online = np.asarray(p["qo"], dtype=float)[None, :]
    return {"a_star": int(np.argmax(online, axis=1)[0]) + 1}


# ---------------------------------------------------------------------------
# Temporal-difference prediction: TD(0) over an episode, n-step and lambda-returns


@register("td_zero_episode")
def td_zero_episode(p: Mapping[str, Any]) -> dict[str, Any]:
    """Tabular TD(0) along one episode that ends in a terminal state (value 0), as Sutton & Barto's
    pseudocode: online, each update as soon as its transition is seen; or offline, every increment
    computed from the values before the episode and applied at its end."""
    V = np.r_[np.asarray(p["V"], dtype=float), 0.0]  # the terminal state is the last entry
    terminal = len(V) - 1
    path = [int(s) - 1 for s in np.asarray(p["path"], dtype=float)]
    rewards = np.asarray(p["rew"], dtype=float)
    alpha, gamma = float(p["alpha"]), float(p["gamma"])
    online = p.get("updates", "online") == "online"
    before = V.copy()
    deltas = []
    for t, s in enumerate(path):
        s_next = path[t + 1] if t + 1 < len(path) else terminal
        values = V if online else before
        delta = rewards[t] + gamma * values[s_next] - values[s]
        deltas.append(delta)
        V[s] += alpha * delta
    visited = before[path + [terminal]]  # the values along the episode before any update
    return {"Vext": visited, "delta": np.array(deltas), "V_new": V[:terminal]}


def _n_step_returns(rewards: np.ndarray, bootstrap: np.ndarray, gamma: float) -> np.ndarray:
    """G_{0:n} for n = 1..T by the backward recursion G_{t:n} = r_{t+1} + gamma G_{t+1:n} from G_{n:n} = V(s_n),
    run for every horizon n at once (entry n - 1 of the array)."""
    T = len(rewards)
    returns = np.asarray(bootstrap, dtype=float).copy()  # G_{n:n} = V(s_n)
    horizon = np.arange(1, T + 1)
    for t in range(T - 1, -1, -1):
        reaching = horizon > t  # the returns whose horizon lies beyond time t take r_{t+1}
        returns[reaching] = rewards[t] + gamma * returns[reaching]
    return returns


@register("n_step_return")
def n_step_return(p: Mapping[str, Any]) -> dict[str, Any]:
    rewards = np.asarray(p["rew"], dtype=float)
    gamma = float(p["gamma"])
    tail = 0.0 if p.get("done", False) else float(p["v_boot"])  # nothing follows a terminal state
    G = _n_step_returns(rewards, np.r_[np.zeros(len(rewards) - 1), tail], gamma)[-1]
    delta = G - float(p["v_s"])
    return {"G": G, "delta": delta, "v_new": float(p["v_s"]) + float(p["alpha"]) * delta}


@register("lambda_return")
def lambda_return(p: Mapping[str, Any]) -> dict[str, Any]:
    """The forward view: every n-step return G_{0:n} (the last one is the Monte Carlo return), weighted
    (1 - lambda) lambda^(n-1), the rest of the weight lambda^(T-1) on the Monte Carlo return."""
    rewards = np.asarray(p["rew"], dtype=float)
    values = np.r_[np.asarray(p["V"], dtype=float), 0.0]  # V(s_1) .. V(s_{T-1}), then the terminal state
    gamma, lam = float(p["gamma"]), float(p["lam"])
    T = len(rewards)
    returns = _n_step_returns(rewards, values, gamma)
    weights = np.array([(1 - lam) * lam ** (n - 1) for n in range(1, T)] + [lam ** (T - 1)])
    return {"Gn": returns, "w": weights, "G_lambda": float(weights @ returns)}


# ---------------------------------------------------------------------------
# Policy gradient: REINFORCE and one-step actor-critic with a softmax policy


def _softmax_policy_step(theta: np.ndarray, action: int, scale: float, lr: float) -> tuple[np.ndarray, ...]:
    """pi = softmax(theta), the score grad log pi(action) by autograd, and one gradient-ascent step of size
    lr on scale * log pi(action). (The step is written out rather than taken with torch.optim, whose first
    use imports torch._dynamo, almost a second.)"""
    import torch

    preferences = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    log_pi = torch.log_softmax(preferences, dim=0)
    (score,) = torch.autograd.grad(log_pi[action], preferences)
    with torch.no_grad():
        updated = preferences + lr * scale * score
    return log_pi.exp().detach().numpy(), score.numpy(), updated.numpy()


@register("reinforce_update")
def reinforce_update(p: Mapping[str, Any]) -> dict[str, Any]:
    gamma, t = float(p.get("gamma", 1.0)), int(p.get("t", 0))
    advantage = float(p["G"]) - float(p.get("b", 0.0))
    scale = gamma**t * advantage
    pi, score, theta_new = _softmax_policy_step(np.asarray(p["theta"], dtype=float), int(p["a"]) - 1, scale, float(p["alpha"]))
    return {"pi": pi, "grad": score, "step": float(p["alpha"]) * scale, "theta_new": theta_new}


@register("actor_critic_update")
def actor_critic_update(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    gamma = float(p["gamma"])
    v_next = 0.0 if p.get("done", False) else float(p["v_next"])
    critic = torch.tensor(float(p["v_s"]), dtype=torch.float64, requires_grad=True)
    target = float(p["r"]) + gamma * v_next  # a fixed target (semi-gradient)
    delta = target - float(critic.detach())
    # critic: a gradient step on half the squared TD error moves V(s) by alpha_w * delta
    (gradient,) = torch.autograd.grad(0.5 * (target - critic) ** 2, critic)
    v_new = float(critic.detach() - float(p["alpha_w"]) * gradient)
    discount = float(p.get("I", 1.0))
    pi, score, theta_new = _softmax_policy_step(
        np.asarray(p["theta"], dtype=float), int(p["a"]) - 1, discount * delta, float(p["alpha_theta"])
    )
    return {"v_prime": v_next, "delta": delta, "v_new": v_new, "pi": pi, "grad": score,
            "theta_new": theta_new}


# ---------------------------------------------------------------------------
# Gridworld value iteration: cell by cell over the grid's geometry (the formula builds the tabular MDP)

GRID_MOVES = {"up": (-1, 0), "right": (0, 1), "down": (1, 0), "left": (0, -1)}
PERPENDICULAR = {"up": ("left", "right"), "down": ("left", "right"), "left": ("up", "down"), "right": ("up", "down")}


def gridworld_sweeps(
    rows: int, cols: int, walls: set, payoffs: dict, step: float, slip: float, gamma: float, sweeps: int,
    payoff_as_value: bool, in_place: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Values after one sweep and after ``sweeps`` sweeps (from V = 0), by looking at each cell's neighbours.

    ``walls`` and ``payoffs`` (terminal cell -> payoff) use (row, column) pairs from 0.
    """
    def land(cell, move):
        i, j = cell[0] + GRID_MOVES[move][0], cell[1] + GRID_MOVES[move][1]
        return (i, j) if 0 <= i < rows and 0 <= j < cols and (i, j) not in walls else cell

    cells = [(i, j) for i in range(rows) for j in range(cols) if (i, j) not in walls and (i, j) not in payoffs]
    V = {(i, j): 0.0 for i in range(rows) for j in range(cols)}
    if payoff_as_value:
        V.update(payoffs)
    history = []
    for _ in range(sweeps):
        source = V if in_place else dict(V)
        for cell in cells:
            best = -np.inf
            for move in GRID_MOVES:
                outcomes = [(1 - slip, land(cell, move))] + [(slip / 2, land(cell, side)) for side in PERPENDICULAR[move]]
                value = 0.0
                for prob, nxt in outcomes:
                    if nxt in payoffs and not payoff_as_value:
                        value += prob * (step + payoffs[nxt])  # entering the terminal pays; it is worth 0 after
                    else:
                        value += prob * (step + gamma * source[nxt])
                best = max(best, value)
            V[cell] = best
        history.append(np.array([[V[(i, j)] for j in range(cols)] for i in range(rows)]))
    zero = np.array([[V[(i, j)] if (i, j) in payoffs else 0.0 for j in range(cols)] for i in range(rows)])
    return (history[0] if history else zero), (history[-1] if history else zero)


@register("gridworld_value_iteration")
def gridworld_value_iteration(p: Mapping[str, Any]) -> dict[str, Any]:
    rows, cols = int(p["rows"]), int(p["cols"])
    cell = lambda number: divmod(int(number) - 1, cols)  # noqa: E731 - cells are numbered row by row from 1
    walls = {cell(w) for w in np.atleast_1d(p["walls"]) if w != 0}
    payoffs = {cell(c): float(v) for c, v in zip(np.atleast_1d(p["term"]), np.atleast_1d(p["payoff"]))}
    first, last = gridworld_sweeps(
        rows, cols, walls, payoffs, float(p["step"]), float(p["slip"]), float(p["gamma"]), int(p["k"]),
        p["terminal"] == "value", p["sweep"] == "inplace",
    )
    return {"V1": first, "V": last}
