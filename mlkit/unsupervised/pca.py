"""PCA by eigen-decomposition of the scatter matrix, in TensorFlow (SPEC §5)."""

import numbers

import numpy as np
import tensorflow as tf
from sklearn.base import TransformerMixin

from mlkit.base import Estimator

# The mean (about the centre used) may make up at most this share of a feature's second
# moment; beyond it G − mμμᵀ would cancel digits (see `scatter_matrix`).
MEAN_SHARE_LIMIT = 0.1
HEAD_ROWS = 1024  # rows whose mean picks the centre
BLOCK_ROWS = 16384


def scatter_matrix(points):
    """(mean, scatter Σ(x − μ)(x − μ)ᵀ in float64) of a float NumPy matrix, in one pass, no centred copy.

    The rows are taken in blocks, shifted by a centre c, and BLAS products accumulate (in float64)
    G = Σ(x − c)(x − c)ᵀ and the column sums s = Σ(x − c); then μ = c + s/m and the scatter is
    G − m·(μ − c)(μ − c)ᵀ. That difference loses no more than a float32 rounding as long as
    (μ − c)² stays small against the spread, so c is 0 for data near the origin (no subtraction at
    all, as scikit-learn does) and the first rows' mean for data far from it (where scikit-learn's
    XᵀX − mμμᵀ in float32 cancels digits). Should the first rows mislead, a second pass centres on
    the exact mean. The products run in NumPy's BLAS: turning the input into a TensorFlow tensor
    copies it (NumPy memory is not aligned as TF needs), which cost more than the product itself.
    """
    count = len(points)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf input is reported below, in one line
        head = points[:HEAD_ROWS].astype(np.float64)
        head_mean = head.mean(axis=0)
        near_origin = np.all(head_mean**2 <= MEAN_SHARE_LIMIT * np.mean(head**2, axis=0))
        centre = np.zeros(points.shape[1]) if near_origin or not np.isfinite(head_mean).all() else head_mean
        offset, gram = _shifted_moments(points, centre)
    if not (np.isfinite(offset).all() and np.isfinite(gram).all()):
        raise ValueError("`X` contains NaN or infinite values (or values too large for its dtype).")
    if not np.all(offset**2 <= MEAN_SHARE_LIMIT * np.diag(gram) / count):
        centre = centre + offset  # the first rows were not typical: centre on the exact mean
        offset, gram = _shifted_moments(points, centre)
    scatter = gram - count * np.outer(offset, offset)
    return centre + offset, (scatter + scatter.T) / 2


def _shifted_moments(points, centre):
    """(mean of x − c, Σ(x − c)(x − c)ᵀ), accumulated block by block while each block is in cache."""
    count, features = points.shape
    shift = centre.astype(points.dtype) if np.any(centre) else None
    sums, gram = np.zeros(features), np.zeros((features, features))
    ones = np.ones(min(count, BLOCK_ROWS), points.dtype)
    for start in range(0, count, BLOCK_ROWS):
        block = points[start:start + BLOCK_ROWS]
        if shift is not None:
            block = block - shift
        gram += block.T @ block
        sums += ones[:len(block)] @ block
    return sums / count, gram


@tf.function(reduce_retracing=True)
def _eigh_descending(scatter):
    eigenvalues, eigenvectors = tf.linalg.eigh(scatter)
    return eigenvalues[::-1], tf.transpose(eigenvectors)[::-1]  # largest first


class PCA(TransformerMixin, Estimator):
    """Principal components: mean-centre X, eigen-decompose `XᵀX = PΛPᵀ`, project `T = XP`.

    Parameters
    ----------
    n_components : int or None, default=None
        Components to keep; None keeps all (or see `variance_threshold`).
    variance_threshold : float in (0, 1] or None, default=None
        Keep the fewest components whose cumulative explained-variance ratio (the notes'
        "contribution") reaches it, e.g. 0.7. Use one or the other.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features_in_,)
    components_ : ndarray of shape (n_components_, n_features_in_)
        Rows, largest variance first; signs fixed so the largest-magnitude entry is positive.
    explained_variance_ : ndarray of shape (n_components_,)
        Eigenvalue / (m − 1).
    explained_variance_ratio_ : ndarray of shape (n_components_,)
    cumulative_explained_variance_ratio_ : ndarray of shape (min(m, n_features_in_),)
        Over all components.
    n_components_ : int
    n_features_in_ : int
    """

    def __init__(self, n_components=None, variance_threshold=None):
        self.n_components = n_components
        self.variance_threshold = variance_threshold

    def fit(self, X, y=None):
        if self.n_components is not None and self.variance_threshold is not None:
            raise ValueError("Give `n_components` or `variance_threshold`, not both.")
        if self.variance_threshold is not None and not (
            isinstance(self.variance_threshold, numbers.Real) and 0 < self.variance_threshold <= 1
        ):
            raise ValueError(f"`variance_threshold` must be in (0, 1], got {self.variance_threshold!r}.")
        points = self._validate_input(X, min_samples=2, finite=False)  # scatter_matrix checks finiteness
        samples, features = points.shape
        if self.n_components is not None and (
            isinstance(self.n_components, bool)
            or not isinstance(self.n_components, numbers.Integral)
            or not 1 <= self.n_components <= min(samples, features)
        ):
            raise ValueError(f"`n_components` must be an integer in [1, {min(samples, features)}], got {self.n_components!r}.")
        mean, scatter = scatter_matrix(points)
        eigenvalues, eigenvectors = _eigh_descending(tf.constant(scatter))
        eigenvalues = np.clip(eigenvalues.numpy(), 0, None)
        eigenvectors = eigenvectors.numpy()
        # Deterministic signs: the largest-magnitude loading of each component is positive.
        signs = np.sign(eigenvectors[np.arange(len(eigenvectors)), np.argmax(np.abs(eigenvectors), axis=1)])
        eigenvectors *= np.where(signs == 0, 1, signs)[:, None]
        ratio = eigenvalues / eigenvalues.sum() if eigenvalues.sum() > 0 else np.zeros_like(eigenvalues)
        cumulative = np.cumsum(ratio)
        if self.variance_threshold is not None:
            count = int(np.searchsorted(cumulative, self.variance_threshold - 1e-12) + 1)
        else:
            count = self.n_components or min(samples, features)
        count = min(count, min(samples, features))
        self.mean_ = mean.astype(points.dtype)
        self.components_ = eigenvectors[:count].astype(self.mean_.dtype)
        self.explained_variance_ = eigenvalues[:count] / (samples - 1)
        self.explained_variance_ratio_ = ratio[:count]
        self.cumulative_explained_variance_ratio_ = cumulative
        self.all_explained_variance_ratio_ = ratio
        self.n_components_ = count
        return self

    def transform(self, X):
        self._check_fitted("components_")
        points = self._validate_input(X, reset=False)
        return ((points - self.mean_) @ self.components_.T).astype(self.mean_.dtype)

    def inverse_transform(self, scores):
        self._check_fitted("components_")
        scores = np.asarray(scores)
        if scores.ndim != 2 or scores.shape[1] != self.n_components_:
            raise ValueError(f"Scores must have shape (n, {self.n_components_}), got {scores.shape}.")
        return scores @ self.components_ + self.mean_

    def reconstruction_error(self, X):
        """Mean squared error of X against its reconstruction from the kept components."""
        self._check_fitted("components_")
        points = self._validate_input(X, reset=False)
        return float(np.mean((points - self.inverse_transform(self.transform(points))) ** 2))

    def score(self, X, y=None):
        """Negative reconstruction error (higher is better)."""
        return -self.reconstruction_error(X)

    def scree_plot(self, path, threshold=0.7):
        """Eigenvalue ratios (bars) and their cumulative sum (line) with the threshold."""
        import matplotlib.pyplot as plt

        from mlkit.plotting import save_figure

        self._check_fitted("components_")
        ratio = self.all_explained_variance_ratio_
        shown = np.arange(1, min(len(ratio), 40) + 1)
        figure, axis = plt.subplots(figsize=(6, 3.5))
        axis.bar(shown, ratio[: len(shown)], label="explained variance ratio")
        axis.plot(shown, self.cumulative_explained_variance_ratio_[: len(shown)], marker=".", color="C1",
                  label="cumulative")
        axis.axhline(threshold, color="gray", linestyle="--", label=f"{threshold:.0%}")
        axis.set_xlabel("component")
        axis.set_ylabel("ratio")
        axis.set_title("Scree plot")
        axis.legend()
        axis.grid(alpha=0.3)
        save_figure(figure, path)
        return path
