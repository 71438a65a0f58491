"""Per-element uncertainties from Monte-Carlo dropout (Pielsticker et al. 2023), calibrated.

The network is run `samples` times with dropout active; the spread of its answers is the raw
uncertainty. Dropout spreads are known to be too narrow or too wide depending on the dropout
rates, so the recipe measures on validation spectra the factor that makes ±2σ cover the truth 95 %
of the time for the elements present (≥ 1 at.%) and stores it with the export; the test set then
shows whether that coverage holds on spectra the calibration never saw.
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


def coverage(true_fractions, mean, spread, scale=1.0, k=2.0):
    """Share of the present elements (truth ≥ 1 at.%) whose truth lies within mean ± k·scale·σ."""
    present = np.asarray(true_fractions) >= PRESENT
    error = np.abs(np.asarray(true_fractions) - mean)[present]
    return float(np.mean(error <= k * scale * np.asarray(spread)[present]))


def calibration_scale(true_fractions, mean, spread, target=TARGET_COVERAGE, k=2.0):
    """The factor on σ that makes ±k·σ cover `target` of the present elements' truths."""
    present = np.asarray(true_fractions) >= PRESENT
    if not present.any():
        raise ValueError("`true_fractions` has no element at ≥ 1 at.%; cannot calibrate.")
    ratio = np.abs(np.asarray(true_fractions) - mean)[present] / np.maximum(np.asarray(spread)[present], 1e-6)
    return float(np.quantile(ratio, target) / k)
