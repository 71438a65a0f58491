"""From a measured spectrum to what the network reads: which blocks are surveys, energy referencing,
and resampling onto the model's grid with unmeasured bins marked.

Rules (stated in `mlkit xps predict --help` and README):
- A block is quantified when it is an XPS survey (≥ `SURVEY_MIN_SPAN` eV wide) measured at the
  model's photon energy (±1 eV) and, after referencing, covers the model's required window
  (by default BE 30–1000 eV). Everything else is skipped with a note naming what it covers.
- Energy reference: the C 1s line of adventitious carbon is searched for between 280 and 296 eV.
  Deviations from 284.8 eV of at least `MIN_APPLIED_SHIFT` are charging and are corrected; smaller
  ones are within the scatter of adventitious carbon (C–O species, weak carbon) and left to the
  network, which is trained on global shifts of that size.
- Bins of the model's grid that the scan did not measure are set to `UNMEASURED` (−1); the network
  turns them into a mask channel. Measured bins are normalised to a maximum of 1.
"""

import dataclasses

import numpy as np
from scipy import ndimage

from mlkit.xps.physics import bin_edges

UNMEASURED = -1.0
SURVEY_MIN_SPAN = 300.0  # eV; narrow scans cover 10–80 eV
PHOTON_ENERGY_TOLERANCE = 1.0  # eV; Al Kα is written as 1486.6, 1486.61, 1486.68, 1486.69
ADVENTITIOUS_C1S = 284.8  # eV, the usual charge reference (xraylib's C K edge is 283.8 eV)
C1S_SEARCH = (280.0, 296.0)  # eV: −4.8 to +11.2 eV of charging
MIN_APPLIED_SHIFT = 1.5  # eV
C1S_MIN_SIGNIFICANCE = 5.0  # peak curvature over its Poisson noise


@dataclasses.dataclass
class Reference:
    """Where C 1s was found and the shift applied (BE_corrected = BE_file + shift)."""

    c1s: float = None
    shift: float = 0.0

    def describe(self):
        if self.c1s is None:
            return "energy reference: no C 1s line found between 280 and 296 eV; no shift applied"
        if self.shift:
            return f"energy reference: C 1s at {self.c1s:.1f} eV; shifted by {self.shift:+.1f} eV to 284.8 eV"
        return (f"energy reference: C 1s at {self.c1s:.1f} eV; within ±{MIN_APPLIED_SHIFT:g} eV of 284.8 eV, "
                "no shift applied")


def skip_reason(spectrum, photon_energy):
    """Why `spectrum` cannot be quantified by a model for `photon_energy`, or None if it can."""
    if spectrum.problem:
        return f"unreadable: {spectrum.problem}"
    if spectrum.photon_energy is not None and spectrum.photon_energy < 100:
        return f"hν = {spectrum.photon_energy:g} eV is UV (UPS), not an XPS survey"
    low, high = spectrum.binding_energy[0], spectrum.binding_energy[-1]
    if high - low < SURVEY_MIN_SPAN:
        return f"narrow scan ({spectrum.describe()}); only surveys are quantified"
    if spectrum.photon_energy is not None and abs(spectrum.photon_energy - photon_energy) > PHOTON_ENERGY_TOLERANCE:
        return (f"measured with hν = {spectrum.photon_energy:g} eV; the model was trained for {photon_energy:g} eV "
                "(train one for this source, e.g. `mlkit run xps --set simulator.source=Mg`)")
    return None


def coverage_problem(binding_energy, required_window, step):
    """None if the (referenced) scan covers the required window, else why not."""
    low, high = required_window
    if binding_energy[0] > low + step or binding_energy[-1] < high - step:
        return (f"covers BE {binding_energy[0]:.1f}–{binding_energy[-1]:.1f} eV; the model needs at least "
                f"{low:g}–{high:g} eV measured")
    return None


def find_reference(binding_energy, counts):
    """Locate adventitious C 1s and decide the shift (see the module rules)."""
    step = float(np.median(np.diff(binding_energy)))
    grid = np.arange(C1S_SEARCH[0] - 10, C1S_SEARCH[1] + 10 + 1e-9, 0.1)
    if binding_energy[0] > grid[0] or binding_energy[-1] < grid[-1]:
        return Reference()
    values = np.interp(grid, binding_energy, counts)
    smooth = ndimage.gaussian_filter1d(values, max(0.6, step) / 0.1)
    offset = int(round(2.0 / 0.1))  # curvature over ±2 eV: a 1–3 eV wide line stands out, a step does not
    curvature = smooth[offset:-offset] * 2 - smooth[:-2 * offset] - smooth[2 * offset:]
    centres = grid[offset:-offset]
    inside = (centres >= C1S_SEARCH[0]) & (centres <= C1S_SEARCH[1])
    best = np.argmax(np.where(inside, curvature, -np.inf))
    # Noise of the curvature, from the scatter of neighbouring raw points (counts, c/s or processed data alike).
    raw = counts[(binding_energy >= grid[0]) & (binding_energy <= grid[-1])]
    averaged = max(1.0, 2.0 * np.sqrt(np.pi) * max(0.6, step) / step)  # points under the smoothing kernel
    noise = max(point_noise(raw) * np.sqrt(6.0 / averaged), 1e-4 * abs(float(np.mean(smooth))), 1e-12)
    if curvature[best] < C1S_MIN_SIGNIFICANCE * noise:
        return Reference()
    window = np.abs(grid - centres[best]) <= 1.5
    c1s = float(grid[window][np.argmax(smooth[window])])
    shift = ADVENTITIOUS_C1S - c1s
    return Reference(c1s, round(shift, 2) if abs(shift) >= MIN_APPLIED_SHIFT else 0.0)


def point_noise(values):
    """Standard deviation of point-to-point noise: robust (MAD) scatter of second differences, which a
    smooth signal barely contributes to (a second difference of white noise has variance 6σ²)."""
    return 1.4826 * np.median(np.abs(np.diff(values, 2))) / np.sqrt(6.0)


def resample_masked(binding_energy, counts, grid):
    """(values, measured) on `grid` (ascending bin centres): bin averages from a finer scan, linear
    interpolation from a coarser one; bins outside the scan are not measured."""
    grid = np.asarray(grid, "float64")
    step = grid[1] - grid[0]
    measured = (grid >= binding_energy[0] - step / 2) & (grid <= binding_energy[-1] + step / 2)
    values = np.zeros_like(grid)
    if np.median(np.diff(binding_energy)) < 0.99 * step:  # clearly finer: average each bin
        edges = np.clip(bin_edges(grid), binding_energy[0], binding_energy[-1])
        cumulative = np.concatenate([[0.0], np.cumsum(np.diff(binding_energy) * (counts[:-1] + counts[1:]) / 2)])
        area = np.diff(np.interp(edges, binding_energy, cumulative))
        widths = np.diff(edges)
        values[measured] = (area / np.maximum(widths, 1e-12))[measured]
    else:
        values[measured] = np.interp(grid[measured], binding_energy, counts)
    return values, measured


def network_input(values, measured):
    """Normalise the measured bins to a maximum of 1 and mark the others `UNMEASURED`."""
    values = np.asarray(values, "float32")
    measured = np.asarray(measured, bool)
    peak = np.max(np.where(measured, values, 0.0), axis=-1, keepdims=True)
    return np.where(measured, values / np.maximum(peak, 1e-12), np.float32(UNMEASURED)).astype("float32")
