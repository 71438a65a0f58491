"""What the simulated spectra themselves allow: an oracle that knows every nuisance.

For each spectrum the simulator renders its true elements under its true nuisances (width, chemical
shifts, thickness, charging, backgrounds, transmission, measured window); weighted NNLS on Poisson
counts then gives the composition that counting noise alone leaves. Each present element's
detectability is the Δχ² of leaving it out, on the noiseless expected counts (the "Asimov" value: the
evidence the spectrum holds for it on average, independent of one noise draw). Refitting with only
the elements whose Δχ² reaches a threshold gives the best any method can do that must see an element
at that level of evidence, even knowing everything else. With 80 candidate elements, several chemical
states each and free nuisances, a real method needs far more than Δχ² ≈ 9 (3σ) to claim an element.
"""

import dataclasses

import numpy as np
from scipy import optimize

from mlkit.xps import physics
from mlkit.xps.metrics import DETECTION_THRESHOLD
from mlkit.xps.refinement import amplitude_fractions, component_spectra
from mlkit.xps.simulator import SpectrumParameters, XPSSimulator

DETECTABILITY_THRESHOLDS = (9.0, 25.0, 100.0)  # Δχ²: 3σ, 5σ, 10σ for one known element
DETECTABILITY_CLASSES = (0.0, 9.0, 25.0, 100.0, 1000.0, np.inf)


@dataclasses.dataclass
class InformationLimit:
    """The oracle's answers for n spectra (see the module doc)."""

    detectability: np.ndarray  # (n, 80) Δχ² of each present element; NaN where absent
    fractions: np.ndarray  # (n, 80) oracle fit with every true element
    limited: dict  # threshold → (n, 80) oracle fit with the elements whose Δχ² reaches it


def information_limit(simulator, parameters, thresholds=DETECTABILITY_THRESHOLDS, seed=0):
    """The oracle of the module doc for the spectra `parameters` describes (e.g. `sample_parameters`).

    Counting noise is drawn afresh from `seed` at each spectrum's `total_counts`.
    """
    if not isinstance(simulator, XPSSimulator):
        raise ValueError("`simulator` must be an XPSSimulator.")
    if not isinstance(parameters, SpectrumParameters):
        raise ValueError("`parameters` must be SpectrumParameters (e.g. from `XPSSimulator.sample_parameters`).")
    thresholds = tuple(thresholds) if isinstance(thresholds, (list, tuple)) else ()
    if not thresholds or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and t > 0
                                 for t in thresholds):
        raise ValueError(f"`thresholds` must be a list or tuple of positive numbers, got {thresholds!r}.")
    rng = np.random.default_rng(seed)
    n, n_classes = len(parameters), len(physics.ATOMIC_NUMBERS)
    detectability = np.full((n, n_classes), np.nan)
    fractions = np.zeros((n, n_classes))
    limited = {t: np.zeros((n, n_classes)) for t in thresholds}
    energy = simulator.binding_energy
    for i in range(n):
        present = parameters.element_fractions[i] > 0
        elements = parameters.element_indices[i, present]
        values = [parameters.thickness[i],
                  np.nan if parameters.transmission_exponent is None else parameters.transmission_exponent[i],
                  parameters.background_scale[i],
                  0.0 if parameters.extra_background is None else parameters.extra_background[i],
                  1.0 if parameters.extra_background_length is None else parameters.extra_background_length[i],
                  parameters.charging_shift[i]]
        columns = component_spectra(simulator, elements, parameters.shift_levels[i, present],
                                    parameters.resolution_levels[i], values)
        expected = parameters.element_fractions[i, present] @ columns
        scale = parameters.total_counts[i] / expected.sum()  # as the simulator scales its counts
        measured = (energy >= parameters.measured_low[i]) & (energy <= parameters.measured_high[i])
        design = columns[:, measured].T * scale
        mean = expected[measured] * scale

        # detectability: Δχ² of dropping each element, on the expected counts (exact fit: χ² = 0 with all)
        weights = 1.0 / np.sqrt(np.maximum(mean, 1e-12))
        weighted = design * weights[:, None]
        for j, element in enumerate(elements):
            detectability[i, element] = (_nnls(np.delete(weighted, j, axis=1), mean * weights)[1]
                                         if len(elements) > 1 else float(mean @ (mean * weights**2)))

        counts = rng.poisson(mean).astype("float64")
        weights = 1.0 / np.sqrt(np.maximum(counts, 1.0))
        weighted, target = design * weights[:, None], counts * weights
        fractions[i, elements] = amplitude_fractions(_nnls(weighted, target)[0])
        for threshold, answer in limited.items():
            kept = detectability[i, elements] >= threshold
            if not kept.any():  # nothing clears it: the answer is the element with most evidence
                kept[np.argmax(detectability[i, elements])] = True
            answer[i, elements[kept]] = amplitude_fractions(_nnls(weighted[:, kept], target)[0])
    return InformationLimit(detectability, fractions, limited)


def recall_by_detectability(true_fractions, predicted_fractions, detectability, edges=DETECTABILITY_CLASSES,
                            threshold=DETECTION_THRESHOLD):
    """Per Δχ² class [low, high): (low, high, present elements, share found at ≥ `threshold`)."""
    present = np.asarray(true_fractions) >= threshold
    found = np.asarray(predicted_fractions) >= threshold
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        within = present & (detectability >= low) & (detectability < high)
        rows.append((float(low), float(high), int(within.sum()),
                     float(found[within].mean()) if within.any() else float("nan")))
    return rows


def _nnls(design, target):
    """NNLS with each column scaled to unit maximum first (conditioning): (amplitudes, squared residual)."""
    norm = np.maximum(design.max(axis=0), 1e-30)
    amplitudes, residual = optimize.nnls(design / norm, target)
    return amplitudes / norm, residual**2
