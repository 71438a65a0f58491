import numpy as np
import pytest

from mlkit.data import load_cars
from mlkit.linalg import least_squares, polynomial_design_matrix


@pytest.mark.parametrize("method", ["lstsq", "normal_equation"])
def test_least_squares_matches_numpy(method):
    rng = np.random.default_rng(0)
    design = rng.standard_normal((40, 5))
    targets = rng.standard_normal(40)
    expected = np.linalg.lstsq(design, targets, rcond=None)[0]
    np.testing.assert_allclose(least_squares(design, targets, method), expected, rtol=1e-9)


def test_cars_closed_form_matches_the_published_fit():
    cars = load_cars()
    assert len(cars) == 50 and list(cars.columns) == ["speed", "dist"]
    design = polynomial_design_matrix(cars["speed"].to_numpy(), 1)
    # R: lm(dist ~ speed, cars) gives intercept -17.579, slope 3.932.
    np.testing.assert_allclose(least_squares(design, cars["dist"].to_numpy()), [-17.579095, 3.932409], rtol=1e-6)


def test_multiple_targets_keep_their_shape():
    design = polynomial_design_matrix(np.arange(10.0), 2)
    targets = np.stack([design @ [1.0, 2.0, 3.0], design @ [0.0, -1.0, 0.5]], axis=1)
    np.testing.assert_allclose(least_squares(design, targets), [[1, 0], [2, -1], [3, 0.5]], atol=1e-9)


@pytest.mark.parametrize(
    "design, targets, method, argument",
    [
        (np.ones((3, 2)), np.ones(3), "svd", "method"),
        (np.ones(3), np.ones(3), "lstsq", "design"),
        (np.ones((3, 2)), np.ones(4), "lstsq", "targets"),
        (np.ones((1, 2)), np.ones(1), "lstsq", "design"),
        (np.array([[1.0, np.nan], [1.0, 2.0], [1.0, 3.0]]), np.ones(3), "lstsq", "design"),
    ],
)
def test_least_squares_rejects_bad_input(design, targets, method, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        least_squares(design, targets, method)
