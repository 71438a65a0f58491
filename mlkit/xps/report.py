"""Plots and the markdown report of an XPS quantification run."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlkit.io import write_text  # noqa: E402
from mlkit.plotting import save_figure  # noqa: E402
from mlkit.xps.metrics import DETECTION_THRESHOLD, per_element_error  # noqa: E402

METRIC_LABELS = {
    "detection_precision": "detection precision",
    "detection_recall": "detection recall",
    "detection_f1": "detection F1",
    "quantification_mae_at_percent": "quantification MAE, present elements (at.%)",
    "composition_mae_all_at_percent": "composition MAE, all 80 (at.%)",
    "thickness_mae_angstrom": "overlayer thickness MAE (Å)",
    "spectra_per_second": "inference (spectra/s)",
}


def plot_examples(binding_energy, spectra, true_fractions, predictions, symbols, path, count=4):
    """Spectra (left) and true vs predicted composition of their elements (right)."""
    count = min(count, len(spectra))
    figure, axes = plt.subplots(count, 2, figsize=(13, 2.8 * count), squeeze=False,
                                gridspec_kw={"width_ratios": [2.2, 1]})
    for row in range(count):
        spectrum_axis, bar_axis = axes[row]
        spectrum_axis.plot(binding_energy, spectra[row], linewidth=0.8)
        spectrum_axis.invert_xaxis()
        spectrum_axis.set_xlabel("binding energy (eV)")
        spectrum_axis.set_ylabel("intensity (norm.)")
        shown = true_fractions[row] >= DETECTION_THRESHOLD
        for fractions in predictions.values():
            shown |= fractions[row] >= DETECTION_THRESHOLD
        indices = np.flatnonzero(shown)
        width = 0.8 / (1 + len(predictions))
        positions = np.arange(len(indices))
        bar_axis.bar(positions, 100 * true_fractions[row, indices], width, label="true")
        for offset, (name, fractions) in enumerate(predictions.items(), start=1):
            bar_axis.bar(positions + offset * width, 100 * fractions[row, indices], width, label=name)
        bar_axis.set_xticks(positions + width * len(predictions) / 2, [symbols[i] for i in indices])
        bar_axis.set_ylabel("at.%")
        bar_axis.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, path)


def plot_parity(true_fractions, predictions, path):
    """Predicted vs true fraction of every present element."""
    figure, axes = plt.subplots(1, len(predictions), figsize=(4.5 * len(predictions), 4.2), squeeze=False)
    present = true_fractions >= DETECTION_THRESHOLD
    for axis, (name, fractions) in zip(axes[0], predictions.items()):
        axis.scatter(100 * true_fractions[present], 100 * fractions[present], s=4, alpha=0.4)
        axis.plot([0, 100], [0, 100], color="black", linewidth=0.8)
        axis.set_xlabel("true at.%")
        axis.set_ylabel("predicted at.%")
        axis.set_title(name)
        axis.set_aspect("equal")
    save_figure(figure, path)


def plot_element_errors(true_fractions, predictions, symbols, path):
    """MAE in at.% per element (where present), one bar series per method."""
    figure, axis = plt.subplots(figsize=(18, 4))
    positions = np.arange(len(symbols))
    width = 0.8 / len(predictions)
    for offset, (name, fractions) in enumerate(predictions.items()):
        axis.bar(positions + offset * width, per_element_error(true_fractions, fractions), width, label=name)
    axis.set_xticks(positions + width * (len(predictions) - 1) / 2, symbols, fontsize=7)
    axis.set_ylabel("MAE where present (at.%)")
    axis.legend()
    save_figure(figure, path)


def plot_thickness(true_thickness, predictions, path):
    figure, axis = plt.subplots(figsize=(4.5, 4.2))
    for name, thickness in predictions.items():
        axis.scatter(true_thickness, thickness, s=5, alpha=0.5, label=name)
    high = float(max(np.max(true_thickness), 1.0))
    axis.plot([0, high], [0, high], color="black", linewidth=0.8)
    axis.set_xlabel("true thickness (Å)")
    axis.set_ylabel("predicted thickness (Å)")
    axis.legend()
    save_figure(figure, path)


def write_report(path, title, results, notes=(), plots=()):
    """Markdown: a metrics table with one column per method, then notes and plots."""
    methods = list(results)
    lines = [f"# {title}", "", "| metric | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for key, label in METRIC_LABELS.items():
        if any(key in results[method] for method in methods):
            cells = [_format(results[method].get(key)) for method in methods]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(notes)
    lines.append("")
    for caption, relative in plots:
        lines.extend([f"## {caption}", "", f"![{caption}]({relative})", ""])
    write_text(path, "\n".join(lines))


def _format(value):
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def plot_quantification(binding_energy, spectrum, fractions, symbols, threshold, path, title=None, thickness=None,
                        replace=True):
    """One measured spectrum and its predicted composition (for `mlkit xps predict --plot`)."""
    figure, (spectrum_axis, bar_axis) = plt.subplots(1, 2, figsize=(12, 3.5), gridspec_kw={"width_ratios": [2.2, 1]})
    spectrum_axis.plot(binding_energy, np.where(spectrum >= 0, spectrum, np.nan), linewidth=0.8)  # gaps: not measured
    spectrum_axis.invert_xaxis()
    spectrum_axis.set_xlabel("binding energy (eV)")
    spectrum_axis.set_ylabel("intensity (norm.)")
    if title:
        spectrum_axis.set_title(title)
    order = [index for index in np.argsort(-fractions) if 100 * fractions[index] >= threshold]
    bar_axis.bar(range(len(order)), [100 * fractions[index] for index in order])
    bar_axis.set_xticks(range(len(order)), [symbols[index] for index in order])
    bar_axis.set_ylabel("at.%")
    if thickness is not None:
        bar_axis.set_title(f"C overlayer {thickness:.1f} Å")
    save_figure(figure, path, replace=replace)
