"""The full-spectrum fit that refines the CNN's answer (`mlkit.xps.refinement`)."""

from pathlib import Path

import numpy as np
import pytest

from mlkit.xps import XPSSimulator, physics, quantification_metrics
from mlkit.xps.preparation import UNMEASURED, network_input
from mlkit.xps.refinement import MAX_MISFIT, SpectrumFit, candidate_elements, refine


@pytest.fixture(scope="module")
def surveys():
    """Small-grid spectra with plenty of counts: 1–3 elements, every nuisance drawn."""
    simulator = XPSSimulator(points=500, resolution_levels=2, shift_levels=3, counts_range=(1e7, 1e7),
                             max_elements=3, charging_shift_max=1.0, transmission_exponent_range=(0.2, 0.9))
    spectra, fractions, thickness = simulator.sample(12, seed=3)
    return simulator, spectra, fractions, thickness


def test_fit_recovers_the_composition_for_the_true_elements(surveys):
    simulator, spectra, fractions, thickness = surveys
    found, _, significance, misfit = SpectrumFit(simulator).fit().quantify(spectra, fractions > 0)
    metrics = quantification_metrics(fractions, found)
    assert metrics["quantification_rms_at_percent"] < 1.5, metrics
    np.testing.assert_allclose(found.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isnan(significance[fractions == 0]).all() and (significance[fractions > 0.05] > 100).all()
    assert (misfit < 2.0).all(), misfit  # the simulator explains its own spectra down to the counting noise


def test_misfit_measures_what_the_simulator_cannot_explain(surveys):
    simulator, spectra, fractions, _ = surveys
    _, _, thickness, nuisances = simulator.sample(12, seed=3, nuisances=True)  # the same draw, with its nuisances
    row = int(np.argmax(fractions.max(axis=1) < 1))
    fitter = SpectrumFit(simulator, method="least_squares").fit()
    elements, start = np.flatnonzero(fractions[row]), (thickness[row], nuisances[row])
    clean = fitter.fit_one(spectra[row], elements, *start)["misfit"]
    bump = 0.3 * spectra[row].max() * np.exp(-0.5 * ((simulator.binding_energy - 600.0) / 15.0) ** 2)
    distorted = fitter.fit_one(spectra[row] + bump, elements, *start)["misfit"]
    assert clean < 2.0 < MAX_MISFIT < distorted, (clean, distorted)


def test_refine_adds_no_weak_candidate_where_the_fit_misses_the_spectrum(surveys, monkeypatch):
    simulator, spectra, fractions, thickness = surveys
    calls = []

    def quantify(self, given, candidates, thickness=None, nuisances=None, progress=False, workers=1):
        calls.append(candidates)
        found = np.where(candidates, 1.0 / candidates.sum(axis=1, keepdims=True), 0.0).astype("float32")
        misfit = np.array([1.0 if np.array_equal(row, spectra[0]) else 50.0 for row in given], "float32")
        return found, thickness, np.where(candidates, 1e3, np.nan).astype("float32"), misfit

    monkeypatch.setattr(SpectrumFit, "quantify", quantify)
    presence = np.zeros((2, 80), "float32")
    presence[:, [0, 1]] = [0.9, 0.3]  # one confident element, one weak candidate with strong support
    outputs = {"composition": presence / presence.sum(axis=1, keepdims=True), "presence": presence,
               "thickness": thickness[:2, None]}
    refined, _, _, misfit = refine(outputs, spectra[:2], simulator)
    np.testing.assert_allclose(refined[:, :2], [[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(misfit, [1.0, 50.0])
    # the second spectrum, which the simulator misses, was fitted again for the network's answer alone
    assert len(calls) == 2 and calls[1].shape == (1, 80) and np.flatnonzero(calls[1][0]).tolist() == [0]
    refined, _, _, _ = refine(outputs, spectra[:2], simulator, max_misfit=100.0)
    np.testing.assert_allclose(refined[:, :2], [[0.5, 0.5], [0.5, 0.5]])
    assert len(calls) == 3



def test_fit_ignores_unmeasured_bins(surveys):
    simulator, spectra, fractions, _ = surveys
    measured = simulator.binding_energy >= 150.0
    cut = network_input(np.where(measured, spectra, 0.0), np.broadcast_to(measured, spectra.shape))
    assert (cut[:, ~measured] == UNMEASURED).all()
    rows = [i for i in range(len(spectra)) if fractions[i, physics.element_index("Li")] == 0][:6]  # Li 1s is at 55 eV
    found, _, _, _ = SpectrumFit(simulator).fit().quantify(cut[rows], fractions[rows] > 0)
    assert quantification_metrics(fractions[rows], found)["quantification_rms_at_percent"] < 3.0


def test_an_absent_candidate_gets_little_support(surveys):
    simulator, spectra, fractions, _ = surveys
    row = int(np.argmax((fractions > 0).sum(axis=1)))  # a spectrum with several elements
    present = np.flatnonzero(fractions[row])
    absent = next(e for e in map(physics.element_index, ("Au", "Cu", "Zn")) if fractions[row, e] == 0)
    result = SpectrumFit(simulator).fit().fit_one(spectra[row], np.r_[present, absent])
    assert result["fractions"][-1] < 0.01 and result["significance"][-1] < 100
    assert (result["significance"][:-1] > 100).all() and np.isclose(result["fractions"].sum(), 1.0)
    for name in SpectrumFit.NUISANCES:
        assert np.isfinite(result[name]), name


def test_refine_keeps_confident_elements_and_drops_unsupported_weak_ones(surveys):
    simulator, spectra, fractions, thickness = surveys
    gold, copper = physics.element_index("Au"), physics.element_index("Cu")
    rows = [i for i in range(len(spectra)) if fractions[i, gold] == 0 and fractions[i, copper] == 0][:4]
    presence = np.where(fractions[rows] > 0, 0.9, 0.0).astype("float32")
    presence[:, gold] = 0.3  # a weak candidate that is not there
    outputs = {"composition": fractions[rows], "presence": presence, "thickness": thickness[rows, None]}
    refined, significance, fitted, _ = refine(outputs, spectra[rows], simulator)
    assert fitted.shape == (len(rows),) and np.isfinite(fitted).all()
    assert (refined[:, gold] == 0).all() and np.isfinite(significance[:, gold]).all()
    assert np.isnan(significance[:, copper]).all()  # never a candidate
    assert quantification_metrics(fractions[rows], refined)["quantification_rms_at_percent"] < 1.5


def test_refine_answers_when_only_unsupported_elements_carry_the_fit(surveys, monkeypatch):
    simulator, spectra, fractions, thickness = surveys
    row = int(np.argmax(fractions.max(axis=1) < 1))  # several elements
    present = np.flatnonzero(fractions[row])

    def quantify(self, spectra, candidates, thickness=None, nuisances=None, progress=False, workers=1):
        found = np.zeros(candidates.shape, "float32")
        found[0, present] = 1.0 / len(present)
        support = np.where(candidates, 0.0, np.nan).astype("float32")  # nothing is needed
        return found, thickness, support, np.ones(len(found), "float32")

    monkeypatch.setattr(SpectrumFit, "quantify", quantify)
    presence = np.where(fractions[row:row + 1] > 0, 0.3, 0.0).astype("float32")
    absent = next(e for e in map(physics.element_index, ("Au", "Cu", "Zn")) if fractions[row, e] == 0)
    presence[0, absent] = 0.9  # the one confident element, fitted at zero
    outputs = {"composition": fractions[row:row + 1], "presence": presence, "thickness": thickness[row:row + 1, None]}
    refined, _, _, _ = refine(outputs, spectra[row:row + 1], simulator)
    assert np.isfinite(refined).all() and np.isclose(refined.sum(), 1.0) and refined[0, present[0]] == 1.0


def test_least_squares_recovers_composition_and_thickness(surveys):
    simulator, spectra, fractions, thickness = surveys
    _, _, _, nuisances = simulator.sample(12, seed=3, nuisances=True)  # the same draw, with its nuisances
    fitter = SpectrumFit(simulator, passes=2, max_evaluations=100, method="least_squares").fit()
    found, fitted, _, _ = fitter.quantify(spectra, fractions > 0, thickness + 2.0, nuisances)
    assert quantification_metrics(fractions, found)["quantification_rms_at_percent"] < 1.5
    assert np.mean(np.abs(fitted - thickness)) < 1.0, fitted - thickness


def test_refine_starts_from_the_network_nuisances(surveys, monkeypatch):
    simulator, spectra, fractions, thickness = surveys
    seen = []

    def quantify(self, spectra, candidates, thickness=None, nuisances=None, progress=False, workers=1):
        seen.append((self.method, nuisances))
        return fractions[:2], thickness, np.where(candidates, 1e3, np.nan), np.ones(2)

    monkeypatch.setattr(SpectrumFit, "quantify", quantify)
    outputs = {"composition": fractions[:2], "presence": (fractions[:2] > 0).astype("float32"),
               "thickness": thickness[:2, None]}
    refine(outputs, spectra[:2], simulator)
    refine({**outputs, "nuisances": np.full((2, 5), 0.5, "float32")}, spectra[:2], simulator)
    assert seen[0][0] == "powell" and seen[0][1] is None
    assert seen[1][0] == "least_squares" and seen[1][1].shape == (2, 5)


def test_candidates_come_from_the_presence_head():
    composition = np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6]], "float32")
    presence = np.array([[0.9, 0.05, 0.2], [0.0, 0.0, 0.0]], "float32")
    proposed = candidate_elements({"composition": composition, "presence": presence}, threshold=0.1)
    np.testing.assert_array_equal(proposed, [[True, False, True], [False, False, True]])  # ≥ its largest fraction
    np.testing.assert_array_equal(candidate_elements({"composition": composition}), composition >= 0.01)


def test_workers_give_the_same_answer(surveys):
    simulator, spectra, fractions, _ = surveys
    fitter = SpectrumFit(simulator, passes=1, max_evaluations=40).fit()
    one = fitter.quantify(spectra[:3], fractions[:3] > 0)
    two = fitter.quantify(spectra[:3], fractions[:3] > 0, workers=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("change, match", [
    ({"simulator": "Al"}, "`simulator`"),
    ({"passes": 0}, "`passes`"),
    ({"max_evaluations": 2.5}, "`max_evaluations`"),
    ({"method": "newton"}, "`method`"),
])
def test_bad_settings_are_refused(surveys, change, match):
    simulator = surveys[0]
    with pytest.raises(ValueError, match=match):
        SpectrumFit(**{"simulator": simulator, **change}).fit()


def test_bad_inputs_are_refused(surveys):
    simulator, spectra, fractions, _ = surveys
    fitter = SpectrumFit(simulator).fit()
    with pytest.raises(ValueError, match="`spectra`"):
        fitter.quantify(spectra[:, :100], fractions > 0)
    with pytest.raises(ValueError, match="`candidates`"):
        fitter.quantify(spectra, fractions)  # fractions, not a boolean mask
    with pytest.raises(ValueError, match="`candidates`"):
        fitter.quantify(spectra[:1], np.zeros((1, 80), bool))
    with pytest.raises(ValueError, match="`thickness`"):
        fitter.quantify(spectra, fractions > 0, thickness=[1.0])
    with pytest.raises(ValueError, match="`nuisances`"):
        fitter.quantify(spectra, fractions > 0, nuisances=np.zeros((len(spectra), 4)))
    with pytest.raises(ValueError, match="`workers`"):
        fitter.quantify(spectra, fractions > 0, workers=0)
    with pytest.raises(ValueError, match="`elements`"):
        fitter.fit_one(spectra[0], [80])
    with pytest.raises(ValueError, match="`spectrum`"):
        fitter.fit_one(np.full(simulator.points, UNMEASURED), [0])
    with pytest.raises(ValueError, match="`threshold`"):
        candidate_elements({"composition": fractions}, threshold=1.0)
    with pytest.raises(ValueError, match="`min_significance`"):
        refine({"composition": fractions}, spectra, simulator, min_significance=-1)
    with pytest.raises(ValueError, match="`max_misfit`"):
        refine({"composition": fractions}, spectra, simulator, max_misfit=float("nan"))
    with pytest.raises(ValueError, match="not fitted|fit"):
        SpectrumFit(simulator).quantify(spectra, fractions > 0)


WORKERS_RUN = """
from mlkit.xps import XPSSimulator
from mlkit.xps.refinement import SpectrumFit
simulator = XPSSimulator(points=500, resolution_levels=2, shift_levels=3, max_elements=3)
spectra, fractions, _ = simulator.sample(400, seed=3)  # 50 per chunk: minutes of work for each worker
SpectrumFit(simulator, passes=1, max_evaluations=200).fit().quantify(spectra, fractions > 0, workers=2)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_fit_workers_stop_when_the_run_is_killed():
    import subprocess
    import sys
    import time

    def status(process):
        """(state, parent pid, command line) of a /proc/<pid> folder, or None once the process is gone."""
        try:
            fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
            return fields[0], int(fields[1]), (process / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return None

    def children(pid):
        return [int(process.name) for process in Path("/proc").glob("[0-9]*")
                if (found := status(process)) and found[1] == pid and "spawn_main" in found[2]]

    run = subprocess.Popen([sys.executable, "-c", WORKERS_RUN])
    deadline = time.monotonic() + 120
    while len(children(run.pid)) < 2 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    workers = children(run.pid)
    assert len(workers) == 2, "the fit never started its two workers"
    time.sleep(5)  # into their fits
    run.kill()
    run.wait()

    def fitting(pid):  # neither gone nor a zombie waiting to be reaped
        found = status(Path(f"/proc/{pid}"))
        return found is not None and found[0] != "Z"

    deadline = time.monotonic() + 20  # each worker's watchdog looks once a second
    while any(map(fitting, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(fitting, workers)), "fit workers went on after their run was killed"
