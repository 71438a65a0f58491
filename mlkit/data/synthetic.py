"""Small generated datasets used by the notes' examples."""

import numpy as np


def xor_data():
    """The four XOR points: inputs (4, 2) float32, labels (4, 1) float32."""
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    labels = np.array([[0], [1], [1], [0]], dtype="float32")
    return inputs, labels


def coffee_roasting_data(num_examples=200, seed=0):
    """Roasts as (temperature °C, duration min) → good (1) / bad (0).

    A good roast lies inside 175–260 °C, 12–15 min and below the line
    `duration = 21 − 3/85·temperature` (hotter roasts must be shorter), as in the
    coffee-roasting lab the notes follow.
    """
    if isinstance(num_examples, bool) or not isinstance(num_examples, (int, np.integer)) or num_examples < 1:
        raise ValueError(f"`num_examples` must be a positive integer, got {num_examples!r}.")
    rng = np.random.default_rng(seed)
    temperature = rng.uniform(150, 285, num_examples)
    duration = rng.uniform(11.5, 15.5, num_examples)
    good = (
        (temperature > 175) & (temperature < 260) & (duration > 12) & (duration < 15)
        & (duration <= 21 - 3 / 85 * temperature)
    )
    inputs = np.stack([temperature, duration], axis=1).astype("float32")
    return inputs, good.astype("float32")[:, None]
