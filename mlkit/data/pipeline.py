"""The one way mlkit turns examples into a training pipeline."""

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def finish_pipeline(dataset, batch_size, shuffle=False, seed=0, repeat=False, cache=True):
    """cache → (shuffle each epoch) → batch → (repeat) → prefetch."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    if cache:
        dataset = dataset.cache()
    if shuffle:
        size = dataset.cardinality()
        buffer = 10_000 if size < 0 else int(min(size, 10_000))
        dataset = dataset.shuffle(max(buffer, 1), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(int(batch_size))
    if repeat:
        dataset = dataset.repeat()
    return dataset.prefetch(AUTOTUNE)


def array_dataset(features, labels, batch_size, shuffle=False, seed=0, repeat=False):
    """In-memory arrays → batched, cached, prefetched `tf.data.Dataset`."""
    features = np.asarray(features)
    labels = np.asarray(labels)
    if len(features) != len(labels):
        raise ValueError(f"features and labels differ in length: {len(features)} vs {len(labels)}.")
    if len(features) == 0:
        raise ValueError("Cannot build a dataset from zero examples.")
    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    return finish_pipeline(dataset, batch_size, shuffle=shuffle, seed=seed, repeat=repeat)
