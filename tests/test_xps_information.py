"""The oracle that bounds what the simulated spectra allow (`mlkit.xps.information`)."""

import dataclasses

import numpy as np
import pytest

from mlkit.xps import XPSSimulator, quantification_metrics
from mlkit.xps.information import information_limit, recall_by_detectability


@pytest.fixture(scope="module")
def drawn():
    simulator = XPSSimulator(points=500, resolution_levels=2, shift_levels=3, counts_range=(1e6, 1e6),
                             max_elements=3, truncation_probability=0.3, transmission_exponent_range=(0.2, 0.9))
    return simulator, simulator.sample_parameters(10, seed=4)


def test_sample_parameters_are_what_sample_renders(drawn):
    simulator, parameters = drawn
    _, fractions, thickness = simulator.sample(10, seed=4)
    np.testing.assert_array_equal(parameters.fractions(), fractions)
    np.testing.assert_allclose(parameters.thickness, thickness, rtol=1e-6)


def test_the_oracle_recovers_the_composition_and_rates_each_element(drawn):
    simulator, parameters = drawn
    limit = information_limit(simulator, parameters, thresholds=(1e-9, 1e30))
    truth = parameters.fractions()
    assert quantification_metrics(truth, limit.fractions)["quantification_rms_at_percent"] < 1.0
    assert (np.isnan(limit.detectability) == (truth == 0)).all()
    assert (limit.detectability[truth > 0] > 0).all()
    # every present element clears a tiny threshold; an enormous one leaves each spectrum's most evident one
    np.testing.assert_allclose(limit.limited[1e-9], limit.fractions)
    strongest = np.nanargmax(limit.detectability, axis=1)
    np.testing.assert_array_equal(limit.limited[1e30], np.eye(80)[strongest])


def test_detectability_grows_with_the_counts(drawn):
    simulator, parameters = drawn
    doubled = dataclasses.replace(parameters, total_counts=parameters.total_counts * 2)
    once = information_limit(simulator, parameters).detectability
    twice = information_limit(simulator, doubled).detectability
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-6)


def test_recall_by_detectability_counts_each_class():
    truth = np.array([[0.5, 0.5, 0.0], [0.98, 0.02, 0.0]])
    found = np.array([[0.6, 0.0, 0.4], [1.0, 0.0, 0.0]])
    rating = np.array([[5000.0, 50.0, np.nan], [5000.0, 3.0, np.nan]])
    rows = recall_by_detectability(truth, found, rating, edges=(0.0, 9.0, 100.0, np.inf))
    assert rows == [(0.0, 9.0, 1, 0.0), (9.0, 100.0, 1, 0.0), (100.0, np.inf, 2, 1.0)]


@pytest.mark.parametrize("arguments, name", [
    (dict(simulator="simulator"), "simulator"),
    (dict(parameters=np.zeros(3)), "parameters"),
    (dict(thresholds=(0.0,)), "thresholds"),
    (dict(thresholds=()), "thresholds"),
    (dict(thresholds=25.0), "thresholds"),
])
def test_bad_arguments_are_named(drawn, arguments, name):
    simulator, parameters = drawn
    with pytest.raises(ValueError, match=f"`{name}`"):
        information_limit(**{"simulator": simulator, "parameters": parameters, **arguments})
