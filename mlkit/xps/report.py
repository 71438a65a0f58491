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
    "quantification_rms_at_percent": "quantification RMS, present elements (at.%)",
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


def metrics_table(results):
    """Markdown table lines: one row per metric, one column per method."""
    methods = list(results)
    lines = ["| metric | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for key, label in METRIC_LABELS.items():
        if any(key in results[method] for method in methods):
            cells = [_format(results[method].get(key)) for method in methods]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def write_report(path, title, results, notes=(), plots=()):
    """Markdown: a metrics table with one column per method, then notes and plots."""
    lines = [f"# {title}", "", *metrics_table(results), ""]
    lines.extend(notes)
    lines.append("")
    for caption, relative in plots:
        lines.extend([f"## {caption}", "", f"![{caption}]({relative})", ""])
    write_text(path, "\n".join(lines))


def development_table(results, title="Real development files"):
    """Markdown section: predictions on the shipped real surveys beside what is known of each sample."""
    from mlkit.xps.development_files import MIN_IMPLAUSIBLE, nickel_fraction

    fitted = any(result.misfit is not None for result in results)  # refined: how far the simulator is off
    lines = ["", f"## {title}", "",
             "Every survey block of the real files in `mlkit/xps/development/` (C 1s referenced as in "
             "`mlkit xps predict`). Composition of the substrate under the adventitious-carbon overlayer, "
             f"elements ≥ 1 at.%; **bold**: an element the sample cannot contain at ≥ {100 * MIN_IMPLAUSIBLE:g} at.%.",
             "", "| block | known | predicted at.% | C overlayer Å | shift eV |" + (" fit misfit (× noise) |" if fitted else ""),
             "|---|---|---|---|---|" + ("---|" if fitted else "")]
    for result in results:
        cells = []
        for element, value in result.fractions.items():
            spread = result.uncertainty.get(element)
            text = f"{element} {100 * value:.1f}" + (f" ± {100 * spread:.1f}" if spread == spread and spread else "")
            cells.append(f"**{text}**" if element in result.implausible else text)
        thickness = "–" if result.thickness is None else f"{result.thickness:.1f}"
        misfit = f" {result.misfit:,.0f} |" if fitted else ""
        lines.append(f"| {result.label} | {result.known} | {', '.join(cells)} | {thickness} | {result.shift:+.1f} |{misfit}")
    for result in results:
        if "NiO reference" in result.known:
            lines.append(f"\nNiO: Ni/(Ni+O) = {nickel_fraction(result):.3f} (target 0.50 ± 0.12, so 0.380–0.620).")
    return "\n".join(lines)


def _format(value):
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def plot_quantification(binding_energy, spectrum, fractions, symbols, threshold, path, title=None, thickness=None,
                        replace=True, simulated=None, residual=None, spreads=None):
    """One measured spectrum with the spectrum simulated from its prediction and the residual,
    beside the predicted composition (for `mlkit xps predict --plot`)."""
    figure = plt.figure(figsize=(12, 4.5))
    grid = figure.add_gridspec(2, 2, width_ratios=[2.2, 1], height_ratios=[3, 1], hspace=0.08)
    spectrum_axis = figure.add_subplot(grid[0, 0])
    residual_axis = figure.add_subplot(grid[1, 0], sharex=spectrum_axis)
    bar_axis = figure.add_subplot(grid[:, 1])
    spectrum_axis.plot(binding_energy, np.where(spectrum >= 0, spectrum, np.nan), linewidth=0.8,
                       label="measured")  # gaps: not measured
    if simulated is not None:
        spectrum_axis.plot(binding_energy, simulated, linewidth=0.8, label="simulated from the prediction")
        residual_axis.plot(binding_energy, residual, linewidth=0.6, color="tab:red")
        spectrum_axis.legend(loc="upper left", fontsize=8)
    residual_axis.axhline(0.0, color="grey", linewidth=0.5)
    spectrum_axis.invert_xaxis()
    spectrum_axis.tick_params(labelbottom=False)
    residual_axis.set_xlabel("binding energy (eV)")
    residual_axis.set_ylabel("residual")
    spectrum_axis.set_ylabel("intensity (norm.)")
    if title:
        spectrum_axis.set_title(title, fontsize=9)
    order = [index for index in np.argsort(-fractions) if 100 * fractions[index] >= threshold]
    errors = None if spreads is None else [100 * spreads[index] for index in order]
    bar_axis.bar(range(len(order)), [100 * fractions[index] for index in order], yerr=errors, capsize=3)
    bar_axis.set_xticks(range(len(order)), [symbols[index] for index in order])
    bar_axis.set_ylabel("at.%" + (" (±1σ)" if spreads is not None else ""))
    if thickness is not None:
        bar_axis.set_title(f"C overlayer {thickness:.1f} Å")
    save_figure(figure, path, replace=replace)
