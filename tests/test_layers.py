import numpy as np
import pytest

import keras

from mlkit.layers import Maxout, PolynomialFeatures, SumNormalization
from mlkit.losses import TargetWeightedSquaredError
from model_testing import run_layer_test


def test_maxout_layer_contract():
    inputs = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
    run_layer_test(Maxout(5, num_pieces=3), inputs, (4, 5))


def test_maxout_is_the_max_of_affine_pieces():
    layer = Maxout(2, num_pieces=3)
    inputs = np.random.default_rng(1).standard_normal((7, 4)).astype("float32")
    outputs = np.asarray(layer(inputs))
    kernel, bias = (np.asarray(weight) for weight in layer.get_weights())
    pieces = (inputs @ kernel + bias).reshape(7, 2, 3)
    np.testing.assert_allclose(outputs, pieces.max(axis=-1), rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{"units": 0}, {"units": 3, "num_pieces": 1}, {"units": 2.5}])
def test_maxout_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
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
    with pytest.raises(ValueError):
        PolynomialFeatures(degree)


def test_sum_normalization_contract_and_values():
    inputs = np.random.default_rng(2).random((5, 80)).astype("float32")
    run_layer_test(SumNormalization(), inputs, (5, 80))
    outputs = np.asarray(SumNormalization()(inputs))
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(outputs, inputs / inputs.sum(axis=1, keepdims=True), rtol=1e-5)
    assert np.isfinite(np.asarray(SumNormalization()(np.zeros((1, 3), "float32")))).all()
    with pytest.raises(ValueError):
        SumNormalization(epsilon=0.0)


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
