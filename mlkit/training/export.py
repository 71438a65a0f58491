"""SavedModel export that proves itself: reload and compare outputs."""

import numpy as np
import tensorflow as tf

from mlkit.io import atomic_path


def sample_inputs(model, batch_size=4, seed=0):
    """A random batch matching the model's (single) input."""
    if len(model.inputs) != 1:
        raise ValueError("sample_inputs needs a single-input model; pass `sample` explicitly.")
    shape = (batch_size,) + tuple(model.inputs[0].shape[1:])
    if any(dimension is None for dimension in shape):
        raise ValueError(f"Model input shape {shape} has unknown dimensions; pass `sample` explicitly.")
    return np.random.default_rng(seed).standard_normal(shape).astype(model.inputs[0].dtype)


def export_model(model, path, sample=None, rtol=1e-5, atol=1e-6):
    """Export `model` as a SavedModel at `path` and check the reloaded outputs.

    The SavedModel is written beside `path` and moved into place only after its
    `serve` endpoint reproduces `model(sample)`; on mismatch nothing is left at
    `path` and a RuntimeError says by how much they differ. Returns the path.
    """
    sample = sample_inputs(model) if sample is None else np.asarray(sample)
    expected = tf.nest.map_structure(np.asarray, model(sample, training=False))
    with atomic_path(path, suffix=".tmp") as temporary:
        model.export(str(temporary), format="tf_saved_model", verbose=False)
        reloaded = tf.saved_model.load(str(temporary))
        served = tf.nest.map_structure(np.asarray, reloaded.serve(tf.constant(sample)))
        try:
            tf.nest.assert_same_structure(served, expected)
        except (ValueError, TypeError):
            raise RuntimeError("Exported SavedModel returns a different output structure than the Keras model.") from None
        for got, want in zip(tf.nest.flatten(served), tf.nest.flatten(expected)):
            if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
                difference = np.max(np.abs(got - want)) if got.shape == want.shape else "shape"
                raise RuntimeError(f"Exported SavedModel disagrees with the Keras model (max difference {difference}).")
    return path
