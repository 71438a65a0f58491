"""Time per DQN update (sample a replay batch, one gradient step): mlkit's `DQN` against the pattern of
keras-io's deep_q_network_breakout (a benchmark, not a test). Goal: mlkit ≥ 1.0× (no slower).

Both sides update the same network (`q_network((4,), 2, (256, 256))`, the cartpole_dqn default) with
Adam and the Huber loss on batches of 64 from the same 50,000 stored CartPole transitions:
- "keras-io": its update as a plain script: replay memory in Python lists, a batch gathered by list
  comprehension, the target net's Q-values from `model_target.predict`, then an eager GradientTape
  step with one-hot action masks.
- "keras-io, step in tf.function": the same, with the gradient step (not the sampling) compiled:
  what a Keras user would try first.
- "plain Keras, one tf.function": keras-io's arithmetic with the batch taken from NumPy arrays and
  the target net called inside one compiled step: a tuned plain implementation.
- "mlkit, 1 update per call": `DQN.update(1)`: NumPy ring-buffer sampling, one compiled call for
  target, loss and step.
- "mlkit, 128 per call": `DQN.update(128)`, as cartpole_dqn runs its 128 updates every 256 steps: the
  batches are stacked and stepped through in one compiled call.
Each mlkit side runs with and without XLA (`jit_compile`). One warm-up round (tracing, compiling),
then ROUNDS rounds in alternating order; the best time per update of each is compared.
Run: .venv/bin/python benchmarks/dqn_update.py
"""

import time

import keras
import numpy as np
import tensorflow as tf

from mlkit.models import q_network
from mlkit.rl import DQN

ROUNDS, BATCH, STORED, DISCOUNT = 5, 64, 50_000, 0.99
UPDATES = {"keras-io": 50, "keras-io, step in tf.function": 200}  # the rest: 1,024 per round


def transitions():
    rng = np.random.default_rng(0)
    observations = rng.normal(0, 0.5, (STORED, 4)).astype("float32")
    next_observations = (observations + rng.normal(0, 0.05, (STORED, 4))).astype("float32")
    return observations, rng.integers(0, 2, STORED), np.ones(STORED, "float32"), next_observations, \
        rng.random(STORED) < 0.02


def network():
    keras.utils.set_random_seed(0)
    return q_network((4,), 2, hidden_units=(256, 256))


class KerasIOUpdate:
    """keras-io's deep_q_network_breakout update, with the replay memory in Python lists as there."""

    def __init__(self, data, compiled_step):
        observations, actions, rewards, next_observations, done = data
        self.state_history, self.action_history = list(observations), list(actions)
        self.rewards_history, self.state_next_history = list(rewards), list(next_observations)
        self.done_history = list(done)
        self.model, self.model_target = network(), network()
        self.optimizer = keras.optimizers.Adam(learning_rate=0.00025, clipnorm=1.0)
        self.loss_function = keras.losses.Huber()
        self.step = tf.function(self.gradient_step) if compiled_step else self.gradient_step

    def gradient_step(self, state_sample, updated_q_values, masks):
        with tf.GradientTape() as tape:
            q_values = self.model(state_sample)
            q_action = tf.reduce_sum(tf.multiply(q_values, masks), axis=1)
            loss = self.loss_function(updated_q_values, q_action)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss

    def __call__(self, updates):
        for _ in range(updates):
            indices = np.random.choice(range(len(self.done_history)), size=BATCH)
            state_sample = np.array([self.state_history[i] for i in indices])
            state_next_sample = np.array([self.state_next_history[i] for i in indices])
            rewards_sample = [self.rewards_history[i] for i in indices]
            action_sample = [self.action_history[i] for i in indices]
            done_sample = tf.convert_to_tensor([float(self.done_history[i]) for i in indices])
            future_rewards = self.model_target.predict(state_next_sample, verbose=0)
            updated_q_values = rewards_sample + DISCOUNT * tf.reduce_max(future_rewards, axis=1)
            updated_q_values = updated_q_values * (1 - done_sample) - done_sample
            masks = tf.one_hot(action_sample, 2)
            self.step(state_sample, updated_q_values, masks)


class PlainKerasUpdate(KerasIOUpdate):
    """keras-io's step with array sampling and the whole update, target included, in one tf.function."""

    def __init__(self, data):
        super().__init__(data, compiled_step=False)
        self.arrays = [np.asarray(part) for part in data]
        self.rng = np.random.default_rng(0)
        self.update = tf.function(self.full_step)

    def full_step(self, state_sample, action_sample, rewards_sample, state_next_sample, done_sample):
        future_rewards = self.model_target(state_next_sample, training=False)
        updated_q_values = rewards_sample + DISCOUNT * tf.reduce_max(future_rewards, axis=1)
        updated_q_values = updated_q_values * (1 - done_sample) - done_sample
        return self.gradient_step(state_sample, updated_q_values, tf.one_hot(action_sample, 2))

    def __call__(self, updates):
        observations, actions, rewards, next_observations, done = self.arrays
        for _ in range(updates):
            indices = self.rng.integers(0, len(done), BATCH)
            self.update(observations[indices], actions[indices], rewards[indices], next_observations[indices],
                        done[indices].astype("float32"))


class MlkitUpdate:
    def __init__(self, data, per_call, jit_compile):
        self.agent = DQN(network(), discount=DISCOUNT, batch_size=BATCH, buffer_size=STORED,
                         optimizer=keras.optimizers.Adam(learning_rate=0.00025, clipnorm=1.0), jit_compile=jit_compile)
        self.agent.buffer.add_batch(*data)
        self.per_call = per_call

    def __call__(self, updates):
        for _ in range(updates // self.per_call):
            self.agent.update(self.per_call)


def main():
    data = transitions()
    sides = {"keras-io": KerasIOUpdate(data, False), "keras-io, step in tf.function": KerasIOUpdate(data, True),
             "plain Keras, one tf.function": PlainKerasUpdate(data),
             "mlkit, 1 update per call": MlkitUpdate(data, 1, False),
             "mlkit, 1 per call + XLA": MlkitUpdate(data, 1, True),
             "mlkit, 128 per call": MlkitUpdate(data, 128, False),
             "mlkit, 128 per call + XLA": MlkitUpdate(data, 128, True)}
    for side in sides.values():  # warm-up: tracing and compilation
        side(128 if isinstance(side, MlkitUpdate) else 4)
    best = {name: float("inf") for name in sides}
    for round_index in range(ROUNDS):
        order = list(sides) if round_index % 2 == 0 else list(reversed(sides))
        for name in order:
            updates = UPDATES.get(name, 1024)
            started = time.perf_counter()
            sides[name](updates)
            best[name] = min(best[name], (time.perf_counter() - started) / updates)
    print(f"DQN update, 4-256-256-2 network, batch {BATCH}, best of {ROUNDS} alternating rounds:")
    for name, seconds in best.items():
        print(f"  {name:32s} {1000 * seconds:7.3f} ms/update  {best['keras-io'] / seconds:6.1f}× keras-io")
    print(f"mlkit (1 per call) / keras-io speed ratio (≥ 1.0 is the goal): "
          f"{best['keras-io'] / best['mlkit, 1 update per call']:.1f}×")
    print(f"mlkit (1 per call) / keras-io with its step in tf.function: "
          f"{best['keras-io, step in tf.function'] / best['mlkit, 1 update per call']:.1f}×")
    print(f"mlkit (1 per call) / plain Keras in one tf.function: "
          f"{best['plain Keras, one tf.function'] / best['mlkit, 1 update per call']:.2f}×")
    print(f"as cartpole_dqn runs (128 per call, XLA) / keras-io with tf.function: "
          f"{best['keras-io, step in tf.function'] / best['mlkit, 128 per call + XLA']:.1f}×")


if __name__ == "__main__":
    main()
