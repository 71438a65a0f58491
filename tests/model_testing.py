"""Shared checks run over every builder and layer (keras-hub's run_*_test style)."""

import keras
import numpy as np

from mlkit.models import build


def assert_outputs_equal(actual, expected, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-6, atol=atol)


def run_model_test(model, inputs, targets, loss, expected_output_shape, expected_parameters=None):
    """Shape, parameter count, config round trips and one training step."""
    outputs = model(inputs, training=False)
    assert tuple(outputs.shape) == tuple(expected_output_shape)
    if expected_parameters is not None:
        trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
        assert trainable == expected_parameters

    # Functional graph round trip (custom layers resolve through the registry).
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert_outputs_equal(clone(inputs, training=False), outputs)

    # Builder round trip: the recorded arguments rebuild the same architecture.
    rebuilt = build(model.builder_config)
    assert rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    assert_outputs_equal(rebuilt(inputs, training=False), outputs)

    # One optimisation step lowers the loss on the batch it was taken on.
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss)
    before = model.evaluate(inputs, targets, verbose=0)
    model.train_on_batch(inputs, targets)
    after = model.evaluate(inputs, targets, verbose=0)
    assert np.isfinite(after) and after < before, (before, after)


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
