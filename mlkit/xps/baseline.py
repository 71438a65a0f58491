"""The "standard method": linear-combination fitting against simulated references.

The spectrum y is fitted by non-negative least squares (scipy's Lawson–Hanson `nnls`)
as y ≈ Σ_e c_e R_e(d, s) + c_o O(d, s), where R_e are pure-element references and O
the overlayer alone, simulated with the same instrument settings (mean resolution, no
shifts) for each overlayer thickness d and Tougaard background strength s on a grid.
(d, s) is found by coordinate search (d at the middle s, then s, then d again) on the
smallest residual; fractions are c_e / Σ c_e. Since the spectra are normalised, the common scale is
free (c_o is fitted, not fixed to 1).

As in practice, the energy scale is charge-corrected first: a first fit gives a model
spectrum, the shift that best aligns the measurement with it (cross-correlation over
±`max_shift` eV, refined to sub-bin by a parabola) is removed, and the fit is repeated.
"""

import io

import numpy as np
from scipy import optimize

from mlkit.base import Estimator
from mlkit.xps import physics
from mlkit.xps.simulator import XPSSimulator, shift_rows


class SpectrumQuantifier(Estimator):
    """What the classical methods share: `quantify` answers spectrum by spectrum with a progress line."""

    progress_name = "baseline"
    fitted_attribute = None  # set by subclasses: exists once `fit` ran

    def predict(self, spectra):
        """Atomic fractions (n, 80) of each spectrum (`quantify` also gives the thickness)."""
        return self.quantify(spectra)[0]

    def quantify(self, spectra, progress=False):
        """(fractions (n, 80), overlayer thickness (n,) Å, NaN where the method gives none);
        `progress` prints a line every few seconds."""
        from mlkit.progress import Progress

        if not hasattr(self, self.fitted_attribute):
            raise ValueError(f"{type(self).__name__} is not fitted; call fit() first.")
        spectra = np.asarray(spectra, "float64")
        points = self.simulator.points
        if spectra.ndim != 2 or spectra.shape[1] != points:
            raise ValueError(f"`spectra` must have shape (n, {points}), got {spectra.shape}.")
        fractions = np.zeros((len(spectra), len(physics.ATOMIC_NUMBERS)), "float32")
        thickness = np.zeros(len(spectra), "float32")
        reporter = Progress(self.progress_name, total=len(spectra), stream=None if progress else io.StringIO())
        with reporter:
            for i, spectrum in enumerate(spectra):
                fractions[i], thickness[i] = self._quantify_one(spectrum)
                reporter.update()
        return fractions, thickness

    def _quantify_one(self, spectrum):
        raise NotImplementedError


class LinearCombinationFit(SpectrumQuantifier):
    """NNLS quantification with a thickness grid search (scikit-learn style).

    Parameters
    ----------
    simulator : XPSSimulator
        Whose instrument settings the references share.
    thickness_grid : sequence of float or None, default=None
        Candidate overlayer thicknesses in Å; None is 0, 2, …, 40.
    background_grid : sequence of float or None, default=None
        Candidate Tougaard background scales; None is 5 values over the simulator's
        `background_scale_range`.
    max_shift : float or None, default=None
        Largest charging shift corrected, eV; None is the simulator's
        `charging_shift_max`; 0 skips charge correction.

    Attributes
    ----------
    thickness_grid_, background_grid_ : ndarray
    references_ : ndarray of shape (thicknesses, backgrounds, 81, points)
    scale_ : float
    max_lag_ : int

    `predict(spectra)` returns the fractions (n, 80); `quantify(spectra)` also the thickness.
    """

    def __init__(self, simulator=None, thickness_grid=None, background_grid=None, max_shift=None):
        self.simulator = simulator
        self.thickness_grid = thickness_grid
        self.background_grid = background_grid
        self.max_shift = max_shift

    def fit(self, X=None, y=None):
        """Build the reference spectra (nothing is learned from X)."""
        if not isinstance(self.simulator, XPSSimulator):
            raise ValueError("`simulator` must be an XPSSimulator.")
        grid = np.arange(0.0, 41.0, 2.0) if self.thickness_grid is None else np.asarray(self.thickness_grid, "float64")
        if grid.ndim != 1 or len(grid) == 0 or np.any(grid < 0):
            raise ValueError("`thickness_grid` must be a non-empty 1-D list of non-negative thicknesses.")
        backgrounds = (np.linspace(*self.simulator.background_scale_range, 5) if self.background_grid is None
                       else np.asarray(self.background_grid, "float64"))
        if backgrounds.ndim != 1 or len(backgrounds) == 0 or np.any(backgrounds < 0):
            raise ValueError("`background_grid` must be a non-empty 1-D list of non-negative scales.")
        self.thickness_grid_ = grid
        self.background_grid_ = np.unique(backgrounds)
        references = np.stack([
            np.stack([self.simulator.reference_spectra(d, background_scale=b) for b in self.background_grid_])
            for d in grid
        ]).astype("float64")
        # One scale for all references keeps NNLS well conditioned.
        self.scale_ = float(references.max())
        self.references_ = references / self.scale_  # (thicknesses, backgrounds, 81, points)
        max_shift = self.simulator.charging_shift_max if self.max_shift is None else float(self.max_shift)
        if max_shift < 0:
            raise ValueError(f"`max_shift` must be non-negative, got {self.max_shift!r}.")
        self.max_lag_ = int(np.ceil(max_shift / self.simulator.step))
        return self

    progress_name = "NNLS baseline"
    fitted_attribute = "references_"

    def _quantify_one(self, spectrum):
        n_classes = self.references_.shape[2] - 1
        measured = spectrum >= 0  # unmeasured bins (UNMEASURED = −1) take no part in the fit
        spectrum = np.where(measured, spectrum, 0.0)
        coefficients, (t, b), model = self._fit(spectrum, len(self.background_grid_) // 2, measured)
        if self.max_lag_:
            lag = self._lag(spectrum, np.where(measured, model, 0.0))
            coefficients, (t, b), _ = self._fit(shift_rows(spectrum[None], [-lag])[0], b, measured, searches=1)
        total = coefficients[:n_classes].sum()
        fractions = coefficients[:n_classes] / total if total > 0 else np.zeros(n_classes)
        return fractions, self.thickness_grid_[t]

    def _fit(self, spectrum, background, measured, searches=3):
        """Coordinate search over (thickness, background) indices; returns the best fit."""
        cache = {}

        def solve(t, b):
            if (t, b) not in cache:
                cache[t, b] = optimize.nnls(self.references_[t, b][:, measured].T, spectrum[measured])
            return cache[t, b][1]

        thickness, n_thickness, n_background = 0, len(self.thickness_grid_), len(self.background_grid_)
        for search in range(searches):
            if search % 2 == 0:
                thickness = min(range(n_thickness), key=lambda t: solve(t, background))
            else:
                background = min(range(n_background), key=lambda b: solve(thickness, b))
        coefficients = cache[thickness, background][0]
        return coefficients, (thickness, background), coefficients @ self.references_[thickness, background]

    def _lag(self, spectrum, model):
        """Shift (bins, sub-bin) of `spectrum` relative to `model` by cross-correlation."""
        lags = np.arange(-self.max_lag_, self.max_lag_ + 1)
        centred, reference = spectrum - spectrum.mean(), model - model.mean()
        scores = np.array([np.dot(np.roll(reference, lag), centred) for lag in lags])
        best = int(np.argmax(scores))
        if 0 < best < len(lags) - 1:  # parabola through the peak and its neighbours
            left, middle, right = scores[best - 1: best + 2]
            curvature = left - 2 * middle + right
            if curvature < 0:
                return lags[best] + 0.5 * (left - right) / curvature
        return float(lags[best])

