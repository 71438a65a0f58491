"""TensorFlow estimators against scikit-learn (the numerical reference), on fixed seeds."""

import numpy as np
import pytest
import tensorflow as tf
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import load_digits, load_wine, make_blobs
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import adjusted_rand_score

from mlkit.unsupervised import LDA, PCA, FuzzyKMeans, KMeans, elbow, knee_point
from mlkit.unsupervised import lloyd_pass as lloyd_module

ESTIMATORS = [KMeans(3), FuzzyKMeans(3), PCA(2), LDA(1)]


@pytest.fixture(scope="module")
def blobs():
    points, _ = make_blobs(3000, 6, centers=5, cluster_std=1.5, random_state=0)
    points = points.astype("float32")
    init = points[np.random.default_rng(0).choice(len(points), 5, replace=False)]
    return points, init


@pytest.fixture(params=["native", "xla"])
def lloyd_kernel(request, monkeypatch):
    """Runs a KMeans test once with the compiled Lloyd op and once with the XLA step."""
    if request.param == "native" and lloyd_module.load_library() is None:
        pytest.skip("the native Lloyd op is not built here")
    if request.param == "xla":
        monkeypatch.setattr(lloyd_module, "load_library", lambda: None)
    return request.param


def test_kmeans_matches_sklearn_from_the_same_start(blobs, lloyd_kernel):
    points, init = blobs
    ours = KMeans(5, init=init).fit(points)
    assert ours.lloyd_kernel_ == lloyd_kernel
    theirs = SklearnKMeans(5, init=init, n_init=1, algorithm="lloyd").fit(points)
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0  # same partition up to permutation
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-3)
    np.testing.assert_array_equal(ours.predict(points), ours.labels_)


def test_kmeans_distortion_decreases_monotonically(blobs, lloyd_kernel):
    points, _ = blobs
    model = KMeans(8, init="random", random_state=3, tol=0, max_iter=30).fit(points)
    history = np.asarray(model.distortion_history_)
    assert 2 <= len(history) <= 30  # tol=0 still stops once the centroids stop moving
    assert np.all(np.diff(history) <= 1e-6 * history[0])
    assert model.distortion_ == pytest.approx(model.inertia_ / len(points))


@pytest.mark.parametrize("empty, expected_clusters", [("reinit", 4), ("remove", 3)])
def test_kmeans_empty_clusters(empty, expected_clusters, lloyd_kernel):
    points = np.array([[0, 0], [0, 1], [10, 10], [10, 11], [20, 0], [20, 1]], "float32")
    # The far-away fourth centroid never wins a point on the first assignment.
    init = np.array([[0, 0.5], [10, 10.5], [20, 0.5], [100, 100]], "float32")
    model = KMeans(4, init=init, empty=empty, random_state=0).fit(points)
    assert model.n_clusters_ == expected_clusters
    assert np.isfinite(model.cluster_centers_).all()
    if empty == "reinit":  # the re-seeded centroid sits on a data point
        assert np.min(np.abs(points[:, None] - model.cluster_centers_[3]).sum(-1)) < 1e-6


def test_kmeans_minibatch_stream_from_tf_data(blobs, lloyd_kernel):
    points, init = blobs
    full = KMeans(5, init=init).fit(points)
    dataset = tf.data.Dataset.from_tensor_slices(points).batch(256)  # make_blobs rows are already shuffled
    streamed = KMeans(5, init=init, max_iter=20).fit(dataset)  # 20 passes of 12 mini-batches
    assert streamed.lloyd_kernel_ == lloyd_kernel
    np.testing.assert_array_equal(streamed.labels_, streamed.predict(points))
    np.testing.assert_array_equal(KMeans(5, init=init, max_iter=20).fit_predict(dataset), streamed.labels_)
    assert streamed.inertia_ == pytest.approx(full.inertia_, rel=0.02)
    assert adjusted_rand_score(streamed.predict(points), full.labels_) > 0.95


def test_kmeans_plus_plus_with_restarts_is_reproducible(blobs):
    points, _ = blobs
    first = KMeans(5, n_init=3, random_state=11).fit(points)
    second = KMeans(5, n_init=3, random_state=11).fit(points)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)


def test_elbow_finds_the_knee(blobs, tmp_path):
    points, _ = blobs
    result = elbow(points, range(1, 9), random_state=0)
    assert len(result.distortions) == 8 and result.distortions[0] > result.distortions[-1]
    assert result.knee == 5  # the five blobs
    assert result.plot(tmp_path / "elbow.png").is_file()
    assert knee_point([1, 2, 3, 4, 5], [100, 20, 19, 18, 17]) == 2


def test_fuzzy_kmeans_with_large_beta_approaches_hard_kmeans(blobs):
    points, init = blobs
    hard = KMeans(5, init=init).fit(points)
    soft = FuzzyKMeans(5, beta=50.0, init=init).fit(points)
    np.testing.assert_allclose(soft.cluster_centers_, hard.cluster_centers_, atol=1e-3)
    probabilities = soft.predict_proba(points[:10])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    blurred = FuzzyKMeans(5, beta=1e-4, init=init).fit(points)  # tiny β: every centroid near the mean
    assert np.ptp(blurred.cluster_centers_, axis=0).max() < np.ptp(hard.cluster_centers_, axis=0).max() / 10


def test_pca_matches_sklearn():
    digits = load_digits().data
    ours = PCA(10).fit(digits)
    theirs = SklearnPCA(10).fit(digits)
    cosines = np.abs(np.sum(ours.components_ * theirs.components_, axis=1))
    assert cosines.min() >= 0.9999
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, atol=1e-5)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-6)
    np.testing.assert_allclose(np.abs(ours.transform(digits)), np.abs(theirs.transform(digits)), atol=1e-6)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_pca_keeps_float32_accuracy_near_and_far_from_the_origin(offset):
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((20_000, 12)) @ rng.standard_normal((12, 12)) + offset).astype("float32")
    ours = PCA(4).fit(data)
    centred = data.astype("float64") - data.astype("float64").mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / (len(data) - 1))
    np.testing.assert_allclose(ours.explained_variance_, eigenvalues[::-1][:4], rtol=2e-5)
    cosines = np.abs(np.sum(ours.components_ * eigenvectors[:, ::-1][:, :4].T, axis=1))
    assert cosines.min() >= 1 - 1e-5
    assert ours.components_.dtype == np.float32 and ours.mean_.dtype == np.float32


def test_pca_variance_threshold_and_reconstruction(tmp_path):
    digits = load_digits().data
    model = PCA(variance_threshold=0.7).fit(digits)
    cumulative = model.cumulative_explained_variance_ratio_
    assert cumulative[model.n_components_ - 1] >= 0.7 > cumulative[model.n_components_ - 2]
    full = PCA().fit(digits)
    np.testing.assert_allclose(full.inverse_transform(full.transform(digits)), digits, atol=1e-8)
    assert PCA(5).fit(digits).reconstruction_error(digits) > PCA(20).fit(digits).reconstruction_error(digits)
    assert model.scree_plot(tmp_path / "scree.png").is_file()


def test_lda_two_class_direction_matches_sklearn():
    wine = load_wine()
    mask = wine.target < 2
    ours = LDA().fit(wine.data[mask], wine.target[mask])
    reference = LinearDiscriminantAnalysis().fit(wine.data[mask], wine.target[mask]).coef_[0]
    cosine = abs(ours.scalings_[:, 0] @ reference) / np.linalg.norm(reference)
    assert cosine >= 0.999


def test_lda_multiclass_separates_and_predicts():
    wine = load_wine()
    model = LDA(2).fit(wine.data, wine.target)
    assert model.transform(wine.data).shape == (178, 2)
    assert model.score(wine.data, wine.target) >= 0.98
    with pytest.raises(ValueError, match="singular"):
        LDA().fit(load_digits().data, load_digits().target)  # blank border pixels


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_contract(estimator):
    """scikit-learn's contract: params stored unchanged, fit returns self, learned attrs end in _."""
    params = estimator.get_params()
    wine = load_wine()
    data, labels = wine.data[wine.target < 2], wine.target[wine.target < 2]
    assert estimator.fit(data, labels) is estimator
    assert estimator.get_params() == params
    learned = [name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")]
    assert "n_features_in_" in learned
    with pytest.raises(ValueError, match="features"):
        (estimator.predict if hasattr(estimator, "predict") else estimator.transform)(data[:, :3])


@pytest.mark.parametrize(
    "make, data, message",
    [
        (lambda: KMeans(0), np.ones((5, 2)), "`n_clusters`"),
        (lambda: KMeans(3, init="best"), np.ones((5, 2)), "`init`"),
        (lambda: KMeans(3, empty="ignore"), np.ones((5, 2)), "`empty`"),
        (lambda: KMeans(3, tol=-1.0), np.ones((5, 2)), "`tol`"),
        (lambda: KMeans(10), np.ones((5, 2)), "5 sample"),  # scikit-learn's wording for X
        (lambda: KMeans(2), np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 2.0]]), "Input X contains NaN"),
        (lambda: KMeans(2), np.ones(5), "Expected 2D array"),
        (lambda: FuzzyKMeans(2, beta=0), np.ones((5, 2)), "`beta`"),
        (lambda: FuzzyKMeans(2, tol=-1.0), np.ones((5, 2)), "`tol`"),
        (lambda: PCA(n_components=3, variance_threshold=0.5), np.ones((5, 2)), "`n_components` or `variance_threshold`"),
        (lambda: PCA(n_components=9), np.ones((5, 2)), "`n_components`"),
        (lambda: PCA(2), np.array([[1.0, np.inf], [0.0, 1.0]]), "NaN or infinite"),
    ],
)
def test_bad_input_raises_value_error(make, data, message):
    with pytest.raises(ValueError, match=message):
        make().fit(data)


def test_unfitted_estimator_raises():
    with pytest.raises(ValueError, match="not fitted"):
        KMeans(2).predict(np.ones((3, 2)))
