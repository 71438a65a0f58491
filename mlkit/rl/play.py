"""Greedy episodes of an exported Q-network in its gymnasium environment, optionally recorded."""

import os

import numpy as np


def play(served, environment_id, episodes, seed=0, record_first=False):
    """Play `episodes` greedy episodes (seeds seed, seed + 1, …) with a served Q-network.

    Returns (returns, lengths, frames of the first episode or None, the environment's frames per second)."""
    import gymnasium as gym

    # Headless rendering: pygame (gymnasium's classic-control renderer) needs no display or sound card.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        environment = gym.make(environment_id, render_mode="rgb_array" if record_first else None)
    except gym.error.Error as error:
        raise ValueError(f"environment {environment_id!r}: {error}") from None
    returns, lengths, frames = [], [], [] if record_first else None
    for episode in range(episodes):
        observation, _ = environment.reset(seed=seed + episode)
        recording = record_first and episode == 0
        total, steps, done = 0.0, 0, False
        while not done:
            if recording:
                frames.append(environment.render())
            q_values = served.predict(np.asarray(observation, "float32")[None])
            observation, reward, terminated, truncated, _ = environment.step(int(np.argmax(q_values[0])))
            total, steps, done = total + float(reward), steps + 1, terminated or truncated
        if recording:
            frames.append(environment.render())
        returns.append(total)
        lengths.append(steps)
    fps = environment.metadata.get("render_fps", 30)
    environment.close()
    return np.asarray(returns), np.asarray(lengths), frames, fps
