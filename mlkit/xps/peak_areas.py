"""Peak-area quantification, what surface scientists run on a survey (the fair classical baseline).

1. Find the peaks: smoothed spectrum, `scipy.signal.find_peaks` with a prominence of
   `min_significance` × the point-to-point noise.
2. Identify elements from the simulator's own line list (handbook energies, chemical-shift
   ranges): an element is present when a peak sits in the range of its strongest line in the
   measured window and its other strong lines (≥ `confirm_ratio` of the main one) appear at the
   same chemical shift, for at least half of them. A peak claimed by several elements goes to the
   one with the most confirmed lines.
3. Quantify: the main peak's area above an iterative Shirley background over ±`window` eV,
   divided by its sensitivity factor, normalised over the identified elements. The sensitivity
   factors are measured the way labs measure theirs on pure standards: the same area on each pure
   element's simulated spectrum (σ·λ(KE)·T(KE) with the simulator's cross-sections, TPP-2M IMFP and
   transmission). The main line is the one with the largest such area.

As in the lab, the energy scale is first referenced to adventitious C 1s at 284.8 eV (the whole
deviation, where a C 1s line is found). C 1s at 283.3–286.5 eV is then adventitious carbon and left out of the composition (the labels
describe the sample under the overlayer); the method gives no overlayer thickness (NaN).
"""

import numpy as np
from scipy import ndimage, signal

from mlkit.xps import physics
from mlkit.xps.baseline import SpectrumQuantifier
from mlkit.xps.preparation import ADVENTITIOUS_C1S, find_reference, point_noise
from mlkit.xps.simulator import GENERIC_MATRIX, XPSSimulator

ADVENTITIOUS_C1S_RANGE = (283.3, 286.5)
POSITION_TOLERANCE = 1.5  # eV: a confirming line within this of where the main line's shift puts it


class PeakAreaQuantification(SpectrumQuantifier):
    """Peak finding, identification against the line list, Shirley areas ÷ sensitivity factors.

    Parameters
    ----------
    simulator : XPSSimulator
        Whose line list, grid and transmission the method uses.
    window : float, default=4.0
        Half-width in eV of the area integration around each main peak.
    min_significance : float, default=5.0
        Peak prominence in units of the spectrum's point-to-point noise.
    confirm_ratio : float, default=0.3
        Lines at least this strong relative to the main line must confirm an identification.

    Attributes
    ----------
    lines_ : list of ndarray (lines, 2)
        Per element class: photoline energies (eV, zero chemical shift) and sensitivities, strongest first.
    """

    def __init__(self, simulator=None, window=4.0, min_significance=5.0, confirm_ratio=0.3):
        self.simulator = simulator
        self.window = window
        self.min_significance = min_significance
        self.confirm_ratio = confirm_ratio

    def fit(self, X=None, y=None):
        """Build the line table (nothing is learned from X)."""
        if not isinstance(self.simulator, XPSSimulator):
            raise ValueError("`simulator` must be an XPSSimulator.")
        for name in ("window", "min_significance", "confirm_ratio"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be positive, got {getattr(self, name)!r}.")
        simulator = self.simulator
        exponent = (simulator.transmission_exponent if simulator.transmission_exponent_range is None
                    else float(np.mean(simulator.transmission_exponent_range)))
        # Empirical sensitivity factors, as labs measure them on pure standards: the Shirley area inside
        # the integration window of each pure element's simulated spectrum (no overlayer, mean
        # resolution), so broad lines clipped by the window are not under-counted.
        standards = simulator.reference_spectra(0.0)
        energy = simulator.binding_energy
        self.lines_, self.shift_ranges_, self.sensitivities_ = [], [], np.zeros(len(physics.ATOMIC_NUMBERS))
        for e, z in enumerate(physics.ATOMIC_NUMBERS):
            lines = [line for line in simulator._element_lines(z) if not line.auger and line.binding_energy >= 15.0]
            shifts = simulator.element_shifts(e)
            self.shift_ranges_.append((float(shifts.min()), float(shifts.max())))
            if not lines:
                self.lines_.append(np.zeros((0, 2)))
                continue
            line_energy = np.array([line.binding_energy for line in lines])
            kinetic = simulator.photon_energy - line_energy
            sensitivity = (np.array([line.intensity for line in lines])
                           * physics.tpp2m_imfp(kinetic, **GENERIC_MATRIX) * kinetic ** -exponent)
            table = np.c_[line_energy, sensitivity][np.argsort(-sensitivity)]
            centre = shifts[len(shifts) // 2]  # the standards are rendered at the middle shift level
            inside = (table[:, 0] + centre >= energy[0] + self.window) & (table[:, 0] + centre <= energy[-1] - self.window)
            candidates = np.flatnonzero(inside & (table[:, 1] >= 0.2 * table[0, 1]))
            if not len(candidates):
                self.lines_.append(table)
                continue
            areas = [shirley_area(energy[window], standards[e][window]) for window in
                     (np.abs(energy - table[i, 0] - centre) <= self.window for i in candidates)]
            main = candidates[int(np.argmax(areas))]
            self.sensitivities_[e] = max(areas)
            self.lines_.append(np.r_[table[main:main + 1], np.delete(table, main, axis=0)])
        return self

    progress_name = "peak-area baseline"
    fitted_attribute = "lines_"

    def _quantify_one(self, spectrum):
        step = self.simulator.step
        measured = spectrum >= 0
        values = np.where(measured, spectrum, 0.0)
        energy = self.simulator.binding_energy
        reference = find_reference(energy[measured], values[measured])
        if reference.c1s is not None:
            energy = energy + (ADVENTITIOUS_C1S - reference.c1s)
        smooth = ndimage.gaussian_filter1d(values, 0.5 / step)
        inside = values[measured]
        noise = max(point_noise(inside), 1e-4 * inside.max(), 1e-12)
        peaks, properties = signal.find_peaks(np.where(measured, smooth, 0.0),
                                              prominence=self.min_significance * noise / np.sqrt(0.5 / step + 1))
        if not len(peaks):
            return np.zeros(len(self.lines_)), np.nan
        positions, prominences = energy[peaks], properties["prominences"]
        low, high = energy[measured][0] + self.window, energy[measured][-1] - self.window
        candidates = {}
        for e, lines in enumerate(self.lines_):
            lines = lines[(lines[:, 0] >= low) & (lines[:, 0] <= high)] if len(lines) else lines
            if not len(lines):
                continue
            main_energy, main_sensitivity = lines[0]
            shift_low, shift_high = self.shift_ranges_[e]
            slack = POSITION_TOLERANCE
            in_range = np.flatnonzero((positions >= main_energy + shift_low - slack)
                                      & (positions <= main_energy + shift_high + slack))
            if not len(in_range):
                continue
            peak = in_range[np.argmax(prominences[in_range])]
            shift = positions[peak] - main_energy
            secondary = lines[1:][lines[1:, 1] >= self.confirm_ratio * main_sensitivity]
            # partners closer than the integration window are part of the main peak, not confirmations
            secondary = secondary[np.abs(secondary[:, 0] - main_energy) > self.window]
            confirmed = sum(np.any(np.abs(positions - (line + shift)) <= POSITION_TOLERANCE) for line in secondary[:, 0])
            if len(secondary) and confirmed < 0.5 * len(secondary):
                continue
            candidates[e] = (peak, confirmed, shift)
        # The best-supported elements claim every peak their lines explain; an element whose main
        # peak is already explained by another's line is not identified (Li 1s under Se 3d, …).
        owners, claimed = {}, set()
        for e in sorted(candidates, key=lambda e: (-candidates[e][1], -self.lines_[e][0, 1])):
            peak, _, shift = candidates[e]
            if peak in claimed:
                continue
            owners[peak] = e
            lines = self.lines_[e]
            strong = lines[lines[:, 1] >= 0.1 * lines[0, 1], 0] + shift
            claimed |= {int(index) for index in np.flatnonzero(
                np.min(np.abs(positions[:, None] - strong[None, :]), axis=1) <= POSITION_TOLERANCE)}
        fractions = np.zeros(len(self.lines_))
        carbon = physics.element_index("C")
        for peak, e in owners.items():
            position = positions[peak]
            if e == carbon and ADVENTITIOUS_C1S_RANGE[0] <= position <= ADVENTITIOUS_C1S_RANGE[1]:
                continue
            window = measured & (np.abs(energy - position) <= self.window)
            area = shirley_area(energy[window], values[window])
            if area > 0 and self.sensitivities_[e] > 0:
                fractions[e] = area / self.sensitivities_[e]
        total = fractions.sum()
        return (fractions / total if total > 0 else fractions), np.nan


def shirley_area(energy, counts, iterations=30, tolerance=1e-6):
    """Peak area above an iterative Shirley background (binding energy ascending: the background
    steps up towards higher binding energy, in proportion to the peak area on the lower side)."""
    energy, counts = np.asarray(energy, "float64"), np.asarray(counts, "float64")
    if len(energy) < 3:
        return 0.0
    low, high = counts[:2].mean(), counts[-2:].mean()
    background = np.full_like(counts, low)
    for _ in range(iterations):
        peak = np.maximum(counts - background, 0.0)
        cumulative = np.concatenate([[0.0], np.cumsum((peak[1:] + peak[:-1]) / 2 * np.diff(energy))])
        total = cumulative[-1]
        if total <= 0:
            return 0.0
        updated = low + (high - low) * cumulative / total
        if np.max(np.abs(updated - background)) < tolerance * max(abs(high), 1e-12):
            background = updated
            break
        background = updated
    peak = np.maximum(counts - background, 0.0)
    return float(np.sum((peak[1:] + peak[:-1]) / 2 * np.diff(energy)))
