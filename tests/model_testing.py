"""Shared checks run over every builder and layer (keras-hub's run_*_test style)."""

import keras
import numpy as np

from mlkit.models import build


TRAINING_STEPS = 3


def flat_outputs(outputs):
    """One array from a model's outputs: named outputs side by side in key order."""
    if isinstance(outputs, dict):
        return np.concatenate([np.asarray(outputs[key]).reshape(len(outputs[key]), -1) for key in sorted(outputs)], 1)
    return np.asarray(outputs)


def output_shapes(outputs):
    if isinstance(outputs, dict):
        return {key: tuple(value.shape) for key, value in outputs.items()}
    return tuple(outputs.shape)


def assert_outputs_equal(actual, expected, atol=1e-6):
    np.testing.assert_allclose(flat_outputs(actual), flat_outputs(expected), rtol=1e-6, atol=atol)


def run_model_test(model, inputs, targets, loss, expected_output_shape, expected_parameters=None, run_eagerly=False):
    """Shape, parameter count, config round trips and a few training steps (`run_eagerly`: Keras'
    train_step without tracing it, for nets whose traced step takes longer to build than to test)."""
    outputs = model(inputs, training=False)
    if isinstance(expected_output_shape, dict):
        assert output_shapes(outputs) == {key: tuple(shape) for key, shape in expected_output_shape.items()}
    else:
        assert output_shapes(outputs) == tuple(expected_output_shape)
    if expected_parameters is not None:
        trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
        assert trainable == expected_parameters

    # Config round trip: the functional graph (custom layers resolve through the registry), or the
    # constructor arguments of a functional subclass (the autoencoders).
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert_outputs_equal(clone(inputs, training=False), outputs)

    # Builder round trip: the recorded arguments rebuild the same architecture.
    rebuilt = build(model.builder_config)
    assert rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    assert_outputs_equal(rebuilt(inputs, training=False), outputs)

    # A few optimisation steps lower the loss on the batch they were taken on. Dropout
    # makes each step a noisy estimate, so one step alone may not. With BatchNorm the
    # losses compared are the training-mode ones `train_on_batch` reports (batch
    # statistics): inference uses moving statistics that a few steps only start to move.
    batch_norm = any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    # Random augmentation trains on crops and jitter that inference does not see, so its evaluated
    # loss moves slowly and noisily: more and larger (Adam) steps there (0 failures in 16 seeds).
    augmented = any(type(layer).__name__.startswith("Random") for layer in model._flatten_layers())
    steps = 2 * TRAINING_STEPS if augmented else TRAINING_STEPS
    # Adam bounds each step, where deep BatchNorm nets on a tiny batch have huge gradients.
    optimizer = (keras.optimizers.Adam(1e-2) if augmented else keras.optimizers.Adam(1e-3) if batch_norm
                 else keras.optimizers.SGD(0.05))
    model.compile(optimizer=optimizer, loss=loss, run_eagerly=run_eagerly)
    if batch_norm:  # (no evaluate: tracing it costs seconds for a deep net and its loss is not compared)
        training_losses = [_total_loss(model.train_on_batch(inputs, targets)) for _ in range(steps)]
        before, after = training_losses[0], training_losses[-1]
    else:
        before = _total_loss(model.evaluate(inputs, targets, verbose=0))
        for _ in range(steps):
            model.train_on_batch(inputs, targets)
        after = _total_loss(model.evaluate(inputs, targets, verbose=0))
    assert np.isfinite(after) and after < before, (before, after)


def _total_loss(result):
    return result[0] if isinstance(result, list) else result


def run_layer_test(layer, inputs, expected_output_shape):
    """Shape, compute_output_shape, config round trip and gradient flow of a layer."""
    import tensorflow as tf

    outputs = layer(inputs)
    assert tuple(outputs.shape) == tuple(expected_output_shape)
    assert tuple(layer.compute_output_shape(inputs.shape)) == tuple(expected_output_shape)
    clone = layer.__class__.from_config(layer.get_config())
    clone(inputs)
    clone.set_weights(layer.get_weights())
    assert_outputs_equal(clone(inputs), outputs)
    serialized = keras.saving.serialize_keras_object(layer)
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(layer)
    if layer.trainable_weights:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(inputs) ** 2)
        gradients = tape.gradient(loss, layer.trainable_weights)
        assert all(gradient is not None for gradient in gradients)


def run_precision_test(make_model, inputs, policy="mixed_bfloat16"):
    """Built under a mixed policy, the model computes in the narrow type and returns float32 outputs."""
    import tensorflow as tf

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = make_model()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    narrow = policy.split("_")[1]
    outputs = {id(tensor) for tensor in tf.nest.flatten(model.outputs)}
    hidden = [layer for layer in model.layers if layer.weights and id(layer.output) not in outputs]
    if hidden:  # a single-layer model (linear regression) has only its float32 output layer
        assert any(layer.compute_dtype == narrow for layer in hidden), "no hidden layer computes in " + narrow
    for output in tf.nest.flatten(model.outputs):
        assert output.dtype == "float32", (model.name, output.name, output.dtype)
    for value in tf.nest.flatten(model(inputs, training=False)):
        assert value.dtype == "float32" and np.isfinite(np.asarray(value)).all()
