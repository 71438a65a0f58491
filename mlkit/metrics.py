"""Evaluation of generative models: Fréchet distance between feature statistics, mode coverage.

The Fréchet distance is the FID formula (Heusel et al. 2017) applied to whatever features are given.
The GAN recipes use the penultimate layer of an MNIST classifier that mlkit trains itself, so their
numbers are *not* Inception FIDs and do not compare with published ones; they compare the models of
one run with each other and with the floor FID(real, real) and the ceiling FID(real, noise).
"""

import dataclasses
import functools

import numpy as np
import scipy.linalg


@dataclasses.dataclass(frozen=True)
class FeatureStatistics:
    """Mean and covariance (float64) of a feature set; its covariance's square root is computed once."""

    mean: np.ndarray
    covariance: np.ndarray

    @functools.cached_property
    def covariance_root(self):
        eigenvalues, eigenvectors = scipy.linalg.eigh(self.covariance)
        return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def feature_statistics(features):
    """Mean and covariance of features (n, d), n ≥ 2, as `FeatureStatistics`."""
    features = np.asarray(features, dtype="float64")
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"`features` must be a 2-D array with at least 2 rows, got shape {features.shape}.")
    if not np.isfinite(features).all():
        raise ValueError("`features` contains NaN or infinite values.")
    return FeatureStatistics(features.mean(axis=0), np.cov(features, rowvar=False))


def frechet_distance(features_a, features_b):
    """‖μa − μb‖² + tr(Σa + Σb − 2(Σa Σb)^½) between two feature sets (n, d), or between their
    `feature_statistics` (or (mean, covariance) pairs).

    tr((Σa Σb)^½) is computed as Σ √λ over the eigenvalues of Σa^½ Σb Σa^½, which is symmetric positive
    semi-definite, instead of scipy.linalg.sqrtm of the non-symmetric product: the result is real and
    stable for the rank-deficient covariances of a few thousand high-dimensional features. Pass a
    reference set used for several distances first, as `FeatureStatistics`: its Σa^½ is computed once.
    """
    a, b = (_statistics(features) for features in (features_a, features_b))
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"The two feature sets have different dimensions: {a.mean.shape} and {b.mean.shape}.")
    root_a = a.covariance_root
    product_eigenvalues = scipy.linalg.eigvalsh(root_a @ b.covariance @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(product_eigenvalues, 0, None)))
    distance = np.sum((a.mean - b.mean) ** 2) + np.trace(a.covariance) + np.trace(b.covariance) - 2 * trace_root
    return float(max(distance, 0.0))


def _statistics(features):
    if isinstance(features, FeatureStatistics):
        return features
    if isinstance(features, tuple):
        return FeatureStatistics(np.asarray(features[0], "float64"), np.asarray(features[1], "float64"))
    return feature_statistics(features)


def class_coverage(labels, num_classes):
    """How a generator covers the classes: each class's share of `labels` (the classes a classifier
    gives to generated samples) and the KL divergence of those shares from uniform (0 = every class
    equally often; log(num_classes) = a single class, total mode collapse).

    Returns {"shares": [...], "kl_to_uniform": float, "classes_present": int, "largest_share": float}.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not len(labels):
        raise ValueError(f"`labels` must be a non-empty 1-D array, got shape {labels.shape}.")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an integer ≥ 2, got {num_classes!r}.")
    if labels.min() < 0 or labels.max() >= num_classes or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be integers in [0, {num_classes}).")
    shares = np.bincount(labels, minlength=num_classes) / len(labels)
    present = shares > 0
    kl = float(np.sum(shares[present] * np.log(shares[present] * num_classes)))
    return {"shares": [float(share) for share in shares], "kl_to_uniform": kl,
            "classes_present": int(present.sum()), "largest_share": float(shares.max())}
