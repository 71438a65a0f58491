"""Functional Keras model builders, one per architecture of the notes."""

from mlkit.models.mlp import ACTIVATIONS, coffee_roasting_net, mlp, mnist_dnn, xor_net
from mlkit.models.registry import build, get_builder, list_builders, register_builder
from mlkit.models.xps import xps_cnn
from mlkit.models.regression import (
    elastic_net,
    linear_regression,
    logistic_regression,
    polynomial_regression,
    raw_polynomial_coefficients,
    softmax_regression,
)

__all__ = [
    "ACTIVATIONS",
    "build",
    "coffee_roasting_net",
    "elastic_net",
    "get_builder",
    "linear_regression",
    "list_builders",
    "logistic_regression",
    "mlp",
    "mnist_dnn",
    "polynomial_regression",
    "raw_polynomial_coefficients",
    "register_builder",
    "softmax_regression",
    "xor_net",
    "xps_cnn",
]
