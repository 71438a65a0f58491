"""SavedModel export that proves itself: reload and compare outputs."""

import keras
import numpy as np
import tensorflow as tf

from mlkit.io import atomic_directory, write_json

SERVING_METADATA = "serving.json"  # input shape, dtype and the value range the model was trained on


def sample_inputs(model, batch_size=4, seed=0):
    """A random batch matching the model's (single) input."""
    try:
        inputs = model.inputs
    except AttributeError:  # a subclassed model has no symbolic inputs
        inputs = None
    if not inputs:
        raise ValueError("sample_inputs needs a functional model; pass `sample` explicitly for a subclassed one.")
    if len(inputs) != 1:
        raise ValueError("sample_inputs needs a single-input model; pass `sample` explicitly.")
    shape = (batch_size,) + tuple(model.inputs[0].shape[1:])
    if any(dimension is None for dimension in shape):
        raise ValueError(f"Model input shape {shape} has unknown dimensions; pass `sample` explicitly.")
    return np.random.default_rng(seed).standard_normal(shape).astype(model.inputs[0].dtype)


def export_model(model, path, sample=None, rtol=1e-5, atol=1e-6, extra_files=None, input_range=None,
                 replace=False, stochastic=False):
    """Export `model` as a SavedModel at `path` and check the reloaded outputs.

    The SavedModel is written beside `path` and moved into place only after its
    `serve` endpoint reproduces `model(sample)`; on mismatch nothing is left at
    `path` and a RuntimeError says by how much they differ. An existing `path` is
    replaced only with `replace=True` and only if it is an earlier mlkit export
    (never a user's folder or a run directory). `serving.json` records the input
    shape, dtype and `input_range` (the (min, max) of the training inputs, which
    `mlkit predict` enforces); `extra_files` ({name: JSON data}) are written
    beside it. Returns the path.

    A mixed precision model is exported in float32 (see `float32_model`). With `stochastic`,
    a second endpoint `sample` runs the forward pass in training mode (dropout active), for
    Monte-Carlo dropout uncertainties.
    """
    model = float32_model(model)
    if getattr(model, "characters", None) is not None:  # a Seq2Seq over characters: strings in, strings out
        return _export_text_model(model, path, sample, extra_files, input_range, replace)
    if sample is None:
        sample = sample_inputs(model)
    elif isinstance(sample, (list, tuple)):  # one array per input of a multi-input model
        sample = [np.asarray(part) for part in sample]
    else:
        sample = np.asarray(sample)
    expected = tf.nest.map_structure(np.asarray, model(sample, training=False))
    with atomic_directory(path, "export", replace=replace) as temporary:
        _write_inference_saved_model(model, temporary, sample, stochastic)
        reloaded = tf.saved_model.load(str(temporary))
        arguments = [tf.constant(part) for part in sample] if isinstance(sample, list) else [tf.constant(sample)]
        served = tf.nest.map_structure(np.asarray, reloaded.serve(*arguments))
        try:
            tf.nest.assert_same_structure(served, expected)
        except (ValueError, TypeError):
            raise RuntimeError("Exported SavedModel returns a different output structure than the Keras model.") from None
        for got, want in zip(tf.nest.flatten(served), tf.nest.flatten(expected)):
            if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
                difference = np.max(np.abs(got - want)) if got.shape == want.shape else "shape"
                raise RuntimeError(f"Exported SavedModel disagrees with the Keras model (max difference {difference}).")
        specs = _input_specs(model, sample)
        write_json(temporary / SERVING_METADATA, {
            "input_shapes": [list(spec.shape[1:]) for spec in specs],
            "input_dtypes": [spec.dtype.name for spec in specs],
            "input_range": None if input_range is None else [float(input_range[0]), float(input_range[1])],
        })
        for name, data in (extra_files or {}).items():
            write_json(temporary / name, data)
    return path


def _export_text_model(model, path, sample, extra_files, input_range, replace):
    """`serve`: tf.string (batch,) → tf.string (batch,), tokenising and greedy decoding inside the graph.

    Verified like any export: the reloaded endpoint must give exactly the strings the model gives.
    `input_range` is (shortest, longest) training text; `mlkit predict` refuses longer texts.
    """
    characters = model.characters
    if sample is None:  # any texts in the vocabulary do for the check
        sample = [characters.characters[:3], characters.characters[::-1], characters.characters[-1]]
    texts = characters.check([str(text) for text in np.asarray(sample).ravel()], "sample")
    expected = model.translate_strings(tf.constant(texts)).numpy()
    with atomic_directory(path, "export", replace=replace) as temporary:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", model.translate_strings,
                             input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        archive.write_out(str(temporary), verbose=False)
        reloaded = tf.saved_model.load(str(temporary))  # kept in a name: its variables must outlive the call
        served = reloaded.serve(tf.constant(texts)).numpy()
        if not np.array_equal(served, expected):
            raise RuntimeError(f"Exported SavedModel answers {served[:3].tolist()}, the model {expected[:3].tolist()}.")
        write_json(temporary / SERVING_METADATA, {
            "input_shapes": [[]], "input_dtypes": ["string"], "vocabulary": characters.characters,
            "input_range": None if input_range is None else [int(input_range[0]), int(input_range[1])],
        })
        for name, data in (extra_files or {}).items():
            write_json(temporary / name, data)
    return path


def float32_model(model):
    """`model` itself if it computes in float32, else a float32 copy with the same weights.

    Mixed precision speeds training up; serving in float32 costs little and gives
    outputs that do not depend on which bfloat16/float16 kernels the serving graph
    picks (the graph and eager bfloat16 paths differ by ~1e-3).
    """
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in model._flatten_layers(include_self=False)):
        return model
    if callable(getattr(model, "float32_copy", None)):  # models rebuilt from their arguments (tied autoencoders)
        clone = model.float32_copy()
        if hasattr(model, "builder_config"):
            clone.builder_config = model.builder_config
        return clone

    def clone_layer(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    clone = keras.models.clone_model(model, clone_function=clone_layer)
    clone.set_weights(model.get_weights())
    if hasattr(model, "builder_config"):
        clone.builder_config = model.builder_config
    return clone


def _input_specs(model, sample):
    """The serving signature: the functional model's inputs, or (a subclassed model) the sample's shape."""
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if inputs:
        return [tf.TensorSpec(tensor.shape, tensor.dtype, name=tensor.name) for tensor in inputs]
    return [tf.TensorSpec((None,) + tuple(np.shape(sample)[1:]), tf.as_dtype(np.asarray(sample).dtype), name="inputs")]


def _write_inference_saved_model(model, path, sample, stochastic=False):
    """`model.export` with the forward pass pinned to training=False.

    `model.export` serves `model.call` with `training` unset, and Keras' random
    preprocessing layers default to training=True, so augmentation would run in
    the served model; dropout and batch norm already default to inference.
    """
    signature = _input_specs(model, sample)
    archive = keras.export.ExportArchive()
    archive.track(model)
    if len(signature) == 1:
        archive.add_endpoint("serve", lambda inputs: model(inputs, training=False), input_signature=signature)
    else:
        archive.add_endpoint("serve", lambda *inputs: model(list(inputs), training=False), input_signature=signature)
    if stochastic:
        if len(signature) != 1:
            raise ValueError("`stochastic` export supports single-input models.")
        archive.add_endpoint("sample", lambda inputs: model(inputs, training=True), input_signature=signature)
    archive.write_out(str(path), verbose=False)
