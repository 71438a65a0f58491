"""Soft (fuzzy) k-means with responsibilities `softmax(−β||x − μ||²)` (SPEC §5)."""

import numbers

import numpy as np
import tensorflow as tf

from mlkit.unsupervised.base import Estimator, as_matrix, check_features, squared_distances
from mlkit.unsupervised.kmeans import centroid_tolerance, check_positive_integers, initial_centroids


@tf.function(jit_compile=True, reduce_retracing=True)
def _responsibilities(points, centroids, beta):
    return tf.nn.softmax(-beta * squared_distances(points, centroids), axis=1)


@tf.function(jit_compile=True, reduce_retracing=True)
def _soft_step(points, centroids, beta):
    responsibilities = _responsibilities(points, centroids, beta)
    weights = tf.reduce_sum(responsibilities, axis=0)
    return tf.matmul(responsibilities, points, transpose_a=True) / weights[:, None]


class FuzzyKMeans(Estimator):
    """Soft k-means: `r_jt = exp(−β||x_t − μ_j||²) / Σ_l exp(−β||x_t − μ_l||²)`,
    `μ_j = Σ_t r_jt x_t / Σ_t r_jt`. Large β approaches hard k-means; small β pulls
    every centroid towards the overall mean.

    Learned: `cluster_centers_`, `n_iter_`, `n_features_in_`.
    """

    def __init__(self, n_clusters=8, beta=1.0, init="k-means++", max_iter=300, tol=1e-6, seed=None):
        self.n_clusters = n_clusters
        self.beta = beta
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed

    def fit(self, X, y=None):
        check_positive_integers(self, ("n_clusters", "max_iter"))
        if not isinstance(self.beta, numbers.Real) or self.beta <= 0:
            raise ValueError(f"`beta` must be a positive number, got {self.beta!r}.")
        points = as_matrix(X, min_rows=self.n_clusters)
        numpy_points = points.numpy()
        centroids = initial_centroids(numpy_points, self.n_clusters, self.init, np.random.default_rng(self.seed))
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
        self.n_iter_ = iteration
        self.n_features_in_ = numpy_points.shape[1]
        return self

    def predict_proba(self, X):
        """Responsibilities r_jt: one row per sample, summing to 1."""
        self._check_fitted("cluster_centers_")
        points = check_features(self, X, self.n_features_in_)
        centroids = tf.constant(self.cluster_centers_, dtype=points.dtype)
        return _responsibilities(points, centroids, tf.constant(self.beta, dtype=points.dtype)).numpy()

    def predict(self, X):
        return np.argmax(self.predict_proba(X), axis=1)
