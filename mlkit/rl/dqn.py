"""Deep Q-learning (Mnih et al. 2015) with a Keras Q-network: replay buffer, target network, Huber loss,
Double DQN (van Hasselt et al. 2016) as an option, compiled updates, gymnasium vector environments.

Keras and gymnasium hold networks and environments, not agents (keras-rl is unmaintained), so the
agent is written here; the network comes from `mlkit.models.q_network`.
"""

import numbers
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from mlkit.io import atomic_path
from mlkit.rl.q_learning import EpsilonSchedule
from mlkit.validation import check_positive_int


class ReplayBuffer:
    """A ring buffer of transitions in NumPy arrays: once full, the oldest is overwritten."""

    FIELDS = ("observations", "actions", "rewards", "next_observations", "terminated")

    def __init__(self, capacity, observation_shape, seed=0):
        self.capacity = check_positive_int("capacity", capacity)
        shape = (self.capacity, *observation_shape)
        self.observations = np.zeros(shape, "float32")
        self.next_observations = np.zeros(shape, "float32")
        self.actions = np.zeros(self.capacity, "int32")
        self.rewards = np.zeros(self.capacity, "float32")
        self.terminated = np.zeros(self.capacity, "float32")
        self.position = self.size = 0
        self.reseed(seed)

    def __len__(self):
        return self.size

    def reseed(self, seed):
        self._rng = np.random.default_rng(seed)

    def add(self, observation, action, reward, next_observation, terminated):
        """One transition."""
        self.add_batch(np.asarray(observation)[None], [action], [reward], np.asarray(next_observation)[None],
                       [terminated])

    def add_batch(self, observations, actions, rewards, next_observations, terminated):
        """Transitions along the first axis (one per environment of a vector environment)."""
        count = len(actions)
        index = (self.position + np.arange(count)) % self.capacity
        self.observations[index], self.next_observations[index] = observations, next_observations
        self.actions[index], self.rewards[index] = actions, rewards
        self.terminated[index] = np.asarray(terminated, "float32")
        self.position = int((self.position + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)

    def sample(self, batch_size, batches=None):
        """A uniform batch (with replacement) as (observations, actions, rewards, next_observations,
        terminated); with `batches`, that many batches stacked on a new first axis."""
        if self.size == 0:
            raise ValueError("The replay buffer is empty.")
        index = self._rng.integers(0, self.size, batch_size if batches is None else (batches, batch_size))
        return tuple(getattr(self, field)[index] for field in self.FIELDS)

    def save(self, path):
        """The stored transitions as .npz (loaded without pickle), written atomically."""
        with atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, position=self.position, size=self.size,
                         **{field: getattr(self, field)[:self.size] for field in self.FIELDS})
        return path

    def load(self, path):
        """Replace the contents with a buffer saved by `save` (same capacity and observation shape)."""
        with np.load(path, allow_pickle=False) as stored:
            size, position = int(stored["size"]), int(stored["position"])
            if size > self.capacity or stored["observations"].shape[1:] != self.observations.shape[1:]:
                raise ValueError(f"{path} holds {size} transitions of shape {stored['observations'].shape[1:]}; "
                                 f"this buffer holds {self.capacity} of {self.observations.shape[1:]}.")
            for field in self.FIELDS:
                getattr(self, field)[:size] = stored[field]
        self.size, self.position = size, position
        return self


class DQN:
    """A deep Q-network agent.

    Args:
        q_network: a Keras model from observations to one Q-value per action (`mlkit.models.q_network`).
        discount: γ in [0, 1].
        optimizer: a Keras optimizer (default Adam(1e-3) with gradient clipping at norm 10).
        batch_size, buffer_size: replay sampling.
        learning_starts: environment steps before the first update.
        train_frequency, gradient_steps: every `train_frequency` environment steps, that many updates.
        target_update_interval: environment steps between target updates; `tau` = 1 copies the online
            weights (hard update), `tau` < 1 moves the target that fraction towards them (Polyak).
        double: Double DQN targets (the online net chooses the next action, the target net values it).
        epsilon: an `EpsilonSchedule` over environment steps.
        huber_delta: the Huber loss' δ.
        jit_compile: XLA for the update step.
        seed: seeds exploration and replay sampling.

    The updates a batch of transitions makes due run in one compiled call (a loop over stacked
    replay batches): on a CPU a TensorFlow call costs far more than one small gradient step.
    """

    def __init__(self, q_network, discount=0.99, optimizer=None, batch_size=64, buffer_size=50_000,
                 learning_starts=1_000, train_frequency=1, gradient_steps=1, target_update_interval=500, tau=1.0,
                 double=False, epsilon=None, huber_delta=1.0, jit_compile=False, seed=0):
        if not isinstance(q_network, keras.Model) or len(q_network.outputs) != 1:
            raise ValueError("`q_network` must be a keras.Model with one output (a Q-value per action).")
        if isinstance(discount, bool) or not isinstance(discount, numbers.Real) or not 0 <= discount <= 1:
            raise ValueError(f"`discount` (γ) must be in [0, 1], got {discount!r}.")
        if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not 0 < tau <= 1:
            raise ValueError(f"`tau` must be in (0, 1], got {tau!r}.")
        for name, value in (("batch_size", batch_size), ("buffer_size", buffer_size), ("train_frequency",
                            train_frequency), ("gradient_steps", gradient_steps),
                            ("target_update_interval", target_update_interval)):
            check_positive_int(name, value)
        if isinstance(learning_starts, bool) or not isinstance(learning_starts, numbers.Integral) or \
                learning_starts < 0:
            raise ValueError(f"`learning_starts` must be a non-negative integer, got {learning_starts!r}.")
        if epsilon is not None and not isinstance(epsilon, EpsilonSchedule):
            raise ValueError(f"`epsilon` must be an EpsilonSchedule, got {epsilon!r}.")
        self.online = q_network
        self.target = keras.models.clone_model(q_network)
        self.target.set_weights(q_network.get_weights())
        self.actions = int(q_network.outputs[0].shape[-1])
        self.discount, self.tau, self.double = float(discount), float(tau), bool(double)
        self.batch_size, self.learning_starts = int(batch_size), int(learning_starts)
        self.train_frequency, self.gradient_steps = int(train_frequency), int(gradient_steps)
        self.target_update_interval = int(target_update_interval)
        self.epsilon = epsilon or EpsilonSchedule(1.0, 0.05, 10_000)
        self.optimizer = optimizer or keras.optimizers.Adam(1e-3, clipnorm=10.0)
        self.optimizer.build(self.online.trainable_variables)
        self.loss = keras.losses.Huber(delta=huber_delta)
        self.buffer = ReplayBuffer(buffer_size, tuple(q_network.inputs[0].shape[1:]), seed=seed)
        self.steps = keras.Variable(0, dtype="int64", trainable=False, name="environment_steps")
        self._rng = np.random.default_rng(seed)
        self._learn = tf.function(self._learn_steps, jit_compile=jit_compile, reduce_retracing=True)
        self._learn_one = tf.function(self._learn_step, jit_compile=jit_compile, reduce_retracing=True)
        self._move_target = tf.function(self._move_target_towards_online)
        self._greedy = greedy_function(self.online)

    def reseed(self, seed):
        """Restart exploration and replay sampling from `seed` (an int or a sequence of ints)."""
        exploration, replay = np.random.SeedSequence(seed).spawn(2)
        self._rng = np.random.default_rng(exploration)
        self.buffer.reseed(replay)

    def act(self, observation, greedy=False):
        """ε-greedy action for one observation (ε from the step count)."""
        return int(self.act_batch(np.asarray(observation, "float32")[None], greedy)[0])

    def act_batch(self, observations, greedy=False):
        """ε-greedy actions for a batch of observations (one per environment); the network runs once."""
        count = len(observations)
        explore = np.zeros(count, bool) if greedy else self._rng.random(count) < self.epsilon(int(self.steps.numpy()))
        actions = self._rng.integers(self.actions, size=count)
        if not explore.all():
            chosen = self._greedy(np.asarray(observations, "float32")).numpy()
            actions = np.where(explore, actions, chosen)
        return actions.astype("int64")

    def targets(self, rewards, next_observations, terminated):
        """r + γ (1 − terminated) Q_target(s', a*), a* from the target (DQN) or the online net (Double DQN)."""
        next_target = tf.cast(self.target(next_observations, training=False), "float32")
        if self.double:
            choice = tf.argmax(self.online(next_observations, training=False), axis=-1)
            next_value = tf.gather(next_target, choice, batch_dims=1)
        else:
            next_value = tf.reduce_max(next_target, axis=-1)
        return rewards + self.discount * (1.0 - terminated) * next_value

    def _update_step(self, observations, actions, rewards, next_observations, terminated):
        targets = tf.stop_gradient(self.targets(rewards, next_observations, terminated))
        with tf.GradientTape() as tape:
            q = tf.cast(self.online(observations, training=True), "float32")
            chosen = tf.gather(q, actions, batch_dims=1)
            loss = self.loss(targets, chosen)
        gradients = tape.gradient(loss, self.online.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.online.trainable_variables))
        return loss

    def _learn_steps(self, observations, actions, rewards, next_observations, terminated, target_fraction):
        """Gradient steps on stacked batches (first axis), then the target moves `target_fraction` of
        the way to the online net (0: not due). Returns the mean loss."""
        total = tf.constant(0.0)
        count = tf.shape(actions)[0]
        for index in tf.range(count):
            total += self._update_step(observations[index], actions[index], rewards[index],
                                       next_observations[index], terminated[index])
        tf.cond(target_fraction > 0, lambda: self._move_target_towards_online(target_fraction), lambda: None)
        return total / tf.cast(count, "float32")

    def _learn_step(self, observations, actions, rewards, next_observations, terminated, target_fraction):
        """One gradient step without `_learn_steps`' loop (a graph loop costs ~10 % of a small step)."""
        loss = self._update_step(observations, actions, rewards, next_observations, terminated)
        tf.cond(target_fraction > 0, lambda: self._move_target_towards_online(target_fraction), lambda: None)
        return loss

    def _updates(self, count, target_fraction):
        """`count` gradient steps on replayed batches in one compiled call; returns the mean loss as a
        scalar tensor (reading it waits for the step, so callers read it when they need it)."""
        fraction = tf.constant(target_fraction, "float32")
        if count == 1:
            return self._learn_one(*self.buffer.sample(self.batch_size), fraction)
        return self._learn(*self.buffer.sample(self.batch_size, count), fraction)

    def _move_target_towards_online(self, fraction):
        for target, online in zip(self.target.weights, self.online.weights):
            target.assign(target + tf.cast(fraction, target.dtype) * (online - target))

    def update(self, batches=1):
        """`batches` gradient steps on replayed batches in one call; returns the mean loss (a scalar tensor)."""
        return self._updates(batches, 0.0)

    def update_target(self):
        """The target update of one schedule point: a copy (τ = 1) or a Polyak step."""
        self._move_target(tf.constant(self.tau))

    def observe(self, observation, action, reward, next_observation, terminated):
        """Store one transition; see `observe_batch`."""
        return self.observe_batch(np.asarray(observation)[None], [action], [reward],
                                  np.asarray(next_observation)[None], [terminated])

    def observe_batch(self, observations, actions, rewards, next_observations, terminated):
        """Store transitions, count them as environment steps, and run the updates and target updates
        that fall due, in one compiled call. Returns the mean loss of the updates run (a scalar tensor),
        or None."""
        before = int(self.steps)
        self.buffer.add_batch(observations, actions, rewards, next_observations, terminated)
        self.steps.assign_add(len(actions))
        after = int(self.steps)
        updates = self.gradient_steps * _multiples(self.train_frequency, max(before, self.learning_starts), after)
        target_updates = _multiples(self.target_update_interval, before, after)
        # n Polyak steps with the online net fixed move the target 1 − (1 − τ)^n of the way.
        fraction = 1.0 - (1.0 - self.tau) ** target_updates
        if updates:
            return self._updates(updates, fraction)
        if target_updates:
            self._move_target(tf.constant(fraction, "float32"))
        return None

    def run_episode(self, environment, seed=None, train=True):
        """One episode in a single environment; with `train`, ε-greedy with updates. Truncation (a time
        limit) ends the episode but is not stored as termination: the target still bootstraps from the
        last state. Returns (return, steps)."""
        observation, _ = environment.reset(seed=seed)
        total, steps, done = 0.0, 0, False
        while not done:
            action = self.act(observation, greedy=not train)
            next_observation, reward, terminated, truncated, _ = environment.step(action)
            if train:
                self.observe(observation, action, reward, next_observation, terminated)
            observation, total, steps = next_observation, total + reward, steps + 1
            done = terminated or truncated
        return total, steps


def _multiples(interval, start, end):
    """How many multiples of `interval` lie in (start, end]."""
    return max(0, end // interval - start // interval) if end > start else 0


def greedy_function(q_network):
    """A compiled observations → greedy actions function."""
    return tf.function(lambda observations: tf.argmax(q_network(observations, training=False), axis=-1),
                       reduce_retracing=True)


def make_vector_environment(environment_id, count, agent=None, **options):
    """`count` copies of a registered gymnasium environment stepped together; `options` go to each.
    They are the environment exactly as `gymnasium.make` gives it (wrappers and time limit included),
    and `reset(seed=s)` seeds copy i with s + i. With `agent`, its network must fit the observations
    and the discrete actions."""
    import gymnasium as gym

    try:
        environments = gym.make_vec(environment_id, num_envs=count, vectorization_mode="sync", **options)
    except gym.error.Error as error:
        raise ValueError(f"`environment` {environment_id!r}: {error}") from None
    if agent is not None:
        observation_space, action_space = environments.single_observation_space, environments.single_action_space
        expected = tuple(agent.online.inputs[0].shape[1:])
        if not isinstance(action_space, gym.spaces.Discrete) or action_space.n != agent.actions or \
                observation_space.shape != expected:
            environments.close()
            raise ValueError(f"`environment` {environment_id!r} has observations {observation_space} and actions "
                             f"{action_space}; the Q-network takes {expected} and gives {agent.actions} Q-values.")
    return environments


def evaluate_greedy(policy, environment_id, episodes, seed=0):
    """Returns of `episodes` greedy episodes, all run side by side in one vector environment.

    `policy` maps a batch of observations to actions (e.g. `greedy_function(model)`). Each copy
    runs one episode (seeded seed, seed + 1, …); gymnasium's time limit ends it."""
    environments = make_vector_environment(environment_id, episodes)
    observations, _ = environments.reset(seed=seed)
    returns, running = np.zeros(episodes), np.ones(episodes, bool)
    while running.any():
        actions = np.asarray(policy(np.asarray(observations, "float32")))
        observations, rewards, terminated, truncated, _ = environments.step(actions)
        returns += rewards * running
        running &= ~(terminated | truncated)
    environments.close()
    return returns


def train_dqn(agent, environment_id, run_directory, steps, rounds, environments=1, seed=0, evaluation_episodes=100,
              solved_return=None, name="dqn", progress=True):
    """Train `agent` for `steps` environment steps in `rounds` resumable rounds on a `TrainingLoop`.

    Each round collects steps/rounds transitions from `environments` copies of the environment
    stepped together, then evaluates the greedy policy on `evaluation_episodes` episodes (the same
    seeds every round). The best-evaluated network is kept (a copy in the checkpoint); with
    `solved_return`, training stops at the first round whose evaluation mean reaches it.

    A round seeds its own exploration, replay sampling and environments from (seed, round) and
    starts fresh episodes (an episode cut at a round's end is stored as truncated, not terminated);
    the replay buffer is saved with every checkpoint (and removed at the end), so a killed run resumes
    from its last round as if it had not stopped.
    History per round: steps, episodes, mean training return, evaluation mean and minimum, loss, ε,
    steps per second, wall time; with `progress`, a line per round on stderr. Returns (history, best
    network).
    """
    from mlkit.training import TrainingLoop

    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < rounds:
        raise ValueError(f"`steps` must be an integer ≥ rounds ({rounds}), got {steps!r}.")
    check_positive_int("environments", environments)
    make_vector_environment(environment_id, 1, agent).close()  # a wrong id or network: refused before any work
    best = keras.models.clone_model(agent.online)
    best.set_weights(agent.online.get_weights())
    best_return = tf.Variable(-np.inf, dtype=tf.float64, name="best_return")
    loop = TrainingLoop(run_directory, epochs=rounds, name=name, history=f"{name}.csv",
                        state={"online": agent.online, "target": agent.target, "optimizer": agent.optimizer,
                               "steps": agent.steps, "best": best, "best_return": best_return})
    replay = loop.directory.path / "replay"
    per_round = -(-steps // rounds)
    evaluate_policy = greedy_function(agent.online)
    for round_index in loop:
        if round_index == loop.resumed_from and round_index > 0:
            agent.buffer.load(replay / f"{name}-{round_index}.npz")
        started, steps_before = time.perf_counter(), int(agent.steps)
        agent.reseed([seed, round_index])
        returns, losses = _collect(agent, environment_id, environments, (round_index + 1) * per_round,
                                   int(np.random.default_rng([seed, round_index]).integers(2**31)))
        steps_taken = int(agent.steps)
        steps_per_second = (steps_taken - steps_before) / (time.perf_counter() - started)
        evaluation = evaluate_greedy(evaluate_policy, environment_id, evaluation_episodes, seed=10**6 + seed)
        if evaluation.mean() > best_return.numpy():
            best_return.assign(evaluation.mean())
            best.set_weights(agent.online.get_weights())
        agent.buffer.save(replay / f"{name}-{round_index + 1}.npz")
        (replay / f"{name}-{round_index - 1}.npz").unlink(missing_ok=True)  # the checkpoint keeps two
        loop.log(steps=steps_taken, episodes=len(returns), train_return=np.mean(returns) if returns else np.nan,
                 evaluation_return=evaluation.mean(), evaluation_min=evaluation.min(),
                 loss=np.mean([float(loss) for loss in losses]) if losses else np.nan,
                 epsilon=agent.epsilon(steps_taken), steps_per_second=steps_per_second,
                 seconds=time.perf_counter() - started)
        solved = solved_return is not None and evaluation.mean() >= solved_return
        if progress:
            print(f"mlkit: {loop.directory.path.name}: {name} round {round_index + 1}/{rounds}: "
                  f"{steps_taken:,} steps, greedy return {evaluation.mean():.1f} over {evaluation_episodes} "
                  f"episodes{' (solved)' if solved else ''}, {steps_per_second:.0f} steps/s", file=sys.stderr,
                  flush=True)
        if solved:
            loop.stop()
    for leftover in replay.glob(f"{name}-*.npz"):  # only a resume needs them
        leftover.unlink()
    return loop.history(), best


def _collect(agent, environment_id, count, until, seed):
    """ε-greedy steps with updates in `count` environments until the agent has taken `until` steps.

    gymnasium's vector environments reset a finished copy on the step after its last one; that step
    is no transition and is not stored."""
    environments = make_vector_environment(environment_id, count, agent)
    observations, _ = environments.reset(seed=seed)
    resetting = np.zeros(count, bool)
    running, returns, losses = np.zeros(count), [], []
    while int(agent.steps) < until:
        actions = agent.act_batch(observations)
        next_observations, rewards, terminated, truncated, _ = environments.step(actions)
        keep = ~resetting
        loss = agent.observe_batch(observations[keep], actions[keep], rewards[keep], next_observations[keep],
                                   terminated[keep])
        if loss is not None:
            losses.append(loss)
        running += rewards
        done = terminated | truncated
        returns.extend(running[done].tolist())
        running[done] = 0.0
        observations, resetting = next_observations, done
    environments.close()
    return returns, losses
