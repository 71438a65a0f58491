"""Fisher's linear discriminant analysis in TensorFlow (SPEC §5)."""

import numbers

import numpy as np
import tensorflow as tf

from sklearn.base import ClassifierMixin, TransformerMixin

from sklearn.utils.multiclass import check_classification_targets

from mlkit.base import Estimator


class LDA(ClassifierMixin, TransformerMixin, Estimator):
    """Maximise `J(w) = wᵀS_B w / wᵀS_W w`.

    Two classes: `w = S_W⁻¹(m1 − m2)` (Fisher). More classes: the leading
    eigenvectors of `S_W⁻¹S_B` (at most C − 1), solved as a symmetric problem
    through the Cholesky factor of S_W.

    Parameters
    ----------
    n_components : int or None, default=None
        Projected dimensions, ≤ min(C − 1, features); None = C − 1.
    regularization : float, default=0.0
        Ridge added to S_W as a fraction of its mean diagonal, for data whose S_W is
        singular (features that never vary, e.g. blank pixels). It biases the direction
        when feature scales differ, so it is off by default.

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
    means_ : ndarray of shape (C, n_features_in_)
        Class means.
    scalings_ : ndarray of shape (n_features_in_, n_components_)
        Unit columns.
    class_means_projected_ : ndarray of shape (C, n_components_)
    n_components_ : int
    n_features_in_ : int

    `predict` assigns the class whose projected mean is nearest; `score` is its accuracy.
    """

    def __init__(self, n_components=None, regularization=0.0):
        self.n_components = n_components
        self.regularization = regularization

    def fit(self, X, y):
        points, labels = self._validate_input(X, y, min_samples=2)
        check_classification_targets(labels)
        points = tf.constant(points.astype("float64", copy=False))
        classes, encoded = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise ValueError("LDA needs at least two classes.")
        if not isinstance(self.regularization, numbers.Real) or self.regularization < 0:
            raise ValueError(f"`regularization` must be ≥ 0, got {self.regularization!r}.")
        features = points.shape[1]
        limit = min(len(classes) - 1, features)
        count = limit if self.n_components is None else self.n_components
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or not 1 <= count <= limit:
            raise ValueError(f"`n_components` must be an integer in [1, {limit}], got {self.n_components!r}.")

        one_hot = tf.one_hot(encoded, len(classes), dtype=tf.float64)
        counts = tf.reduce_sum(one_hot, axis=0)
        means = tf.matmul(one_hot, points, transpose_a=True) / counts[:, None]
        centred = points - tf.gather(means, encoded)
        within = tf.matmul(centred, centred, transpose_a=True)  # S_W
        within += self.regularization * tf.reduce_mean(tf.linalg.diag_part(within)) * tf.eye(features, dtype=tf.float64)
        between_offsets = means - tf.reduce_mean(points, axis=0)
        between = tf.matmul(between_offsets * counts[:, None], between_offsets, transpose_a=True)  # S_B

        singular = ValueError("The within-class scatter S_W is singular; set `regularization` > 0.")
        try:
            lower = tf.linalg.cholesky(within)
        except tf.errors.InvalidArgumentError:
            raise singular from None
        if not np.isfinite(lower.numpy()).all():
            raise singular
        if len(classes) == 2:
            direction = tf.linalg.cholesky_solve(lower, tf.reshape(means[1] - means[0], (-1, 1)))
            scalings = direction.numpy()
        else:
            # S_B v = λ S_W v  ⇔  (L⁻¹ S_B L⁻ᵀ) u = λ u with S_W = L Lᵀ and v = L⁻ᵀ u.
            half = tf.linalg.triangular_solve(lower, between, lower=True)
            symmetric = tf.linalg.triangular_solve(lower, tf.transpose(half), lower=True)
            symmetric = (symmetric + tf.transpose(symmetric)) / 2
            _, vectors = tf.linalg.eigh(symmetric)
            vectors = vectors[:, ::-1][:, :count]
            scalings = tf.linalg.triangular_solve(tf.transpose(lower), vectors, lower=False).numpy()
        scalings = scalings / np.linalg.norm(scalings, axis=0, keepdims=True)
        self.classes_ = classes
        self.means_ = means.numpy()
        self.scalings_ = scalings[:, :count]
        self.class_means_projected_ = self.means_ @ self.scalings_
        self.n_components_ = count
        return self

    def transform(self, X):
        self._check_fitted("scalings_")
        return self._validate_input(X, reset=False).astype("float64", copy=False) @ self.scalings_

    def predict(self, X):
        projected = self.transform(X)
        distances = ((projected[:, None, :] - self.class_means_projected_[None]) ** 2).sum(axis=-1)
        return self.classes_[np.argmin(distances, axis=1)]

