"""Unsupervised learning as TensorFlow graphs, with the scikit-learn estimator contract."""

from mlkit.unsupervised.fuzzy_kmeans import FuzzyKMeans
from mlkit.unsupervised.kmeans import ElbowResult, KMeans, elbow, kmeans_plus_plus, knee_point
from mlkit.unsupervised.lda import LDA
from mlkit.unsupervised.pca import PCA

__all__ = ["ElbowResult", "FuzzyKMeans", "KMeans", "LDA", "PCA", "elbow", "kmeans_plus_plus", "knee_point"]
