"""scikit-learn's own estimator checks over every mlkit estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlkit.unsupervised import LDA, PCA, FuzzyKMeans, KMeans

# LinearCombinationFit (mlkit.xps) is left out: it learns nothing from X (its references come
# from the simulator it is given) and takes only spectra on that simulator's grid, so the
# generic checks' random (n, 10) matrices are not inputs it has.
ESTIMATORS = [
    KMeans(n_clusters=3, max_iter=20, random_state=0),
    FuzzyKMeans(n_clusters=3, beta=1.0, max_iter=20, random_state=0),
    PCA(n_components=2),
    LDA(),
]


# Every check passes: no expected failures to list.
@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_contract(estimator, check):
    check(estimator)
