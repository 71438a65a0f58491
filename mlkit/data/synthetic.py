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


def adding_problem(num_examples, steps=100, seed=0):
    """Hochreiter & Schmidhuber's adding problem: inputs (n, steps, 2), targets (n, 1) float32.

    Channel 0 holds values drawn from U(0, 1); channel 1 marks two steps, one in each half of the
    sequence, with 1. The target is the sum of the two marked values. Predicting the constant 1
    gives a mean squared error of Var(U₁ + U₂) = 1/6 ≈ 0.167, which is what a network that cannot
    carry information across the sequence is left with.
    """
    if isinstance(num_examples, bool) or not isinstance(num_examples, (int, np.integer)) or num_examples < 1:
        raise ValueError(f"`num_examples` must be a positive integer, got {num_examples!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"`steps` must be an integer ≥ 2, got {steps!r}.")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (num_examples, steps))
    half = steps // 2
    first = rng.integers(0, half, num_examples)
    second = rng.integers(half, steps, num_examples)
    markers = np.zeros((num_examples, steps))
    rows = np.arange(num_examples)
    markers[rows, first] = markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1).astype("float32"), targets[:, None].astype("float32")
