"""Quantification metrics: element detection, composition and thickness errors."""

import numpy as np

DETECTION_THRESHOLD = 0.01  # an element is "present" at ≥ 1 at.%


def quantification_metrics(true_fractions, predicted_fractions, true_thickness=None, predicted_thickness=None,
                           threshold=DETECTION_THRESHOLD):
    """Detection precision/recall/F1 (micro over all spectra and elements), MAE and RMS error in
    at.% over the truly present elements, MAE in at.% over all 80 entries, thickness MAE in Å
    (NaN thicknesses, from methods that give none, are left out).
    """
    true_fractions = np.asarray(true_fractions, "float64")
    predicted_fractions = np.asarray(predicted_fractions, "float64")
    if true_fractions.shape != predicted_fractions.shape or true_fractions.ndim != 2:
        raise ValueError(f"fraction arrays must share a (n, classes) shape, got {true_fractions.shape} "
                         f"and {predicted_fractions.shape}.")
    present = true_fractions >= threshold
    detected = predicted_fractions >= threshold
    true_positive = np.sum(present & detected)
    precision = true_positive / max(detected.sum(), 1)
    recall = true_positive / max(present.sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    error = np.abs(true_fractions - predicted_fractions) * 100.0
    metrics = {
        "detection_precision": float(precision),
        "detection_recall": float(recall),
        "detection_f1": float(f1),
        "quantification_mae_at_percent": float(error[present].mean()),
        "quantification_rms_at_percent": float(np.sqrt(np.mean(error[present] ** 2))),
        "composition_mae_all_at_percent": float(error.mean()),
        "spectra": int(len(true_fractions)),
    }
    if true_thickness is not None and predicted_thickness is not None and not np.all(np.isnan(predicted_thickness)):
        metrics["thickness_mae_angstrom"] = float(np.mean(np.abs(np.ravel(true_thickness) - np.ravel(predicted_thickness))))
    return metrics


def reported_composition(composition, presence, threshold=0.5):
    """The answer to report from a network with a presence head: the fractions of the elements whose
    presence probability reaches `threshold`, renormalised (at least the most probable element).

    A composition trained on mixed examples hedges: where a light element's few counts cannot rule it
    out it keeps 1–2 at.% of it in every similar spectrum. The presence head answers the separate
    question "is it there (≥ 1 at.%)?", so the hedged fractions of absent elements are dropped.
    """
    composition = np.asarray(composition, "float64")
    presence = np.asarray(presence, "float64")
    if composition.shape != presence.shape:
        raise ValueError(f"`presence` must have the shape of `composition` {composition.shape}, got {presence.shape}.")
    if not 0 < threshold < 1:
        raise ValueError(f"`threshold` must be in (0, 1), got {threshold!r}.")
    kept = presence >= threshold
    kept[np.arange(len(presence)), presence.argmax(axis=1)] = True
    reported = np.where(kept, composition, 0.0)
    total = reported.sum(axis=1, keepdims=True)
    return (reported / np.where(total > 0, total, 1.0)).astype("float32")


def reported_fractions(outputs):
    """The fractions a network's outputs {"composition"[, "presence"]} report: with a presence head,
    those of the elements it finds (`reported_composition`), else the composition as it is."""
    if "presence" in outputs:
        return reported_composition(outputs["composition"], outputs["presence"])
    return np.asarray(outputs["composition"])


def per_element_error(true_fractions, predicted_fractions, threshold=DETECTION_THRESHOLD):
    """Mean absolute error in at.% per element over the spectra where it is present (NaN if never)."""
    true_fractions = np.asarray(true_fractions, "float64")
    error = np.abs(true_fractions - np.asarray(predicted_fractions, "float64")) * 100.0
    present = true_fractions >= threshold
    with np.errstate(invalid="ignore"):
        return np.where(present.any(axis=0), (error * present).sum(axis=0) / present.sum(axis=0), np.nan)
