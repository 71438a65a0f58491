"""What mlkit's estimators share: scikit-learn's BaseEstimator contract and input checks.

Estimators follow scikit-learn: `__init__` only stores hyperparameters, `fit`
validates them and returns self, learned attributes end in `_`, and
`get_params`/`set_params`/`clone` work because they come from
`sklearn.base.BaseEstimator`. The numerical work is TensorFlow's (or a compiled
op's); inputs stay NumPy until a TensorFlow op needs them.
"""

import numbers

import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data


class Estimator(BaseEstimator):
    """scikit-learn's BaseEstimator plus the input checks mlkit's estimators share."""

    def _check_fitted(self, attribute):
        check_is_fitted(self, attribute)

    def _validate_input(self, X, y="no_validation", reset=True, min_samples=1, finite=True):
        """scikit-learn's own input validation (`validate_data`): a 2-D float32/float64 array
        (other numbers become float64; no copy otherwise), with its messages for empty, 1-D,
        complex, sparse or non-finite input; `reset=False` checks the feature count against
        `n_features_in_`. With `y`, returns (X, y) and requires y."""
        if isinstance(X, tf.Tensor):
            X = X.numpy()
        return validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=min_samples,
                             ensure_all_finite=finite)


def as_array(data, name="X", dtype=None, min_rows=1, check_finite=True):
    """A 2-D float NumPy array (float64 stays float64, anything else becomes float32).

    No copy is made for float32/float64 input. Complex, non-numeric, empty or
    non-2-D input raises one ValueError naming `name`.
    """
    if isinstance(data, tf.Tensor):
        data = data.numpy()
    if hasattr(data, "toarray") or type(data).__module__.startswith("scipy.sparse"):
        raise TypeError(f"`{name}` is a sparse matrix; mlkit's estimators need dense arrays (call .toarray()).")
    array = np.asarray(data)
    if np.iscomplexobj(array):
        raise ValueError(f"`{name}` holds complex values; give real numbers.")
    if array.dtype == object:
        try:
            array = array.astype("float64")
        except (TypeError, ValueError):
            raise ValueError(f"`{name}` must be numeric, got dtype object.") from None
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (samples × features), got shape {array.shape}; "
                         "reshape a single feature with X.reshape(-1, 1).")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"`{name}` must be numeric, got dtype {array.dtype}.")
    if dtype is None:
        dtype = "float64" if array.dtype == np.float64 else "float32"
    array = array.astype(dtype, copy=False)
    if array.shape[0] < min_rows:
        raise ValueError(f"`{name}` needs at least {min_rows} sample(s), got {array.shape[0]}.")
    if array.shape[1] < 1:
        raise ValueError(f"`{name}` has 0 features; at least 1 is required.")
    if check_finite and not np.isfinite(array.sum()) and not np.isfinite(array).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return array


def as_matrix(data, name="X", dtype=None, min_rows=1):
    """`as_array` as a TensorFlow tensor."""
    return tf.constant(as_array(data, name, dtype, min_rows))


def check_positive_integers(estimator, names):
    for name in names:
        value = getattr(estimator, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")


def squared_distances(points, centroids):
    """`||x − μ||²` for every point/centroid pair, as one matrix product."""
    points_norm = tf.reduce_sum(tf.square(points), axis=1, keepdims=True)
    centroids_norm = tf.reduce_sum(tf.square(centroids), axis=1)
    cross = tf.matmul(points, centroids, transpose_b=True)
    return tf.maximum(points_norm - 2.0 * cross + centroids_norm, 0.0)
