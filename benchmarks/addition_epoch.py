"""Time per training epoch: mlkit's addition recipe against keras-io's addition_rnn script (a
benchmark, not a test). Goal: mlkit ≥ 1.0× (no slower).

Same data (45k training and 5k validation questions of 3-digit sums), LSTM width 128, batch 32,
Adam, one epoch with validation per measurement, as keras-io's loop runs it. Three sides:
- "keras-io": its model (LSTM(128) → RepeatVector(4) → LSTM(128) → softmax over one-hot
  characters) trained as its script does: `model.fit` on NumPy one-hot arrays.
- "mlkit recipe": what `mlkit run addition` trains: the Seq2Seq LSTM (embedding 16, reversed
  questions, teacher forcing), its tf.data pipeline and its compile settings (XLA on a CPU).
- "keras-io model, mlkit settings": keras-io's model through mlkit's pipeline and compile
  settings, to separate the model from the way it is trained.
The per-epoch callbacks of either side (mlkit's checkpoints, keras-io's printed samples) are left
out. Each side trains one warm-up epoch (tracing, XLA compilation), then one epoch per round for
ROUNDS rounds in alternating order; the best epoch of each is compared.
Run: .venv/bin/python benchmarks/addition_epoch.py
"""

import time

import keras
import numpy as np
import tensorflow as tf

from mlkit.data.pipeline import finish_pipeline
from mlkit.data.text import CharacterVocabulary, addition_problem
from mlkit.models import seq2seq
from mlkit.recipes.addition import VOCABULARY, encode_split, training_dataset

ROUNDS, DIGITS, BATCH, UNITS = 3, 3, 32, 128
CHARACTERS = "0123456789+ "  # keras-io's, space-padded
MAXLEN = 2 * DIGITS + 1


def one_hot(texts, length):
    array = np.zeros((len(texts), length, len(CHARACTERS)), bool)
    for row, text in enumerate(texts):
        for column, character in enumerate(text.ljust(length)):
            array[row, column, CHARACTERS.index(character)] = True
    return array


def keras_io_model(jit_compile="auto"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.Input((MAXLEN, len(CHARACTERS))),
        keras.layers.LSTM(UNITS),
        keras.layers.RepeatVector(DIGITS + 1),
        keras.layers.LSTM(UNITS, return_sequences=True),
        keras.layers.Dense(len(CHARACTERS), activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"], jit_compile=jit_compile)
    return model


def main():
    questions, answers = addition_problem(50_000, DIGITS, seed=0)
    train, validation = slice(0, 45_000), slice(45_000, 50_000)

    # keras-io: reversed, space-padded questions as one-hot NumPy arrays
    x = one_hot([question[::-1] for question in questions], MAXLEN)
    y = one_hot(answers, DIGITS + 1)
    keras_io = keras_io_model()

    def keras_io_epoch():
        keras_io.fit(x[train], y[train], batch_size=BATCH, epochs=1, validation_data=(x[validation], y[validation]),
                     verbose=0)

    # mlkit: the recipe's encoding, pipeline, model and compile settings
    vocabulary = CharacterVocabulary(VOCABULARY)
    splits = {part: encode_split(vocabulary, questions[where], answers[where], DIGITS, reverse=True)
              for part, where in (("train", train), ("validation", validation))}
    mlkit_train = training_dataset(splits["train"], BATCH, shuffle=True)
    mlkit_validation = training_dataset(splits["validation"], BATCH)
    keras.utils.set_random_seed(0)
    recipe_model = seq2seq(vocabulary=VOCABULARY, units=UNITS, embedding_dim=16, reverse_source=True,
                           max_output_length=DIGITS + 2)
    recipe_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                         jit_compile=True)

    def recipe_epoch():
        recipe_model.fit(mlkit_train, epochs=1, validation_data=mlkit_validation, verbose=0)

    keras_io_mlkit = keras_io_model(jit_compile=True)
    one_hot_train = finish_pipeline(tf.data.Dataset.from_tensor_slices((x[train], y[train])), BATCH, shuffle=True)
    one_hot_validation = finish_pipeline(tf.data.Dataset.from_tensor_slices((x[validation], y[validation])), BATCH)

    def keras_io_mlkit_epoch():
        keras_io_mlkit.fit(one_hot_train, epochs=1, validation_data=one_hot_validation, verbose=0)

    sides = {"keras-io": keras_io_epoch, "mlkit recipe": recipe_epoch,
             "keras-io model, mlkit settings": keras_io_mlkit_epoch}
    for name, epoch in sides.items():
        started = time.perf_counter()
        epoch()
        print(f"  warm-up: {name:32s} {time.perf_counter() - started:6.1f} s", flush=True)
    times = {name: [] for name in sides}
    for round_index in range(ROUNDS):
        order = list(sides.items())
        for name, epoch in order if round_index % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - started)
            print(f"  round {round_index + 1}: {name:32s} {times[name][-1]:6.1f} s/epoch", flush=True)
    best = {name: min(values) for name, values in times.items()}
    for name, value in best.items():
        print(f"{name:32s} best {value:6.1f} s/epoch")
    for name in ("mlkit recipe", "keras-io model, mlkit settings"):
        print(f"speed-up of {name} over keras-io (time per epoch): {best['keras-io'] / best[name]:.2f}x")


if __name__ == "__main__":
    main()
