import numpy as np
import pytest

from mlkit.layers import Maxout, PolynomialFeatures
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
