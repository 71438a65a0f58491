"""K-means (Lloyd) in TensorFlow: fused Lloyd passes (`lloyd_pass`), empty-cluster
handling, mini-batches streamed from `tf.data`, and the elbow method (SPEC §5)."""

import dataclasses
import numbers

import numpy as np
import tensorflow as tf

from sklearn.base import ClusterMixin, TransformerMixin

from mlkit.base import Estimator, as_matrix, check_positive_integers, squared_distances
from mlkit.unsupervised.lloyd_pass import kernel_for, lloyd_pass

INITS = ("k-means++", "random")
EMPTY_POLICIES = ("reinit", "remove")


def kmeans_plus_plus(points, n_clusters, rng):
    """k-means++ seeding (Arthur & Vassilvitskii 2007): next centre drawn ∝ D(x)²."""
    points = np.asarray(points)
    first = rng.integers(len(points))
    centroids = [points[first]]
    closest = np.sum((points - points[first]) ** 2, axis=1)
    for _ in range(1, n_clusters):
        total = closest.sum()
        index = rng.integers(len(points)) if total <= 0 else rng.choice(len(points), p=closest / total)
        centroids.append(points[index])
        closest = np.minimum(closest, np.sum((points - points[index]) ** 2, axis=1))
    return np.stack(centroids)


def centroid_tolerance(points, tol):
    """scikit-learn's stopping threshold: tol × the mean feature variance (0 skips the pass)."""
    if tol == 0:
        return 0.0
    return tol * float(tf.reduce_mean(tf.math.reduce_variance(points, axis=0)))


def initial_centroids(points, n_clusters, init, rng):
    """K starting centroids: "k-means++", "random" (K distinct data points) or given."""
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"`init` must be one of {INITS} or an array of centroids, got {init!r}.")
        if init == "random":
            return points[rng.choice(len(points), n_clusters, replace=False)]
        return kmeans_plus_plus(points, n_clusters, rng)
    centroids = np.asarray(init, dtype=points.dtype)
    if centroids.shape != (n_clusters, points.shape[1]):
        raise ValueError(f"`init` centroids must have shape {(n_clusters, points.shape[1])}, got {centroids.shape}.")
    return centroids


class KMeans(ClusterMixin, TransformerMixin, Estimator):
    """Lloyd's k-means: assign `c(i) = argmin_j ||x(i) − μ_j||²`, move `μ_j` to the mean.

    `fit` also takes a batched `tf.data.Dataset` of feature rows (or (features, label)
    pairs), for data that does not fit in memory: mini-batch k-means (Sculley 2010),
    each centroid moving towards its batch points with step 1/(points seen).

    Parameters
    ----------
    n_clusters : int, default=8
        K.
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features), default="k-means++"
        "random" takes K distinct data points, as in the notes.
    n_init : int, default=1
        Restarts from different seeds; the lowest distortion wins.
    max_iter : int, default=300
        Lloyd iterations per restart (passes over the data for a `tf.data` input).
    tol : float, default=1e-4
        Stop when the squared centroid movement is ≤ tol × mean feature variance
        (scikit-learn's rule); 0 runs all `max_iter` iterations.
    empty : {"reinit", "remove"}, default="reinit"
        A cluster that loses all its points is re-seeded at a random data point, or
        dropped (so fewer clusters remain).
    random_state : int, numpy.random.Generator or None, default=None
        Seed for initialisation and re-seeding.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters_, n_features_in_)
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row (also for a `tf.data` input).
    inertia_ : float
        Σ squared distances to the assigned centroids.
    distortion_ : float
        J = inertia_ / m.
    distortion_history_ : list of float
        J per iteration, non-increasing.
    n_iter_ : int
    n_clusters_ : int
        K after removals.
    n_features_in_ : int
    lloyd_kernel_ : {"native", "xla"}
        The compiled fused op or the XLA step (see `mlkit.unsupervised.lloyd_pass`).
    """

    def __init__(self, n_clusters=8, init="k-means++", n_init=1, max_iter=300, tol=1e-4, empty="reinit",
                 random_state=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.empty = empty
        self.random_state = random_state

    def _validate(self):
        check_positive_integers(self, ("n_clusters", "n_init", "max_iter"))
        if not isinstance(self.tol, numbers.Real) or self.tol < 0:
            raise ValueError(f"`tol` must be a non-negative number, got {self.tol!r}.")
        if self.empty not in EMPTY_POLICIES:
            raise ValueError(f"`empty` must be one of {EMPTY_POLICIES}, got {self.empty!r}.")

    def _initial_centroids(self, points, rng):
        return initial_centroids(points, self.n_clusters, self.init, rng)

    def fit(self, X, y=None):
        self._validate()
        if isinstance(X, tf.data.Dataset):
            return self._fit_stream(X)
        numpy_points = self._validate_input(X, min_samples=self.n_clusters)
        points = tf.constant(numpy_points)
        tolerance = centroid_tolerance(points, self.tol)
        rng = np.random.default_rng(self.random_state)
        restarts = 1 if not isinstance(self.init, str) else self.n_init
        best = None
        for _ in range(restarts):
            result = self._lloyd(points, self._initial_centroids(numpy_points, rng), tolerance, rng)
            if best is None or result[2] < best[2]:
                best = result
        centroids, labels, inertia, history, iterations = best
        self.cluster_centers_ = centroids
        self.labels_ = labels
        self.inertia_ = inertia
        self.distortion_ = inertia / len(numpy_points)
        self.distortion_history_ = history
        self.n_iter_ = iterations
        self.n_clusters_ = len(centroids)
        self.lloyd_kernel_ = kernel_for(points)
        return self

    def _lloyd(self, points, centroids, tolerance, rng):
        size = points.shape[0]
        dtype = points.dtype.as_numpy_dtype
        history = []
        iteration = 0
        for iteration in range(1, self.max_iter + 1):
            _, _, sums, counts, inertia = lloyd_pass(points, tf.constant(centroids))
            history.append(float(inertia) / size)  # J of the assignment to the current centroids
            counts = counts.numpy()
            updated = (sums.numpy() / np.maximum(counts, 1)[:, None]).astype(dtype)
            empty = counts == 0
            if empty.any():
                if self.empty == "remove":
                    updated = updated[~empty]
                else:  # re-seed at random data points
                    updated[empty] = tf.gather(points, rng.choice(size, int(empty.sum()), replace=False)).numpy()
            shift = np.inf if empty.any() else float(np.sum((updated - centroids) ** 2))
            centroids = updated
            if shift <= tolerance:
                break
        labels, _, _, _, inertia = lloyd_pass(points, tf.constant(centroids))  # labels of the final centroids
        return centroids, labels.numpy(), float(inertia), history, iteration

    def _fit_stream(self, dataset):
        rng = np.random.default_rng(self.random_state)
        centroids, seen, history = None, None, []
        for _ in range(self.max_iter):
            total, count = 0.0, 0
            for batch in dataset:
                batch = _batch_features(batch)
                if centroids is None:
                    if batch.shape[0] < self.n_clusters:
                        raise ValueError("The first batch must hold at least `n_clusters` rows.")
                    centroids = self._initial_centroids(batch.numpy(), rng).astype(batch.dtype.as_numpy_dtype)
                    seen = np.zeros(self.n_clusters)
                _, _, batch_sums, batch_counts, inertia = lloyd_pass(batch, tf.constant(centroids))
                batch_sums, batch_counts = batch_sums.numpy(), batch_counts.numpy()
                total += float(inertia)
                count += batch.shape[0]
                seen += batch_counts
                moved = batch_counts > 0
                # Centroid = running mean of every point ever assigned to it.
                step = batch_counts[moved] / seen[moved]
                centroids[moved] += step[:, None] * (batch_sums[moved] / batch_counts[moved, None] - centroids[moved])
            if centroids is None:
                raise ValueError("The dataset yielded no data.")
            history.append(total / count)
        inertia, labels = 0.0, []
        for batch in dataset:  # the final assignment: labels_ and inertia_ of the whole stream
            batch_labels, _, _, _, batch_inertia = lloyd_pass(_batch_features(batch), tf.constant(centroids))
            labels.append(batch_labels.numpy())
            inertia += float(batch_inertia)
        self.cluster_centers_ = centroids
        self.labels_ = np.concatenate(labels)
        self.inertia_ = inertia
        self.distortion_ = inertia / count
        self.distortion_history_ = history
        self.n_iter_ = self.max_iter
        self.n_clusters_ = len(centroids)
        self.n_features_in_ = centroids.shape[1]
        self.lloyd_kernel_ = kernel_for(batch)
        return self

    def _points_and_centroids(self, X):
        self._check_fitted("cluster_centers_")
        points = tf.constant(self._validate_input(X, reset=False))
        return points, tf.constant(self.cluster_centers_, dtype=points.dtype)

    def predict(self, X):
        return lloyd_pass(*self._points_and_centroids(X))[0].numpy()

    def fit_predict(self, X, y=None):
        return self.fit(X).labels_

    def transform(self, X):
        """Euclidean distance to every centroid."""
        return np.sqrt(squared_distances(*self._points_and_centroids(X)).numpy())

    def score(self, X, y=None):
        """Negative inertia on X (higher is better), as in scikit-learn."""
        return -float(lloyd_pass(*self._points_and_centroids(X))[4])


def _batch_features(batch):
    """Feature rows of a `tf.data` element: the batch itself or the first of (features, label)."""
    return as_matrix(batch[0] if isinstance(batch, (tuple, list)) else batch)


@dataclasses.dataclass
class ElbowResult:
    ks: list
    distortions: list  # J(K) = inertia / m
    knee: int

    def plot(self, path):
        import matplotlib.pyplot as plt

        from mlkit.plotting import save_figure

        figure, axis = plt.subplots(figsize=(5, 3.5))
        axis.plot(self.ks, self.distortions, marker="o")
        axis.axvline(self.knee, color="gray", linestyle="--", label=f"knee K = {self.knee}")
        axis.set_xlabel("number of clusters K")
        axis.set_ylabel("distortion J")
        axis.set_title("Elbow method")
        axis.grid(alpha=0.3)
        axis.legend()
        save_figure(figure, path)
        return path


def knee_point(ks, values, fraction=0.05):
    """The smallest K after which each further K gains less than `fraction` of the
    whole drop J(K_first) − J(K_last): where the curve flattens into the elbow's arm."""
    ks, values = [int(k) for k in ks], np.asarray(values, float)
    total = values[0] - values[-1]
    if len(ks) < 3 or total <= 0:
        return ks[0]
    gains = values[:-1] - values[1:]
    for index in range(len(gains)):
        if np.all(gains[index:] < fraction * total):
            return ks[index]
    return ks[-1]


def elbow(X, ks=range(1, 11), random_state=0, **kmeans_params):
    """J(K) for each K, with the knee estimate; `.plot(path)` draws it."""
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1 or sorted(set(ks)) != ks:
        raise ValueError(f"`ks` must be increasing positive integers, got {ks!r}.")
    points = as_matrix(X, min_rows=max(ks))
    distortions = [KMeans(k, random_state=random_state, **kmeans_params).fit(points).distortion_ for k in ks]
    return ElbowResult(ks, distortions, knee_point(ks, distortions))
