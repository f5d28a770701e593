"""RL oracles against independent computations, torch, and Sutton & Barto's gridworlds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlstudy.engine.oracles import get
from dlstudy.engine.oracles.rl import policy_matrices, solve_policy_values, value_iteration_sweep, policy_evaluation_sweep

rng = np.random.default_rng(7)
CASES = 300


def _probs(shape):
    return np.round(rng.uniform(0, 1, shape), 1)


def _ints(lo, hi, shape):
    return rng.integers(lo, hi + 1, shape).astype(float)


def _stochastic_rows(rows, cols, end_chance=0.0):
    """Random probability rows; with ``end_chance`` some rows lose mass (the episode may end there)."""
    P = rng.dirichlet(np.ones(cols), size=rows)
    return P * np.where(rng.random((rows, 1)) < end_chance, rng.uniform(0.3, 1.0, (rows, 1)), 1.0)


def _loop_q(R, P_rows, V, gamma):
    """Q(s, a) by explicit sums over successor states; row (s, a) of P_rows is p(. | s, a), and any
    missing probability ends the episode (value 0)."""
    S, A = R.shape
    Q = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            Q[s, a] = R[s, a]
            for s2 in range(S):
                Q[s, a] += gamma * P_rows[s * A + a, s2] * V[s2]
    return Q


# ---------------------------------------------------------------------------
# Dynamic programming: independent loops, any number of states and actions


def test_bellman_backup_matches_loops():
    oracle = get("bellman_optimality_backup")
    for _ in range(CASES):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        r, P, V = rng.normal(size=n), _stochastic_rows(n, m, 0.3), rng.normal(size=m) * 5
        gamma = float(rng.uniform(0, 1))
        out = oracle({"r": r, "P": P, "V": V, "gamma": gamma})
        Q = [r[a] + gamma * sum(P[a, j] * V[j] for j in range(m)) for a in range(n)]
        np.testing.assert_allclose(out["q"], Q, rtol=1e-12, atol=1e-12)
        assert out["v"] == pytest.approx(max(Q))


def test_value_iteration_and_policy_evaluation_match_loops():
    vi, pe, pim = get("value_iteration_sweep"), get("policy_evaluation_sweep"), get("policy_improvement")
    for _ in range(CASES):
        S, A = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        R, P, V = rng.normal(size=(S, A)), _stochastic_rows(S * A, S, 0.2), rng.normal(size=S) * 5
        pi = _stochastic_rows(S, A)
        gamma = float(rng.uniform(0, 1))
        Q = _loop_q(R, P, V, gamma)
        params = {"S": S, "A": A, "R": R, "P": P, "V": V, "gamma": gamma, "pi": pi}
        out = vi(params)
        np.testing.assert_allclose(out["Q"], Q, atol=1e-12)
        np.testing.assert_allclose(out["V_next"], [max(Q[s]) for s in range(S)], atol=1e-12)
        expected = [sum(pi[s, a] * Q[s, a] for a in range(A)) for s in range(S)]
        np.testing.assert_allclose(pe(params)["V_next"], expected, atol=1e-12)
        greedy = pim(params)["greedy"]
        for s in range(S):
            assert Q[s, int(greedy[s]) - 1] == max(Q[s])


def test_policy_improvement_breaks_ties_toward_the_first_action():
    out = get("policy_improvement")({"R": np.array([[1.0, 1.0, 0.0]]), "P": np.zeros((3, 1)), "V": np.zeros(1), "gamma": 0.9})
    assert list(out["greedy"]) == [1.0]


def test_bellman_expectation_solve_is_the_fixed_point():
    oracle = get("bellman_expectation_solve")
    for _ in range(CASES):
        S = int(rng.integers(1, 6))
        r, P, gamma = rng.normal(size=S), _stochastic_rows(S, S, 0.3), float(rng.uniform(0, 0.95))
        out = oracle({"r": r, "P": P, "gamma": gamma})
        V = np.zeros(S)
        for _ in range(1000):  # iterative policy evaluation until convergence (0.95^1000 ~ 5e-23)
            V, before = r + gamma * (P @ V), V
            if np.array_equal(V, before):
                break  # a float fixed point: every further sweep gives this same V (~60 sweeps, not 1000)
        np.testing.assert_allclose(out["V"], V, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(out["A"], np.eye(S) - gamma * P)
        assert out["det"] == pytest.approx(float(torch.linalg.det(torch.tensor(out["A"]))))


def test_episodic_chain_with_gamma_one_golden():
    """Sutton & Barto (2nd ed.), Example 6.2 random walk: states A..E, start in C, +1 on leaving E to the
    right, 0 otherwise, gamma = 1, equiprobable moves. The true values are 1/6, 2/6, ..., 5/6. The two ends are
    rows that sum to 1/2: the missing half is the probability that the episode ends there."""
    P = np.zeros((5, 5))
    for s in range(5):
        if s > 0:
            P[s, s - 1] = 0.5
        if s < 4:
            P[s, s + 1] = 0.5
    r = np.array([0, 0, 0, 0, 0.5])  # leaving E to the right pays +1 with probability 1/2
    out = get("bellman_expectation_solve")({"r": r, "P": P, "gamma": 1.0})
    np.testing.assert_allclose(out["V"], np.arange(1, 6) / 6)


# ---------------------------------------------------------------------------
# Returns and exploration


def test_discounted_return_matches_horner_and_torch():
    oracle = get("discounted_return")
    for _ in range(CASES):
        rew, gamma = _ints(-2, 5, 4), float(rng.choice([0.5, 0.8, 0.9]))
        out = oracle({"rew": rew, "gamma": gamma})
        assert out["G"] == pytest.approx(np.polyval(rew[::-1], gamma))  # Horner: r1 + g(r2 + g(r3 + g r4))
        weights = torch.pow(torch.tensor(gamma, dtype=torch.float64), torch.arange(4, dtype=torch.float64))
        np.testing.assert_allclose(out["w"], weights.numpy(), rtol=1e-12)


def test_epsilon_greedy_matches_torch_mixture():
    oracle = get("epsilon_greedy_probabilities")
    for _ in range(CASES):
        n = int(rng.choice([3, 4]))
        q = rng.permutation(np.arange(-2, 10))[:n].astype(float)  # distinct values: one greedy action
        eps = float(rng.choice([0.1, 0.2, 0.3, 0.5]))
        out = oracle({"n": n, "q": q, "eps": eps})
        greedy = torch.nn.functional.one_hot(torch.argmax(torch.tensor(q)), n).double()
        mixture = eps * torch.full((n,), 1.0 / n, dtype=torch.float64) + (1 - eps) * greedy
        np.testing.assert_allclose(out["probs"], mixture.numpy(), rtol=1e-12)
        assert out["p_greedy"] == pytest.approx(float(mixture.max()))


def test_epsilon_greedy_exploring_among_the_others_matches_simulation():
    q, eps, n = np.array([1.0, 5.0, 2.0, 0.0]), 0.4, 200_000
    sim = np.random.default_rng(2)
    explore = sim.random(n) < eps
    others = np.array([0, 2, 3])
    actions = np.where(explore, others[sim.integers(0, 3, n)], np.argmax(q))
    freq = np.bincount(actions, minlength=4) / n
    out = get("epsilon_greedy_probabilities")({"n": 4, "q": q, "eps": eps, "explore": "others"})
    np.testing.assert_allclose(out["probs"], freq, atol=0.005)
    np.testing.assert_allclose(out["probs"], [0.4 / 3, 0.6, 0.4 / 3, 0.4 / 3])


def test_epsilon_greedy_matches_simulation():
    q, eps, n = np.array([1.0, 5.0, 2.0]), 0.3, 200_000
    sim = np.random.default_rng(1)
    explore = sim.random(n) < eps
    actions = np.where(explore, sim.integers(0, 3, n), np.argmax(q))
    freq = np.bincount(actions, minlength=3) / n
    np.testing.assert_allclose(get("epsilon_greedy_probabilities")({"n": 3, "q": q, "eps": eps})["probs"], freq, atol=0.005)


# ---------------------------------------------------------------------------
# TD control: the tabular update is SGD on the squared TD error with a frozen target


def _torch_td(q_sa, q_next, r, gamma, alpha, bootstrap):
    Q = torch.tensor([[q_sa, 0.0, 0.0], list(q_next)], dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        target = r + gamma * bootstrap(Q[1])
    loss = 0.5 * (target - Q[0, 0]) ** 2
    opt = torch.optim.SGD([Q], lr=alpha)
    loss.backward()
    opt.step()
    return float(target), float(Q[0, 0].detach())


def test_q_learning_and_sarsa_match_torch_sgd():
    ql, sarsa = get("q_learning_update"), get("sarsa_update")
    for _ in range(100):
        p = {
            "r": float(rng.integers(-2, 6)), "q_sa": float(rng.integers(-2, 9)), "q_next": _ints(-2, 10, 3),
            "a_next": int(rng.integers(1, 4)), "alpha": float(rng.choice([0.1, 0.2, 0.5])),
            "gamma": float(rng.choice([0.5, 0.8, 0.9, 1.0])),
        }
        args = (p["q_sa"], p["q_next"], p["r"], p["gamma"], p["alpha"])
        target, new = _torch_td(*args, lambda row: row.max())
        out = ql(p)
        assert (out["target"], out["q_new"]) == pytest.approx((target, new))
        assert out["td"] == pytest.approx(target - p["q_sa"])
        target, new = _torch_td(*args, lambda row: row[p["a_next"] - 1])
        out = sarsa(p)
        assert (out["target"], out["q_new"]) == pytest.approx((target, new))
        # a terminal next state: the target is the reward alone, whatever the table holds for s'
        for oracle in (ql, sarsa):
            out = oracle({**p, "done": True})
            assert out["target"] == p["r"] and out["future"] == 0.0
            assert out["q_new"] == pytest.approx(p["q_sa"] + p["alpha"] * (p["r"] - p["q_sa"]))


# ---------------------------------------------------------------------------
# DQN targets, as the PyTorch DQN tutorial computes them (gather, max(1), zero for terminal)


def _torch_targets(r, d, online, target_net, gamma, double):
    online, target_net = torch.tensor(online), torch.tensor(target_net)
    if double:
        a = online.argmax(dim=1, keepdim=True)
        next_values = target_net.gather(1, a).squeeze(1)
    else:
        next_values = target_net.max(dim=1).values
    next_values = next_values * (1 - torch.tensor(d))
    return (torch.tensor(r) + gamma * next_values).numpy()


def test_dqn_targets_match_torch():
    oracle = get("dqn_target")
    for _ in range(CASES):
        batch = int(rng.integers(1, 5))
        online = rng.permutation(np.arange(30))[: batch * 3].reshape(batch, 3).astype(float)
        target_net = rng.permutation(np.arange(30))[: batch * 3].reshape(batch, 3).astype(float)
        r, d = _ints(-1, 3, batch), _ints(0, 1, batch)
        gamma = float(rng.choice([0.5, 0.9, 0.99]))
        for method in ("dqn", "double"):
            out = oracle({"method": method, "r": r, "d": d, "Qo": online, "Qt": target_net, "gamma": gamma})
            np.testing.assert_allclose(out["y"], _torch_targets(r, d, online, target_net, gamma, method == "double"))
        choice = get("double_dqn_action")({"a": 1, "qo": online[0], "qt": target_net[0]})["a_star"]
        assert choice == int(torch.tensor(online[0]).argmax()) + 1


# ---------------------------------------------------------------------------
# Golden: Sutton & Barto, Reinforcement Learning: An Introduction (2nd ed., 2018)


def _grid_5x5():
    """Example 3.5: 5x5 grid, actions N/S/E/W; A=(0,1) -> A'=(4,1) +10, B=(0,3) -> B'=(2,3) +5; off-grid -1."""
    P, R = np.zeros((25, 4, 25)), np.zeros((25, 4))
    for i in range(5):
        for j in range(5):
            s = 5 * i + j
            for a, (di, dj) in enumerate(((-1, 0), (1, 0), (0, 1), (0, -1))):
                if (i, j) == (0, 1):
                    nxt, rew = (4, 1), 10.0
                elif (i, j) == (0, 3):
                    nxt, rew = (2, 3), 5.0
                elif 0 <= i + di < 5 and 0 <= j + dj < 5:
                    nxt, rew = (i + di, j + dj), 0.0
                else:
                    nxt, rew = (i, j), -1.0
                P[s, a, 5 * nxt[0] + nxt[1]] = 1.0
                R[s, a] = rew
    return P, R


# Figure 3.2 (right): state values of the equiprobable random policy, gamma = 0.9.
FIG_3_2 = [
    [3.3, 8.8, 4.4, 5.3, 1.5],
    [1.5, 3.0, 2.3, 1.9, 0.5],
    [0.1, 0.7, 0.7, 0.4, -0.4],
    [-1.0, -0.4, -0.4, -0.6, -1.2],
    [-1.9, -1.3, -1.2, -1.4, -2.0],
]
# Figure 3.5 (middle): optimal state values v*, gamma = 0.9.
FIG_3_5 = [
    [22.0, 24.4, 22.0, 19.4, 17.5],
    [19.8, 22.0, 19.8, 17.8, 16.0],
    [17.8, 19.8, 17.8, 16.0, 14.4],
    [16.0, 17.8, 16.0, 14.4, 13.0],
    [14.4, 16.0, 14.4, 13.0, 11.7],
]


def test_gridworld_random_policy_values_golden():
    P, R = _grid_5x5()
    P_pi, r_pi = policy_matrices(P, R, np.full((25, 4), 0.25))
    V = solve_policy_values(P_pi, r_pi, 0.9)
    np.testing.assert_allclose(V.reshape(5, 5), FIG_3_2, atol=0.05 + 1e-9)


def test_gridworld_value_iteration_golden():
    P, R = _grid_5x5()
    V = np.zeros(25)
    for _ in range(300):
        _, V = value_iteration_sweep(P, R, V, 0.9)
    np.testing.assert_allclose(V.reshape(5, 5), FIG_3_5, atol=0.05 + 1e-9)


def test_gridworld_q_learning_and_dqn_targets_converge_to_v_star_golden():
    """Q-learning with alpha = 1 on this deterministic grid is value iteration on Q: it must reach Figure 3.5."""
    P, R = _grid_5x5()
    nxt = P.argmax(axis=2)
    ql = get("q_learning_update")
    Q = np.zeros((25, 4))
    for _ in range(250):
        new = Q.copy()
        for s in range(25):
            for a in range(4):
                new[s, a] = ql({"r": R[s, a], "q_sa": Q[s, a], "q_next": Q[nxt[s, a]], "a_next": 1, "alpha": 1.0, "gamma": 0.9})["q_new"]
        Q = new
    np.testing.assert_allclose(Q.max(axis=1).reshape(5, 5), FIG_3_5, atol=0.05 + 1e-9)
    # Fitted Q iteration with the DQN target on the whole table as one minibatch (no terminal states here).
    dqn = get("dqn_target")
    Q = np.zeros((25, 4))
    for _ in range(250):
        batch_next = Q[nxt.reshape(-1)]
        for method in ("dqn", "double"):  # online = target network: both targets coincide
            y = dqn({"method": method, "r": R.reshape(-1), "d": np.zeros(100), "Qo": batch_next, "Qt": batch_next, "gamma": 0.9})["y"]
        Q = y.reshape(25, 4)
    np.testing.assert_allclose(Q.max(axis=1).reshape(5, 5), FIG_3_5, atol=0.05 + 1e-9)


def _grid_4x4():
    """Example 4.1: 4x4 grid, terminal corners 0 and 15, reward -1 per move, off-grid moves stay put."""
    P, R = np.zeros((16, 4, 16)), np.full((16, 4), -1.0)
    for s in range(16):
        i, j = divmod(s, 4)
        for a, (di, dj) in enumerate(((-1, 0), (1, 0), (0, 1), (0, -1))):
            if s in (0, 15):
                P[s, a, s], R[s, a] = 1.0, 0.0  # absorbing, no more reward
                continue
            ni, nj = i + di, j + dj
            P[s, a, 4 * ni + nj if 0 <= ni < 4 and 0 <= nj < 4 else s] = 1.0
    return P, R


def test_gridworld_policy_evaluation_sweeps_golden():
    # Figure 4.1 (left column): v_k of the equiprobable random policy, gamma = 1, synchronous sweeps.
    P, R = _grid_4x4()
    pi = np.full((16, 4), 0.25)
    V = np.zeros(16)
    V = policy_evaluation_sweep(P, R, pi, V, 1.0)  # k = 1
    np.testing.assert_allclose(V.reshape(4, 4), [[0, -1, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, 0]])
    V = policy_evaluation_sweep(P, R, pi, V, 1.0)  # k = 2: the figure prints -1.7 for -1.75
    np.testing.assert_allclose(V.reshape(4, 4)[0], [0, -1.75, -2, -2])
    for _ in range(2000):
        V = policy_evaluation_sweep(P, R, pi, V, 1.0)
    # k = infinity: the true v_pi
    np.testing.assert_allclose(
        V.reshape(4, 4), [[0, -14, -20, -22], [-14, -18, -20, -20], [-20, -20, -18, -14], [-22, -20, -14, 0]], atol=1e-6
    )


def test_terminal_mask_on_episodic_grid_golden():
    """DQN targets with done flags on the Example 4.1 grid: v*(s) = -(moves to the nearest terminal corner)."""
    P, R = _grid_4x4()
    nxt = P.argmax(axis=2).reshape(-1)
    done = np.isin(nxt, (0, 15)).astype(float)
    done[np.repeat(np.isin(np.arange(16), (0, 15)), 4)] = 1.0  # transitions out of the terminal states
    dqn = get("dqn_target")
    Q = np.zeros((16, 4))
    for _ in range(50):
        Q = dqn({"method": "double", "r": R.reshape(-1), "d": done, "Qo": Q[nxt], "Qt": Q[nxt], "gamma": 1.0})["y"].reshape(16, 4)
    steps = [min(i + j, 6 - i - j) for i in range(4) for j in range(4)]
    np.testing.assert_allclose(Q.max(axis=1), -np.array(steps, dtype=float))


# ---------------------------------------------------------------------------
# TD prediction: TD(0) along an episode, n-step and lambda-returns


def test_td_zero_first_random_walk_episode_golden():
    """Sutton & Barto (2nd ed.), Example 6.2: V = 0.5 everywhere, alpha = 0.1. "The first episode terminated
    on the extreme left, ... only V(A) was changed ... it was decremented by alpha * 0.5 = 0.05"."""
    for updates in ("online", "offline"):
        out = get("td_zero_episode")(
            {"V": np.full(5, 0.5), "path": np.array([3.0, 2, 1]), "rew": np.zeros(3), "alpha": 0.1, "gamma": 1.0, "updates": updates}
        )
        np.testing.assert_allclose(out["V_new"], [0.45, 0.5, 0.5, 0.5, 0.5])
        np.testing.assert_allclose(out["delta"], [0, 0, -0.5])


def test_td_zero_online_and_offline_differ_only_on_revisits():
    # C, D, C, D, E, then right (+1): by hand, online, alpha = 0.5, gamma = 1, V = 0.5 everywhere.
    # t=0: C->D  d=0            t=1: D->C d=0       t=2: C->D d=0       t=3: D->E d=0
    # t=4: E->end d = 1 - 0.5 = 0.5, V(E) = 0.75. Offline gives the same here: no value changed before t = 4.
    params = {"V": np.full(5, 0.5), "path": np.array([3.0, 4, 3, 4, 5]), "rew": np.array([0.0, 0, 0, 0, 1]),
              "alpha": 0.5, "gamma": 1.0}
    online = get("td_zero_episode")({**params, "updates": "online"})
    offline = get("td_zero_episode")({**params, "updates": "offline"})
    np.testing.assert_allclose(online["V_new"], [0.5, 0.5, 0.5, 0.5, 0.75])
    np.testing.assert_allclose(offline["V_new"], online["V_new"])
    # E, D, E, then right: online the second visit to E sees V(D) already lowered; offline does not.
    params = {"V": np.array([0.0, 0, 0, 1, 0]), "path": np.array([5.0, 4, 5]), "rew": np.array([0.0, 0, 1]),
              "alpha": 0.5, "gamma": 1.0}
    online = get("td_zero_episode")({**params, "updates": "online"})
    # t=0: E->D d = 1 - 0 = 1, V(E) = 0.5; t=1: D->E d = 0.5 - 1 = -0.5, V(D) = 0.75; t=2: E->end d = 1 - 0.5, V(E) = 0.75
    np.testing.assert_allclose(online["delta"], [1, -0.5, 0.5])
    np.testing.assert_allclose(online["V_new"], [0, 0, 0, 0.75, 0.75])
    offline = get("td_zero_episode")({**params, "updates": "offline"})
    # from the values before the episode: deltas 1, -1, 1 -> V(E) = 0 + 0.5 (1 + 1), V(D) = 1 - 0.5
    np.testing.assert_allclose(offline["delta"], [1, -1, 1])
    np.testing.assert_allclose(offline["V_new"], [0, 0, 0, 0.5, 1])


def test_n_step_return_matches_the_definition():
    oracle = get("n_step_return")
    for _ in range(CASES):
        n = int(rng.integers(1, 8))
        rew, v_boot, v_s = rng.normal(size=n), float(rng.normal()), float(rng.normal())
        gamma, alpha, done = float(rng.uniform(0, 1)), float(rng.uniform(0, 1)), bool(rng.integers(2))
        out = oracle({"rew": rew, "v_boot": v_boot, "v_s": v_s, "gamma": gamma, "alpha": alpha, "done": done})
        # Sutton & Barto (2nd ed.), eq. 7.1 and 7.2
        G = sum(gamma**k * rew[k] for k in range(n)) + (0 if done else gamma**n * v_boot)
        assert out["G"] == pytest.approx(G)
        assert out["v_new"] == pytest.approx(v_s + alpha * (G - v_s))
    # by hand: rewards 1, 2 then V(s_{t+2}) = 4, gamma = 0.5: G = 1 + 0.5*2 + 0.25*4 = 3
    assert oracle({"rew": np.array([1.0, 2]), "v_boot": 4.0, "v_s": 0.0, "gamma": 0.5, "alpha": 1.0})["G"] == 3.0


def test_lambda_return_limits_and_recursion_golden():
    """Sutton & Barto (2nd ed.), section 12.1: lambda = 0 gives the one-step TD target, lambda = 1 the Monte
    Carlo return (eq. 12.3), and the lambda-return obeys the recursion of Exercise 12.1,
    G_t^lambda = r_{t+1} + gamma ((1 - lambda) V(s_{t+1}) + lambda G_{t+1}^lambda)."""
    oracle = get("lambda_return")
    for _ in range(CASES):
        T = int(rng.integers(2, 8))
        rew, V = rng.normal(size=T), rng.normal(size=T - 1)
        gamma, lam = float(rng.uniform(0, 1)), float(rng.uniform(0, 1))
        out = oracle({"rew": rew, "V": V, "gamma": gamma, "lam": lam})
        assert sum(out["w"]) == pytest.approx(1.0)
        values = np.r_[V, 0.0]
        G = 0.0  # the lambda-return from the terminal state
        for t in range(T - 1, -1, -1):
            G = rew[t] + gamma * ((1 - lam) * values[t] + lam * G)
        assert out["G_lambda"] == pytest.approx(G)
        td = oracle({"rew": rew, "V": V, "gamma": gamma, "lam": 0.0})["G_lambda"]
        mc = oracle({"rew": rew, "V": V, "gamma": gamma, "lam": 1.0})["G_lambda"]
        assert td == pytest.approx(rew[0] + gamma * V[0])
        assert mc == pytest.approx(sum(gamma**k * rew[k] for k in range(T)))


# ---------------------------------------------------------------------------
# Policy gradient


def test_reinforce_matches_the_softmax_score_function():
    oracle = get("reinforce_update")
    for _ in range(CASES):
        n = int(rng.integers(2, 6))
        theta, a = rng.normal(size=n), int(rng.integers(1, n + 1))
        G, b, alpha = float(rng.normal() * 3), float(rng.normal()), float(rng.uniform(0.01, 1))
        gamma, t = float(rng.uniform(0.5, 1)), int(rng.integers(0, 4))
        out = oracle({"theta": theta, "a": a, "G": G, "b": b, "alpha": alpha, "gamma": gamma, "t": t})
        pi = np.exp(theta - theta.max()) / np.exp(theta - theta.max()).sum()
        score = np.eye(n)[a - 1] - pi  # Sutton & Barto (2nd ed.), eq. 13.9 with one-hot features
        np.testing.assert_allclose(out["pi"], pi)
        np.testing.assert_allclose(out["grad"], score, atol=1e-12)
        np.testing.assert_allclose(out["theta_new"], theta + alpha * gamma**t * (G - b) * score, atol=1e-12)


def test_reinforce_two_actions_is_williams_bernoulli_unit_golden():
    """Williams (1992), section 6: for a Bernoulli-logistic unit with p = sigmoid(w x), the characteristic
    eligibility is d ln g / dw = (y - p) x and REINFORCE moves w by alpha (r - b)(y - p) x. A softmax over two
    actions with preferences (w x, 0) is that unit (p = probability of action 1). With w x = 0: p = 1/2; after
    y = 1 (action 1), r = 1, b = 0, alpha = 1, the weight moves by +1/2."""
    out = get("reinforce_update")({"theta": np.array([0.0, 0.0]), "a": 1, "G": 1.0, "alpha": 1.0})
    np.testing.assert_allclose(out["pi"], [0.5, 0.5])
    np.testing.assert_allclose(out["grad"][0], 0.5)  # (y - p) = 1 - 1/2
    # the preference difference (the unit's w x) grows by alpha (r - b)(y - p) x for both parameters together
    assert out["theta_new"][0] - out["theta_new"][1] == pytest.approx(2 * 0.5)
    # with a baseline equal to the return nothing moves
    same = get("reinforce_update")({"theta": np.array([0.3, -1.0]), "a": 2, "G": 2.0, "b": 2.0, "alpha": 1.0})
    np.testing.assert_allclose(same["theta_new"], [0.3, -1.0])


def test_actor_critic_matches_sutton_barto_one_step_update():
    oracle = get("actor_critic_update")
    for _ in range(CASES):
        n = int(rng.integers(2, 6))
        p = {"theta": rng.normal(size=n), "a": int(rng.integers(1, n + 1)), "r": float(rng.normal()),
             "v_s": float(rng.normal()), "v_next": float(rng.normal()), "gamma": float(rng.uniform(0, 1)),
             "alpha_w": float(rng.uniform(0, 1)), "alpha_theta": float(rng.uniform(0, 1)),
             "I": float(rng.uniform(0, 1)), "done": bool(rng.integers(2))}
        out = oracle(p)
        # Sutton & Barto (2nd ed.), section 13.5 pseudocode, with tabular V and softmax preferences
        delta = p["r"] + (0 if p["done"] else p["gamma"] * p["v_next"]) - p["v_s"]
        assert out["delta"] == pytest.approx(delta)
        assert out["v_new"] == pytest.approx(p["v_s"] + p["alpha_w"] * delta)
        pi = np.exp(p["theta"]) / np.exp(p["theta"]).sum()
        expected = p["theta"] + p["alpha_theta"] * p["I"] * delta * (np.eye(n)[p["a"] - 1] - pi)
        np.testing.assert_allclose(out["theta_new"], expected, atol=1e-12)


# ---------------------------------------------------------------------------
# Gridworld value iteration


def _gridworld(**overrides):
    params = {"rows": 3, "cols": 4, "walls": np.array([6.0]), "term": np.array([4.0, 8]), "payoff": np.array([1.0, -1]),
              "step": -0.04, "slip": 0.2, "gamma": 1.0, "k": 200, "terminal": "entry", "sweep": "synchronous"}
    return get("gridworld_value_iteration")({**params, **overrides})


# Russell & Norvig, AIMA (3rd ed.), Figure 17.3: utilities of the 4x3 world, step reward -0.04, gamma = 1,
# the intended move with probability 0.8 and each right angle with 0.1.
AIMA_FIG_17_3 = [[0.812, 0.868, 0.918, 1.0], [0.762, 0.0, 0.660, -1.0], [0.705, 0.655, 0.611, 0.388]]


def test_gridworld_russell_norvig_4x3_golden():
    for terminal in ("entry", "value"):  # with gamma = 1 both terminal conventions give the same values
        for sweep in ("synchronous", "inplace"):
            V = _gridworld(terminal=terminal, sweep=sweep)["V"]
            expected = np.array(AIMA_FIG_17_3)
            if terminal == "entry":
                expected[0, 3] = expected[1, 3] = 0.0  # entering pays; the terminal cell is worth 0 afterwards
            np.testing.assert_allclose(V, expected, atol=5e-4)


def test_gridworld_sutton_barto_4x4_golden():
    """Sutton & Barto (2nd ed.), Example 4.1: terminal corners, reward -1 per move, gamma = 1. Value iteration
    from 0 gives v_k(s) = -min(k, moves to the nearest corner): after 3 sweeps the greedy policy of Figure 4.1."""
    for k in (1, 2, 3, 10):
        out = _gridworld(rows=4, cols=4, walls=np.array([0.0]), term=np.array([1.0, 16]), payoff=np.zeros(2),
                         step=-1.0, slip=0.0, k=k)
        distance = np.array([[min(i + j, 6 - i - j) for j in range(4)] for i in range(4)], dtype=float)
        np.testing.assert_allclose(out["V"], -np.minimum(distance, k))
        np.testing.assert_allclose(out["V1"], -np.minimum(distance, 1))


def test_gridworld_oracle_matches_the_matrix_formula():
    """The oracle walks the grid cell by cell; the template's formula builds the tabular MDP and sweeps it."""
    from dlstudy.mathtext.functions import FUNCTIONS

    formula = FUNCTIONS["gridworld"][0]
    for _ in range(100):
        rows, cols = int(rng.integers(1, 5)), int(rng.integers(2, 5))
        cells = rng.permutation(rows * cols) + 1
        nt = int(rng.integers(1, 3))
        term, walls = cells[:nt].astype(float), (cells[nt : nt + 1] if rng.random() < 0.5 else np.array([0])).astype(float)
        payoff, step = rng.normal(size=nt), float(rng.normal())
        slip, gamma, k = float(rng.choice([0, 0.2, 0.5])), float(rng.uniform(0.5, 1)), int(rng.integers(1, 6))
        for terminal, sweep in (("entry", "synchronous"), ("value", "inplace"), ("entry", "inplace")):
            out = _gridworld(rows=rows, cols=cols, walls=walls, term=term, payoff=payoff, step=step, slip=slip,
                             gamma=gamma, k=k, terminal=terminal, sweep=sweep)
            expected = formula(rows, cols, walls, term, payoff, step, slip, gamma, k, terminal == "value", sweep == "inplace")
            np.testing.assert_allclose(out["V"], expected, atol=1e-12)
