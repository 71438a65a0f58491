"""What the TensorFlow estimators share: the scikit-learn contract and input checks."""

import inspect

import numpy as np
import tensorflow as tf


class Estimator:
    """scikit-learn style: `__init__` stores hyperparameters unchanged, `fit` returns
    self, learned attributes end in `_`. `get_params`/`set_params` as in scikit-learn."""

    def get_params(self, deep=True):
        names = [name for name in inspect.signature(type(self).__init__).parameters if name != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params):
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}.")
            setattr(self, name, value)
        return self

    def __repr__(self):
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({arguments})"

    def _check_fitted(self, attribute):
        if not hasattr(self, attribute):
            raise ValueError(f"This {type(self).__name__} is not fitted yet; call fit first.")


def as_matrix(data, name="X", dtype=None, min_rows=1):
    """A finite 2-D float tensor (float64 stays float64, anything else becomes float32)."""
    if isinstance(data, tf.Tensor):
        data = data.numpy()
    array = np.asarray(data)
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (samples × features), got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"`{name}` must be numeric, got dtype {array.dtype}.")
    if dtype is None:
        dtype = "float64" if array.dtype == np.float64 else "float32"
    array = array.astype(dtype, copy=False)
    if array.shape[0] < min_rows:
        raise ValueError(f"`{name}` needs at least {min_rows} samples, got {array.shape[0]}.")
    if array.shape[1] < 1:
        raise ValueError(f"`{name}` has no features.")
    if not np.isfinite(array).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return tf.constant(array)


def check_features(estimator, data, expected):
    matrix = as_matrix(data)
    if matrix.shape[1] != expected:
        raise ValueError(
            f"`X` has {matrix.shape[1]} features, but {type(estimator).__name__} was fitted with {expected}."
        )
    return matrix


def squared_distances(points, centroids):
    """`||x − μ||²` for every point/centroid pair, as one matrix product."""
    points_norm = tf.reduce_sum(tf.square(points), axis=1, keepdims=True)
    centroids_norm = tf.reduce_sum(tf.square(centroids), axis=1)
    cross = tf.matmul(points, centroids, transpose_b=True)
    return tf.maximum(points_norm - 2.0 * cross + centroids_norm, 0.0)
