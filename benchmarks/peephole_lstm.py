"""Training-step time of `keras.layers.RNN(PeepholeLSTMCell)` against `keras.layers.LSTM` on the CPU
(a benchmark, not a test). Goal: the peephole cell within 1.5× of the LSTM.

Same shapes on both sides: batch 128, 100 steps of 2 features (the adding problem), 64 units,
Dense(1) on the last output, Adam, MSE. Each side runs `STEPS` compiled training steps after a
warm-up, ROUNDS times in alternating order; the best round of each is compared.
Run: .venv/bin/python benchmarks/peephole_lstm.py
"""

import time

import keras
import numpy as np

from mlkit.layers import PeepholeLSTMCell

ROUNDS, STEPS = 4, 30
BATCH, LENGTH, FEATURES, UNITS = 128, 100, 2, 64


def model_of(layer):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((LENGTH, FEATURES))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(optimizer="adam", loss="mse")
    return model


def seconds_per_step(model, x, y):
    model.train_on_batch(x, y)  # trace and warm up
    started = time.perf_counter()
    for _ in range(STEPS):
        model.train_on_batch(x, y)
    return (time.perf_counter() - started) / STEPS


def main():
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, LENGTH, FEATURES)).astype("float32")
    y = rng.random((BATCH, 1)).astype("float32")
    sides = {"keras LSTM": lambda: model_of(keras.layers.LSTM(UNITS)),
             "RNN(PeepholeLSTMCell)": lambda: model_of(keras.layers.RNN(PeepholeLSTMCell(UNITS)))}
    times = {name: [] for name in sides}
    for round_index in range(ROUNDS):
        order = list(sides.items())
        for name, make in order if round_index % 2 == 0 else order[::-1]:
            times[name].append(seconds_per_step(make(), x, y))
            print(f"  round {round_index + 1}: {name:22s} {1000 * times[name][-1]:7.1f} ms/step", flush=True)
    best = {name: min(values) for name, values in times.items()}
    for name, value in best.items():
        print(f"{name:22s} best {1000 * value:7.1f} ms/step")
    print(f"ratio peephole / LSTM (time per step): {best['RNN(PeepholeLSTMCell)'] / best['keras LSTM']:.2f}x")


if __name__ == "__main__":
    main()
