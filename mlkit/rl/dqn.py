"""Deep Q-learning (Mnih et al. 2015) with a Keras Q-network: replay buffer, target network, Huber loss,
Double DQN (van Hasselt et al. 2016) as an option, one compiled update step.

Keras and gymnasium hold networks and environments, not agents (keras-rl is unmaintained), so the
agent is written here; the network comes from `mlkit.models.q_network`.
"""

import numbers

import keras
import numpy as np
import tensorflow as tf

from mlkit.rl.q_learning import EpsilonSchedule


class ReplayBuffer:
    """A ring buffer of transitions in NumPy arrays: once full, the oldest is overwritten."""

    def __init__(self, capacity, observation_shape, seed=0):
        if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) or capacity < 1:
            raise ValueError(f"`capacity` must be a positive integer, got {capacity!r}.")
        self.capacity = int(capacity)
        shape = (self.capacity, *observation_shape)
        self.observations = np.zeros(shape, "float32")
        self.next_observations = np.zeros(shape, "float32")
        self.actions = np.zeros(self.capacity, "int32")
        self.rewards = np.zeros(self.capacity, "float32")
        self.terminated = np.zeros(self.capacity, "float32")
        self.position = self.size = 0
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        return self.size

    def add(self, observation, action, reward, next_observation, terminated):
        index = self.position
        self.observations[index], self.next_observations[index] = observation, next_observation
        self.actions[index], self.rewards[index], self.terminated[index] = action, reward, float(terminated)
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size):
        """A uniform batch (with replacement) as (observations, actions, rewards, next_observations, terminated)."""
        if self.size == 0:
            raise ValueError("The replay buffer is empty.")
        index = self._rng.integers(0, self.size, batch_size)
        return (self.observations[index], self.actions[index], self.rewards[index], self.next_observations[index],
                self.terminated[index])


class DQN:
    """A deep Q-network agent.

    Args:
        q_network: a Keras model from observations to one Q-value per action (`mlkit.models.q_network`).
        discount: γ in [0, 1].
        optimizer: a Keras optimizer (default Adam(1e-3) with gradient clipping at norm 10).
        batch_size, buffer_size: replay sampling.
        learning_starts: environment steps before the first update.
        train_frequency, gradient_steps: every `train_frequency` steps, that many updates.
        target_update_interval: environment steps between target updates; `tau` = 1 copies the online
            weights (hard update), `tau` < 1 moves the target that fraction towards them (Polyak).
        double: Double DQN targets (the online net chooses the next action, the target net values it).
        epsilon: an `EpsilonSchedule` over environment steps.
        huber_delta: the Huber loss' δ.
        jit_compile: XLA for the update step.
        seed: seeds exploration and replay sampling.
    """

    def __init__(self, q_network, discount=0.99, optimizer=None, batch_size=64, buffer_size=50_000,
                 learning_starts=1_000, train_frequency=1, gradient_steps=1, target_update_interval=500, tau=1.0,
                 double=False, epsilon=None, huber_delta=1.0, jit_compile=False, seed=0):
        if not isinstance(q_network, keras.Model) or len(q_network.outputs) != 1:
            raise ValueError("`q_network` must be a keras.Model with one output (a Q-value per action).")
        if isinstance(discount, bool) or not isinstance(discount, numbers.Real) or not 0 <= discount <= 1:
            raise ValueError(f"`discount` (γ) must be in [0, 1], got {discount!r}.")
        if not 0 < tau <= 1:
            raise ValueError(f"`tau` must be in (0, 1], got {tau!r}.")
        for name, value in (("batch_size", batch_size), ("buffer_size", buffer_size), ("train_frequency",
                            train_frequency), ("gradient_steps", gradient_steps),
                            ("target_update_interval", target_update_interval)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
        if isinstance(learning_starts, bool) or not isinstance(learning_starts, numbers.Integral) or learning_starts < 0:
            raise ValueError(f"`learning_starts` must be a non-negative integer, got {learning_starts!r}.")
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
        self._update = tf.function(self._update_step, jit_compile=jit_compile, reduce_retracing=True)
        self._greedy = tf.function(lambda observation: tf.argmax(self.online(observation, training=False), axis=-1))

    def act(self, observation, greedy=False):
        """ε-greedy action for one observation (ε from the step count)."""
        if not greedy and self._rng.random() < self.epsilon(int(self.steps.numpy())):
            return int(self._rng.integers(self.actions))
        return int(self._greedy(np.asarray(observation, "float32")[None])[0])

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

    def update(self):
        """One gradient step on a replayed batch; returns the loss."""
        return float(self._update(*self.buffer.sample(self.batch_size)))

    def update_target(self):
        if self.tau == 1.0:
            self.target.set_weights(self.online.get_weights())
        else:
            for target, online in zip(self.target.weights, self.online.weights):
                target.assign((1 - self.tau) * target + self.tau * online)

    def observe(self, observation, action, reward, next_observation, terminated):
        """Store a transition, count the step, and run the updates and target refreshes it is due.
        Returns the losses of the updates run (often none)."""
        self.buffer.add(observation, action, reward, next_observation, terminated)
        self.steps.assign_add(1)
        steps, losses = int(self.steps.numpy()), []
        if steps > self.learning_starts and steps % self.train_frequency == 0:
            losses = [self.update() for _ in range(self.gradient_steps)]
        if steps % self.target_update_interval == 0:
            self.update_target()
        return losses

    def run_episode(self, environment, seed=None, train=True):
        """One episode; with `train`, ε-greedy with updates. Truncation (a time limit) ends the episode
        but is not stored as termination: the target still bootstraps from the last state.
        Returns (return, steps)."""
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
