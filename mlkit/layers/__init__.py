"""Custom Keras layers that Keras itself does not provide."""

from mlkit.layers.maxout import Maxout
from mlkit.layers.polynomial_features import PolynomialFeatures
from mlkit.layers.sum_normalization import SumNormalization

__all__ = ["Maxout", "PolynomialFeatures", "SumNormalization"]
