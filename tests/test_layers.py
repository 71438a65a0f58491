import numpy as np
import pytest

import keras

from mlkit.layers import (
    IdentityShortcut,
    Maxout,
    MeasuredMask,
    PolynomialFeatures,
    SumNormalization,
    augmentation_layers,
)
from mlkit.losses import PredictionWeightedSquaredError, TargetWeightedSquaredError
from model_testing import run_layer_test


def test_maxout_layer_contract():
    inputs = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
    run_layer_test(Maxout(5, num_pieces=3), inputs, (4, 5))


def test_maxout_is_the_max_of_affine_pieces():
    keras.utils.set_random_seed(0)
    layer = Maxout(2, num_pieces=3)
    inputs = np.random.default_rng(1).standard_normal((7, 4)).astype("float32")
    outputs = np.asarray(layer(inputs))
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    pieces = (inputs @ kernel + bias).reshape(7, 2, 3)
    np.testing.assert_allclose(outputs, pieces.max(axis=-1), rtol=1e-6, atol=1e-6)  # float32 sums near 0


@pytest.mark.parametrize("kwargs, argument", [({"units": 0}, "units"), ({"units": 3, "num_pieces": 1}, "num_pieces"),
                                             ({"units": 2.5}, "units")])
def test_maxout_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        Maxout(**kwargs)


def test_polynomial_features_contract_and_values():
    inputs = np.array([[1.0, 2.0], [3.0, -1.0]], dtype="float32")
    layer = PolynomialFeatures(3)
    run_layer_test(layer, inputs, (2, 6))
    np.testing.assert_allclose(
        np.asarray(layer(inputs)), [[1, 2, 1, 4, 1, 8], [3, -1, 9, 1, 27, -1]]
    )


@pytest.mark.parametrize("degree", [0, -1, 1.5, True])
def test_polynomial_features_rejects_bad_degree(degree):
    with pytest.raises(ValueError, match="`degree` must be a positive integer"):
        PolynomialFeatures(degree)


def test_sum_normalization_contract_and_values():
    inputs = np.random.default_rng(2).random((5, 80)).astype("float32")
    run_layer_test(SumNormalization(), inputs, (5, 80))
    outputs = np.asarray(SumNormalization()(inputs))
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(outputs, inputs / inputs.sum(axis=1, keepdims=True), rtol=1e-5)
    assert np.isfinite(np.asarray(SumNormalization()(np.zeros((1, 3), "float32")))).all()
    with pytest.raises(ValueError, match="`epsilon` must be positive"):
        SumNormalization(epsilon=0.0)


def test_measured_mask_splits_counts_and_mask():
    inputs = np.array([[-1.0, -1.0, 0.0, 0.5, 1.0, -1.0]], "float32")
    run_layer_test(MeasuredMask(), np.repeat(inputs, 3, axis=0), (3, 6, 2))
    outputs = np.asarray(MeasuredMask()(inputs))
    np.testing.assert_array_equal(outputs[0, :, 0], [0, 0, 0, 0.5, 1, 0])
    np.testing.assert_array_equal(outputs[0, :, 1], [0, 0, 1, 1, 1, 0])


def test_target_weighted_squared_error_values_and_serialisation():
    truth = np.array([[0.7, 0.3, 0.0], [1.0, 0.0, 0.0]], "float32")
    predicted = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]], "float32")
    expected = np.mean(np.sum(truth**2 * (truth - predicted) ** 2, axis=1))
    loss = TargetWeightedSquaredError()
    assert float(loss(truth, predicted)) == pytest.approx(expected, rel=1e-6)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, TargetWeightedSquaredError)
    assert float(restored(truth, predicted)) == pytest.approx(expected, rel=1e-6)
    # Absent elements (t = 0) do not count directly.
    assert float(loss(truth[:1], np.array([[0.7, 0.3, 0.9]], "float32"))) == 0.0


def test_prediction_weighted_squared_error_punishes_confident_false_elements():
    truth = np.array([[0.7, 0.3, 0.0], [1.0, 0.0, 0.0]], "float32")
    predicted = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]], "float32")
    loss = PredictionWeightedSquaredError()
    expected = np.mean(np.sum(predicted**2 * (predicted - truth) ** 2, axis=1))
    assert float(loss(truth, predicted)) == pytest.approx(expected, rel=1e-6)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert float(restored(truth, predicted)) == pytest.approx(expected, rel=1e-6)
    assert float(loss(truth[:1], np.array([[0.7, 0.3, 0.9]], "float32"))) > 0.1  # a false 90 % counts


def test_identity_shortcut_contract_and_values():
    inputs = np.arange(2 * 4 * 4 * 2, dtype="float32").reshape(2, 4, 4, 2)
    layer = IdentityShortcut(5, strides=2)
    run_layer_test(layer, inputs, (2, 2, 2, 5))
    outputs = np.asarray(layer(inputs))
    np.testing.assert_array_equal(outputs[..., :2], inputs[:, ::2, ::2, :])
    np.testing.assert_array_equal(outputs[..., 2:], 0.0)
    assert layer.count_params() == 0


@pytest.mark.parametrize("kwargs, argument", [({"filters": 0}, "filters"), ({"filters": 4, "strides": 0}, "strides"),
                                             ({"filters": 2.0}, "filters")])
def test_identity_shortcut_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        IdentityShortcut(**kwargs)


def test_identity_shortcut_cannot_drop_channels():
    with pytest.raises(ValueError, match="shrink"):
        IdentityShortcut(2)(np.zeros((1, 2, 2, 3), "float32"))


AUGMENTATION = {"flip": "horizontal_and_vertical", "rotation": 0.1, "zoom": 0.1, "translation": 0.1,
                "contrast": 0.3, "brightness": 0.2, "crop": [12, 12]}


def test_augmentation_is_random_in_training_and_inactive_at_inference():
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((4, 16, 16, 3)).astype("float32")
    inputs = keras.Input((16, 16, 3))
    x = inputs
    for layer in augmentation_layers(AUGMENTATION):
        x = layer(x)
    model = keras.Model(inputs, x)
    center = images[:, 2:14, 2:14, :]
    np.testing.assert_allclose(np.asarray(model(images, training=False)), center, atol=1e-6)
    first, second = (np.asarray(model(images, training=True)) for _ in range(2))
    assert first.shape == second.shape == (4, 12, 12, 3)
    assert not np.allclose(first, center) and not np.allclose(first, second)
    assert first.min() >= 0.0 and first.max() <= 1.0  # photometric layers clip to value_range


def test_augmentation_in_a_builder_is_inactive_in_predict():
    from mlkit.models import simple_cnn

    model = simple_cnn(input_shape=(16, 16, 3), filters=(4,), dense_units=(), augmentation=AUGMENTATION)
    images = np.random.default_rng(1).random((4, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(images, verbose=0), model.predict(images, verbose=0))


@pytest.mark.parametrize("augmentation, argument", [
    ({"flip": "sideways"}, "flip"), ({"zoom": 1.0}, "zoom"), ({"rotation": -0.1}, "rotation"), ({"crop": [8]}, "crop"),
    ({"value_range": [1, 0]}, "value_range"), ({"sharpen": 1}, "augmentation"), (["flip"], "augmentation"),
])
def test_augmentation_rejects_bad_settings(augmentation, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        augmentation_layers(augmentation)
