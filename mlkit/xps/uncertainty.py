"""Per-element uncertainties from Monte-Carlo dropout (Pielsticker et al. 2023), calibrated.

The network is run `samples` times with dropout active; the spread of its answers is the raw
uncertainty. Dropout spreads are far too narrow for this network (×30 short of its errors on
validation spectra) and hardly track the error, so they are calibrated as σ = scale·σ_MC +
slope·prediction + floor (errors grow with the predicted fraction): of the combinations whose ±2σ
covers the truth for 95 % of the present elements (≥ 1 at.%) of validation spectra, the one with
the narrowest mean interval. A pure scale would blow
up the large dropout spreads of unfamiliar (real) spectra to meaningless widths. σ is capped at 1
(a fraction cannot be off by more). The test set shows whether the coverage holds on spectra the
calibration never saw.
"""

import numpy as np

PRESENT = 0.01  # at.% / 100: coverage is measured over the elements a sample contains
TARGET_COVERAGE = 0.95
DEFAULT_SAMPLES = 30


def mc_dropout(sample, spectra, samples=DEFAULT_SAMPLES, batch_size=512):
    """(mean fractions, standard deviation, mean thickness or None) over `samples` stochastic passes.

    `sample(batch)` returns the model's outputs with dropout active ({"composition", "thickness"}).
    """
    spectra = np.asarray(spectra, "float32")
    compositions, thicknesses = [], []
    for _ in range(int(samples)):
        parts = [sample(spectra[start:start + batch_size]) for start in range(0, len(spectra), batch_size)]
        compositions.append(np.concatenate([np.asarray(part["composition"]) for part in parts]))
        if "thickness" in parts[0]:
            thicknesses.append(np.concatenate([np.asarray(part["thickness"])[:, 0] for part in parts]))
    compositions = np.stack(compositions)
    thickness = np.mean(thicknesses, axis=0) if thicknesses else None
    return compositions.mean(axis=0), compositions.std(axis=0), thickness


def calibrated(spread, calibration, fractions=None):
    """σ = scale·σ_MC + slope·fraction + floor, capped at 1.

    `calibration` is (scale, slope, floor), (scale, floor) or a plain scale; `fractions` (the
    predicted ones) are needed when the slope is not zero.
    """
    if not isinstance(calibration, (tuple, list)):
        calibration = (calibration, 0.0, 0.0)
    elif len(calibration) == 2:  # exports from before the slope term
        calibration = (calibration[0], 0.0, calibration[1])
    scale, slope, floor = calibration
    sigma = scale * np.asarray(spread) + floor
    if slope:
        sigma = sigma + slope * np.asarray(fractions)
    return np.minimum(sigma, 1.0)


def coverage(true_fractions, mean, spread, calibration=1.0, k=2.0):
    """Share of the present elements (truth ≥ 1 at.%) whose truth lies within mean ± k·σ (calibrated)."""
    present = np.asarray(true_fractions) >= PRESENT
    error = np.abs(np.asarray(true_fractions) - mean)[present]
    return float(np.mean(error <= k * calibrated(spread, calibration, mean)[present]))


def calibration_scale(true_fractions, mean, spread, target=TARGET_COVERAGE, k=2.0):
    """(scale, slope, floor): ±k·(scale·σ_MC + slope·prediction + floor) covers `target` of the present
    elements' truths with the narrowest mean interval."""
    present = np.asarray(true_fractions) >= PRESENT
    if not present.any():
        raise ValueError("`true_fractions` has no element at ≥ 1 at.%; cannot calibrate.")
    error = np.abs(np.asarray(true_fractions) - mean)[present] / k
    sigma = np.maximum(np.asarray(spread)[present], 1e-9)
    predicted = np.asarray(mean)[present]
    best = None
    for scale in np.linspace(0.0, float(np.quantile(error / sigma, target)), 21):
        for slope in np.linspace(0.0, 1.0, 21):
            base = scale * sigma + slope * predicted
            floor = float(max(np.quantile(error - base, target), 0.0))
            width = float(np.mean(base + floor))
            if best is None or width < best[3]:
                best = (float(scale), float(slope), floor, width)
    return best[:3]
