"""Tabular Q-learning (the notes' deterministic update and the stochastic one) and value iteration.

gymnasium and its ecosystem hold environments, not agents; tabular Q-learning is a dozen lines of
NumPy, so it is written here.
"""

import numbers

import numpy as np

from mlkit.io import atomic_path
from mlkit.validation import check_positive_int


class EpsilonSchedule:
    """ε for exploration: linear decay from `start` to `end` over `decay_episodes`, then `end`."""

    def __init__(self, start=1.0, end=0.05, decay_episodes=1000):
        for name, value in (("start", start), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
                raise ValueError(f"ε `{name}` must be in [0, 1], got {value!r}.")
        if end > start:
            raise ValueError(f"ε `end` ({end}) must not exceed `start` ({start}).")
        check_positive_int("decay_episodes", decay_episodes)
        self.start, self.end, self.decay_episodes = float(start), float(end), int(decay_episodes)

    def __call__(self, episode):
        fraction = min(episode / self.decay_episodes, 1.0)
        return self.start + fraction * (self.end - self.start)


class QLearning:
    """Tabular Q-learning with ε-greedy exploration.

    Args:
        n_states, n_actions: sizes of the `Discrete` spaces.
        learning_rate: α of the stochastic update Q ← Q + α (r + γ max Q' − Q). `deterministic=True`
            is the notes' update for deterministic environments, Q ← r + γ max Q' (α = 1).
        discount: γ in [0, 1].
        epsilon: an `EpsilonSchedule` or a fixed ε.
        seed: seeds exploration and ties.

    Terminal transitions bootstrap nothing (target r); truncated episodes (a time limit) bootstrap
    from the state they stopped in, since the task itself has not ended.
    """

    def __init__(self, n_states, n_actions, learning_rate=0.1, discount=0.99, epsilon=None, deterministic=False,
                 seed=0):
        for name, value in (("n_states", n_states), ("n_actions", n_actions)):
            check_positive_int(name, value)
        if isinstance(discount, bool) or not isinstance(discount, numbers.Real) or not 0 <= discount <= 1:
            raise ValueError(f"`discount` (γ) must be in [0, 1], got {discount!r}.")
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) or not 0 < learning_rate <= 1:
            raise ValueError(f"`learning_rate` (α) must be in (0, 1], got {learning_rate!r}.")
        if epsilon is None:
            epsilon = EpsilonSchedule()
        elif isinstance(epsilon, numbers.Real) and not isinstance(epsilon, bool):
            epsilon = EpsilonSchedule(epsilon, epsilon, 1)
        elif not isinstance(epsilon, EpsilonSchedule):
            raise ValueError(f"`epsilon` must be a number in [0, 1] or an EpsilonSchedule, got {epsilon!r}.")
        self.n_states, self.n_actions = int(n_states), int(n_actions)
        self.learning_rate, self.discount, self.epsilon = float(learning_rate), float(discount), epsilon
        self.deterministic = bool(deterministic)
        self.seed = seed
        self.q_table = np.zeros((self.n_states, self.n_actions))
        self.episodes_trained = 0
        self.reseed(seed)

    def reseed(self, seed):
        """Restart exploration and tie-breaking from `seed` (an int or a sequence of ints)."""
        self._rng = np.random.default_rng(seed)

    def act(self, state, greedy=False):
        """ε-greedy action (greedy with `greedy=True`); ties between best actions are broken at random."""
        if not greedy and self._rng.random() < self.epsilon(self.episodes_trained):
            return int(self._rng.integers(self.n_actions))
        values = self.q_table[state]
        return int(self._rng.choice(np.flatnonzero(values == values.max())))

    def update(self, state, action, reward, next_state, terminated):
        target = reward if terminated else reward + self.discount * self.q_table[next_state].max()
        if self.deterministic:
            self.q_table[state, action] = target
        else:
            self.q_table[state, action] += self.learning_rate * (target - self.q_table[state, action])

    def train_episode(self, environment, seed=None, options=None):
        """One episode of ε-greedy interaction and updates. Returns (return, steps)."""
        state, _ = environment.reset(seed=seed, options=options)
        total, steps, done = 0.0, 0, False
        while not done:
            action = self.act(state)
            next_state, reward, terminated, truncated, _ = environment.step(action)
            self.update(state, action, reward, next_state, terminated)
            state, total, steps, done = next_state, total + reward, steps + 1, terminated or truncated
        self.episodes_trained += 1
        return total, steps

    def greedy_policy(self):
        return np.argmax(self.q_table, axis=1)

    def save(self, path):
        """The Q-table and settings as .npz (loaded without pickle)."""
        with atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, q_table=self.q_table, learning_rate=self.learning_rate, discount=self.discount,
                         deterministic=self.deterministic, episodes_trained=self.episodes_trained)
        return path

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as stored:
            table = stored["q_table"]
            agent = cls(table.shape[0], table.shape[1], learning_rate=float(stored["learning_rate"]),
                        discount=float(stored["discount"]), deterministic=bool(stored["deterministic"]))
            agent.q_table = table.copy()
            agent.episodes_trained = int(stored["episodes_trained"])
        return agent


def value_iteration(transitions, n_states, n_actions, discount=0.99, tolerance=1e-10, max_iterations=100_000):
    """Optimal values of a known MDP. `transitions[s][a] = [(p, s', r, terminated), …]` (gymnasium's
    toy-text `P`). Returns (V, Q, greedy policy) once max |ΔV| < tolerance."""
    if not 0 <= discount <= 1:
        raise ValueError(f"`discount` (γ) must be in [0, 1], got {discount!r}.")
    values = np.zeros(n_states)
    for _ in range(max_iterations):
        q = _q_from_values(transitions, values, n_states, n_actions, discount)
        updated = q.max(axis=1)
        if np.max(np.abs(updated - values)) < tolerance:
            values = updated
            break
        values = updated
    else:
        raise RuntimeError(f"value iteration did not converge in {max_iterations} sweeps (γ = 1 with cycles?)")
    q = _q_from_values(transitions, values, n_states, n_actions, discount)
    return values, q, np.argmax(q, axis=1)


def _q_from_values(transitions, values, n_states, n_actions, discount):
    q = np.zeros((n_states, n_actions))
    for state in range(n_states):
        for action in range(n_actions):
            q[state, action] = sum(p * (reward + (0.0 if done else discount * values[next_state]))
                                   for p, next_state, reward, done in transitions[state][action])
    return q


def evaluate_policy(environment, policy, episodes, seed=0, options=None):
    """Returns of `episodes` episodes following `policy` (state → action array)."""
    returns = []
    for episode in range(episodes):
        state, _ = environment.reset(seed=seed + episode, options=options)
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = environment.step(int(policy[state]))
            total, done = total + reward, terminated or truncated
        returns.append(total)
    return np.asarray(returns)


def train_q_learning(agent, environment, run_directory, episodes, rounds=10, seed=0, name="q_learning"):
    """Train `agent` for `episodes` episodes in `rounds` resumable rounds (a `TrainingLoop`: history
    of mean returns, the Q-table checkpointed after every round). Each round seeds its own
    exploration and environment randomness from (seed, round), so a resumed run continues exactly
    as an uninterrupted one. Returns the loop's history (one row per round)."""
    import tensorflow as tf

    from mlkit.training import TrainingLoop

    if isinstance(episodes, bool) or not isinstance(episodes, numbers.Integral) or episodes < rounds:
        raise ValueError(f"`episodes` must be an integer ≥ rounds ({rounds}), got {episodes!r}.")
    table = tf.Variable(agent.q_table, dtype=tf.float64, name="q_table")
    trained = tf.Variable(agent.episodes_trained, dtype=tf.int64, name="episodes_trained")
    loop = TrainingLoop(run_directory, epochs=rounds, state={"q_table": table, "episodes_trained": trained},
                        name=name, history=f"{name}.csv")
    per_round = -(-episodes // rounds)
    for round_index in loop:
        agent.q_table, agent.episodes_trained = table.numpy().copy(), int(trained.numpy())
        agent.reseed([seed, round_index])
        environment.reset(seed=int(np.random.default_rng([seed, round_index]).integers(2**31)))
        returns, steps = zip(*(agent.train_episode(environment) for _ in range(per_round)))
        table.assign(agent.q_table)
        trained.assign(agent.episodes_trained)
        loop.log(mean_return=np.mean(returns), mean_steps=np.mean(steps),
                 epsilon=agent.epsilon(agent.episodes_trained))
    agent.q_table, agent.episodes_trained = table.numpy().copy(), int(trained.numpy())
    return loop.history()
