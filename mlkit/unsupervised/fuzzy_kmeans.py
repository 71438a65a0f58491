"""Soft (fuzzy) k-means with responsibilities `softmax(−β||x − μ||²)` (SPEC §5)."""

import numbers

import numpy as np
import tensorflow as tf

from sklearn.base import ClusterMixin

from mlkit.base import Estimator, check_positive_integers, squared_distances
from mlkit.unsupervised.kmeans import centroid_tolerance, initial_centroids


@tf.function(jit_compile=True, reduce_retracing=True)
def _responsibilities(points, centroids, beta):
    return tf.nn.softmax(-beta * squared_distances(points, centroids), axis=1)


@tf.function(jit_compile=True, reduce_retracing=True)
def _soft_step(points, centroids, beta):
    responsibilities = _responsibilities(points, centroids, beta)
    weights = tf.reduce_sum(responsibilities, axis=0)
    return tf.matmul(responsibilities, points, transpose_a=True) / weights[:, None]


class FuzzyKMeans(ClusterMixin, Estimator):
    """Soft k-means: `r_jt = exp(−β||x_t − μ_j||²) / Σ_l exp(−β||x_t − μ_l||²)`,
    `μ_j = Σ_t r_jt x_t / Σ_t r_jt`. Large β approaches hard k-means; small β pulls
    every centroid towards the overall mean.

    Parameters
    ----------
    n_clusters : int, default=8
        K.
    beta : float, default=1.0
        Stiffness β > 0.
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features), default="k-means++"
    max_iter : int, default=300
    tol : float, default=1e-6
        Stop when the squared centroid movement is ≤ tol × mean feature variance.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for the initial centroids.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features_in_)
    labels_ : ndarray of shape (n_samples,)
        The most responsible cluster of each training row.
    n_iter_ : int
    n_features_in_ : int
    """

    def __init__(self, n_clusters=8, beta=1.0, init="k-means++", max_iter=300, tol=1e-6, random_state=None):
        self.n_clusters = n_clusters
        self.beta = beta
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None):
        check_positive_integers(self, ("n_clusters", "max_iter"))
        if not isinstance(self.beta, numbers.Real) or self.beta <= 0:
            raise ValueError(f"`beta` must be a positive number, got {self.beta!r}.")
        if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real) or self.tol < 0:
            raise ValueError(f"`tol` must be a non-negative number, got {self.tol!r}.")
        numpy_points = self._validate_input(X, min_samples=self.n_clusters)
        points = tf.constant(numpy_points)
        centroids = initial_centroids(numpy_points, self.n_clusters, self.init, np.random.default_rng(self.random_state))
        centroids = tf.constant(centroids, dtype=points.dtype)
        beta = tf.constant(self.beta, dtype=points.dtype)
        tolerance = centroid_tolerance(points, self.tol)
        for iteration in range(1, self.max_iter + 1):
            updated = _soft_step(points, centroids, beta)
            shift = float(tf.reduce_sum(tf.square(updated - centroids)))
            centroids = updated
            if shift <= tolerance:
                break
        self.cluster_centers_ = centroids.numpy()
        self.labels_ = np.argmax(_responsibilities(points, centroids, beta).numpy(), axis=1)
        self.n_iter_ = iteration
        return self

    def predict_proba(self, X):
        """Responsibilities r_jt: one row per sample, summing to 1."""
        self._check_fitted("cluster_centers_")
        points = tf.constant(self._validate_input(X, reset=False))
        centroids = tf.constant(self.cluster_centers_, dtype=points.dtype)
        return _responsibilities(points, centroids, tf.constant(self.beta, dtype=points.dtype)).numpy()

    def predict(self, X):
        return np.argmax(self.predict_proba(X), axis=1)
