"""The one way mlkit turns examples into a training pipeline."""

import dataclasses

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class DatasetSplits:
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset | None  # None where the data has no held-out test split
    source: str
    sizes: dict
    class_names: list | None = None


def scale_images(images, labels):
    """uint8 (or 0–255 float) pixels → float32 in [0, 1]."""
    return tf.cast(images, tf.float32) / 255.0, labels


def finish_pipeline(dataset, batch_size, shuffle=False, seed=0, repeat=False, cache=True, batch_map=None,
                    drop_remainder=False):
    """cache → (shuffle each epoch) → batch → (batch_map) → (repeat) → prefetch.

    `cache` is True (in memory), False, or a file path prefix for data larger than memory.
    `batch_map(features, labels)` runs on whole batches in parallel: one vectorised op per
    batch instead of one per example (scaling MNIST this way trains 1.4× faster than
    mapping each image), and the cache keeps the smaller uint8 pixels. `drop_remainder` drops a
    last, smaller batch (a GAN splits every batch into k equal parts).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    if cache:
        dataset = dataset.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        size = dataset.cardinality()
        buffer = 60_000 if size < 0 else int(min(size, 60_000))  # all of MNIST: a full shuffle
        dataset = dataset.shuffle(max(buffer, 1), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(int(batch_size), drop_remainder=drop_remainder)
    if batch_map is not None:
        dataset = dataset.map(batch_map, num_parallel_calls=AUTOTUNE)
    if repeat:
        dataset = dataset.repeat()
    return dataset.prefetch(AUTOTUNE)


def array_dataset(features, labels, batch_size, shuffle=False, seed=0, repeat=False, batch_map=None):
    """In-memory arrays → batched, cached, prefetched `tf.data.Dataset` (see finish_pipeline)."""
    features = np.asarray(features)
    labels = np.asarray(labels)
    if len(features) != len(labels):
        raise ValueError(f"features and labels differ in length: {len(features)} vs {len(labels)}.")
    if len(features) == 0:
        raise ValueError("Cannot build a dataset from zero examples.")
    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    return finish_pipeline(dataset, batch_size, shuffle=shuffle, seed=seed, repeat=repeat, batch_map=batch_map)
