"""Full-spectrum refinement: the simulator fitted to a survey, for the element set the CNN found.

The CNN decides which elements are present (its presence head, precision ≈ 0.99) but reads their
ratio less well than a fit could. Here the survey y is fitted as

    y ≈ Σ_e a_e (S_e(θ) + O(θ)),   fractions = a_e / Σ a_e,

where S_e is element e's substrate spectrum under the overlayer and O the overlayer's own signal,
both rendered by the simulator with the nuisances θ: overlayer thickness, analyser transmission
exponent, Tougaard strength, extra loss background (strength and length), charging shift, line width
(level) and each element's chemical-shift level. Tying O to Σ a_e (the fractions sum to one) is what
lets the overlayer's C 1s tell the thickness. The amplitudes are linear, so they come from NNLS
inside every evaluation (variable projection); the continuous nuisances, within the simulator's own
ranges, by least squares from the network's reading of them or by Powell's method from mid-range;
the discrete levels from coordinate scans. Weights are 1/√y (counting
noise). No library fits a simulator's nuisances like this, hence the hand-written loop.

Two safeguards decide which elements the answer keeps. The misfit (the fit's residual over the
survey's own counting noise) is about 1 where the simulator explains a survey and hundreds to
thousands on real ones, whose loss structure, Auger shapes and satellites it lacks; there an element's
support means nothing, so the fit only re-weights the elements of the network's answer.

Measured on the full run's simulated test spectra (seed 0): with the true element set and every
nuisance fitted the composition RMS is 2.8 at.% (40 spectra); knowing every nuisance as well, counting
noise alone leaves 1.9 at.% (1,000 spectra).
"""

import concurrent.futures
import io
import multiprocessing
import os
import threading
import time

import numpy as np
from scipy import optimize

from mlkit.base import Estimator
from mlkit.xps import physics
from mlkit.xps.metrics import DETECTION_THRESHOLD, reported_fractions
from mlkit.xps.preparation import point_noise
from mlkit.xps.simulator import NUISANCES, SpectrumParameters, XPSSimulator


# Presence that makes an element a candidate for the fit. 0.05 instead (800 validation spectra of the
# full run, support ≥ 50): F1 0.945 vs 0.946, RMS 4.41 vs 4.53 at.%, but thickness 1.32 vs 1.07 Å.
CANDIDATE_THRESHOLD = 0.1
# Support (see `SpectrumFit.fit_one`) a weak candidate (presence < 0.5) needs to stay. Measured with
# least squares from the nuisance head on 800 validation spectra of the full run (seed 0; the test set
# untouched): weak candidates kept at ≥ 10 / 20 / 30 / 50 / 70 / 100 / never give F1 0.938 / 0.944 /
# 0.945 / 0.946 / 0.946 / 0.943 / 0.933 and RMS 4.41 / 4.39 / 4.40 / 4.53 / 4.57 / 4.74 / 6.95 at.%.
# (With Powell from mid-range, 200 test spectra, 100 had been best.) Confident elements always stay:
# dropping those with support below 10 or 30 lowered recall and raised the RMS.
MIN_SIGNIFICANCE = 50.0
# Tried and not kept: a stricter support for weak O candidates, whose line the overlayer shares. On
# 800 validation spectra of the 24-epoch full run, O kept at ≥ 50 / 100 / 200 / 400 / 1,000 / never
# gave F1 0.9457 / 0.9462 / 0.9468 / 0.9475 / 0.9469 / 0.9461 (RMS 4.53 → 4.66 at.% at 400); on those
# of the 48-epoch run 0.9510 / 0.9504 / 0.9502 / 0.9503 / 0.9492 / 0.9478 (RMS 4.09 → 4.25): the gain
# belonged to one network.
# Tried and not kept: fitting Li, Be and B (or substrate C) in every spectrum, kept at a support
# threshold, since the missed elements are mostly these. On 800 validation spectra of the stop-40 full
# run the missed Li, Be and B had support of median 13, 3 and 5, absent ones 99th percentiles 34, 11
# and 12: with the nuisances free they cannot be told apart. Absent substrate C reached 5,656 (it trades
# against the overlayer's C 1s). Using the larger fit only where a probe reached ≥ 25…1,000 moved RMS
# 4.02 → 4.16–4.41 at.% (Li/Be/B) and 4.55–5.51 (C).
# Misfit (see `SpectrumFit.fit_one`) above which the support of a weak candidate means nothing: the
# significance is an F-like ratio that assumes the simulator explains the survey but for counting noise.
# Fits with the true elements read 0.83–1.07 on 40 simulated spectra; the five shipped real surveys
# 344–8,917 with their known elements (unsimulated loss structure, Auger shapes, satellites), where weak
# candidates absorb the difference (Ni metal: Co 13 and Ar 12 at.%).
MAX_MISFIT = 10.0
# each method's rounds and budget per round (see `SpectrumFit`): Powell needs many evaluations to
# converge from mid-range; least squares from the network's nuisances settles within 2 × 100
BUDGETS = {"powell": (4, 600), "least_squares": (2, 100)}


def refine(outputs, spectra, simulator, candidate_threshold=CANDIDATE_THRESHOLD, min_significance=MIN_SIGNIFICANCE,
           max_misfit=MAX_MISFIT, workers=1, progress=False, passes=None, max_evaluations=None, method=None):
    """The CNN's answer refined by the full-spectrum fit: (fractions (n, 80), significance (n, 80),
    fitted thickness (n,) Å, misfit (n,)).

    The candidates are the elements with presence ≥ `candidate_threshold` (`candidate_elements`). The
    network's thickness and, if it reads them (`xps_cnn(nuisances=5)`), its nuisances start the fit;
    `method` None takes "least_squares" from such a start and "powell" without one; `passes` and
    `max_evaluations` None take the method's budget (`SpectrumFit`). After
    the fit the confident ones (presence ≥ 0.5) stay; a weaker candidate stays if its significance
    reaches `min_significance` and the fit's misfit (its residual over the survey's own counting noise)
    is at most `max_misfit`. Where the simulator leaves far more than noise, as on real surveys, the
    spectrum is fitted again for the elements of the network's answer (`reported_fractions`) alone:
    the fit only re-weights them. The kept fractions are renormalised.
    Significance is NaN for elements that were not candidates.
    """
    for name, value in (("min_significance", min_significance), ("max_misfit", max_misfit)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value >= 0:
            raise ValueError(f"`{name}` must be a non-negative number, got {value!r}.")
    candidates = candidate_elements(outputs, candidate_threshold)
    start = outputs["thickness"][:, 0] if "thickness" in outputs else None
    nuisances = None if outputs.get("nuisances") is None else np.asarray(outputs["nuisances"])
    if method is None:
        method = "least_squares" if nuisances is not None else "powell"
    fitter = SpectrumFit(simulator, passes=passes, max_evaluations=max_evaluations, method=method).fit()
    fractions, thickness, significance, misfit = fitter.quantify(spectra, candidates, start, nuisances,
                                                                 progress=progress, workers=workers)
    confident = (np.asarray(outputs["presence"]) >= 0.5 if "presence" in outputs
                 else np.asarray(outputs["composition"]) >= 0.01)
    rough = np.flatnonzero(misfit > max_misfit)
    if len(rough):  # the simulator misses these surveys' structure: fit them again for the network's answer
        reported = reported_fractions(outputs)
        answer = reported >= DETECTION_THRESHOLD
        answer[np.arange(len(answer)), reported.argmax(axis=1)] = True
        again = fitter.quantify(spectra[rough], answer[rough], None if start is None else start[rough],
                                None if nuisances is None else nuisances[rough], workers=workers)
        for array, values in zip((fractions, thickness, significance, misfit), again):
            array[rough] = values
        confident[rough] = answer[rough]
    supported = (significance >= min_significance) & (misfit <= max_misfit)[:, None]  # NaN compares False
    keep = np.isfinite(significance) & (confident | supported)  # the fitted elements
    kept = np.where(keep, fractions, 0.0)
    empty = ~(kept.sum(axis=1) > 0)  # nothing kept, or only elements fitted at zero: keep the largest fitted
    kept[empty, np.argmax(fractions[empty], axis=1)] = fractions[empty].max(axis=1)
    return (kept / kept.sum(axis=1, keepdims=True)).astype("float32"), significance, thickness, misfit


def candidate_elements(outputs, threshold=0.5):
    """(n, 80) bool: the elements a CNN's outputs propose (presence ≥ `threshold`; without a presence
    head, fractions ≥ 1 %); each spectrum proposes at least its largest fraction."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"`threshold` must be in (0, 1), got {threshold!r}.")
    composition = np.asarray(outputs["composition"])
    proposed = np.asarray(outputs["presence"]) >= threshold if "presence" in outputs else composition >= 0.01
    proposed[np.arange(len(composition)), composition.argmax(axis=1)] = True
    return proposed


class SpectrumFit(Estimator):
    """Fit the simulator to surveys for given element sets (scikit-learn style; see the module doc).

    Parameters
    ----------
    simulator : XPSSimulator
        Whose physics, grid and nuisance ranges the fit uses.
    passes : int, default=None
        Rounds of (width scan, chemical-shift scans, search over the continuous nuisances); None:
        the method's (`BUDGETS`: Powell 4, least squares 2).
    max_evaluations : int, default=None
        The optimiser's budget of evaluations per pass (Powell: spectrum renderings; least squares:
        residual evaluations, each with a Jacobian of six more renderings); None: the method's
        (Powell 600, least squares 100).
    method : {"powell", "least_squares"}, default="powell"
        The search over the continuous nuisances. "powell" explores widely: the better choice from
        mid-range. "least_squares" (scipy's trust-region reflective on the weighted residuals) goes
        straight down the basin it starts in: with the true elements and the nuisances started within
        ±10 % of their ranges (60 test spectra), 2 × 100 read RMS 1.31 at.%, 0.60 Å in 14 s against
        Powell 4 × 600's 1.41, 0.59 Å in 87 s; from mid-range it read 2.52, 2.46 Å. Starting at the
        true nuisances gives 0.43 Å, at ±25 % 1.32 Å: the start, not the optimiser, limits the fit.
        Powell is budget-limited from mid-range: with the true
        elements (60 test spectra of the full run) 2 × 300 left the residual above the one at the true
        nuisances for 96 of 100 spectra and read RMS 2.79 at.%, 2.87 Å; 2 × 1000 2.40, 2.55 Å; 6 × 300
        2.09, 2.25 Å; 4 × 600 1.90, 2.17 Å (about 4× the time of 2 × 300). L-BFGS-B and Nelder–Mead
        did no better for the same budget, nor did six starting points at 2 × 300.

    Attributes
    ----------
    passes_, max_evaluations_ : int
        The budget in use.
    bounds_ : ndarray of shape (6, 2)
        Range of each continuous nuisance (thickness Å, transmission exponent, Tougaard strength,
        extra background strength, its length eV, charging shift eV); equal ends hold it fixed.

    `quantify(spectra, candidates)` returns the fractions (n, 80), thickness (n,), each candidate's
    support (n, 80; NaN elsewhere) and each fit's misfit (n,);
    `fit_one(spectrum, elements)` one spectrum's answer with its fitted nuisances.
    """

    NUISANCES = ("thickness", *NUISANCES)

    METHODS = ("powell", "least_squares")

    def __init__(self, simulator=None, passes=None, max_evaluations=None, method="powell"):
        self.simulator = simulator
        self.passes = passes
        self.max_evaluations = max_evaluations
        self.method = method

    def fit(self, X=None, y=None):
        """Check the settings and take the nuisance ranges from the simulator (nothing is learned from X)."""
        simulator = self.simulator
        if not isinstance(simulator, XPSSimulator):
            raise ValueError("`simulator` must be an XPSSimulator.")
        if self.method not in self.METHODS:
            raise ValueError(f"`method` must be one of {self.METHODS}, got {self.method!r}.")
        for name, default in zip(("passes", "max_evaluations"), BUDGETS[self.method]):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"`{name}` must be a positive integer or None, got {value!r}.")
            setattr(self, f"{name}_", default if value is None else int(value))
        self.bounds_ = np.r_[[simulator.thickness_range], simulator.nuisance_ranges()].astype("float64")
        return self

    # -- many spectra ------------------------------------------------------------------------
    def quantify(self, spectra, candidates, thickness=None, nuisances=None, progress=False, workers=1):
        """(fractions (n, 80), thickness (n,) Å, significance (n, 80), NaN for non-candidates, misfit (n,))
        of network-input spectra (`preparation.network_input`).

        `candidates` (n, 80) bool names each spectrum's elements (e.g. `candidate_elements`);
        `thickness` (n,) starts the fit (default: mid-range), and so do `nuisances` (n, 5), the other
        nuisances scaled to [0, 1] over their ranges (`XPSSimulator.nuisance_targets`, a network's
        "nuisances" output; default: mid-range, no charging); `workers` > 1 fits in that many processes.
        """
        from mlkit.progress import Progress

        self._check_fitted("bounds_")
        spectra = np.asarray(spectra, "float64")
        points, n_classes = self.simulator.points, len(physics.ATOMIC_NUMBERS)
        if spectra.ndim != 2 or spectra.shape[1] != points:
            raise ValueError(f"`spectra` must have shape (n, {points}), got {spectra.shape}.")
        candidates = np.asarray(candidates)
        if candidates.shape != (len(spectra), n_classes) or candidates.dtype != bool:
            raise ValueError(f"`candidates` must be a boolean array of shape ({len(spectra)}, {n_classes}), "
                             f"got {candidates.dtype} {candidates.shape}.")
        if not candidates.any(axis=1).all():
            raise ValueError("`candidates` must name at least one element for every spectrum.")
        if thickness is None:
            thickness = np.full(len(spectra), np.mean(self.bounds_[0]))
        thickness = np.asarray(thickness, "float64").reshape(-1)
        if thickness.shape != (len(spectra),) or not np.isfinite(thickness).all():
            raise ValueError(f"`thickness` must hold {len(spectra)} finite values, got shape {thickness.shape}.")
        if nuisances is not None:
            nuisances = np.asarray(nuisances, "float64")
            if nuisances.shape != (len(spectra), len(NUISANCES)) or not np.isfinite(nuisances).all():
                raise ValueError(f"`nuisances` must hold ({len(spectra)}, {len(NUISANCES)}) finite values, "
                                 f"got shape {nuisances.shape}.")
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"`workers` must be a positive integer, got {workers!r}.")
        fractions = np.zeros((len(spectra), n_classes), "float32")
        fitted_thickness = np.zeros(len(spectra), "float32")
        significance = np.full((len(spectra), n_classes), np.nan, "float32")
        misfit = np.zeros(len(spectra), "float32")
        jobs = [(i, spectra[i], np.flatnonzero(candidates[i]), thickness[i], None if nuisances is None else nuisances[i])
                for i in range(len(spectra))]
        reporter = Progress("full-spectrum fit", total=len(spectra), stream=None if progress else io.StringIO())
        with reporter:
            if workers == 1 or len(jobs) < 2:
                for job in jobs:
                    i, fractions[i], fitted_thickness[i], significance[i], misfit[i] = self._fit_job(job)
                    reporter.update()
            else:  # spawn: the parent may hold TensorFlow's threads, which fork does not copy safely
                chunks = [jobs[start::workers * 4] for start in range(workers * 4)]
                context = multiprocessing.get_context("spawn")
                with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_end_with,
                                                            initargs=(os.getpid(),)) as pool:
                    settings = (self.simulator.get_config(), self.get_params(deep=False))
                    futures = [pool.submit(_fit_chunk, settings, chunk) for chunk in chunks if chunk]
                    for future in concurrent.futures.as_completed(futures):
                        answers = future.result()
                        for i, *answer in answers:
                            fractions[i], fitted_thickness[i], significance[i], misfit[i] = answer
                        reporter.update(len(answers))
        return fractions, fitted_thickness, significance, misfit

    def _fit_job(self, job):
        i, spectrum, elements, thickness, nuisances = job
        result = self.fit_one(spectrum, elements, thickness, nuisances)
        row = np.zeros(len(physics.ATOMIC_NUMBERS), "float32")
        row[elements] = result["fractions"]
        support = np.full(len(physics.ATOMIC_NUMBERS), np.nan, "float32")
        support[elements] = result["significance"]
        return i, row, result["thickness"], support, result["misfit"]

    # -- one spectrum --------------------------------------------------------------------------
    def fit_one(self, spectrum, elements, thickness=None, nuisances=None):
        """Fit one network-input spectrum with the given element indices (into `physics.ATOMIC_NUMBERS`),
        started from `thickness` (Å) and `nuisances` (5 values in [0, 1], see `quantify`) where given.

        Returns a dict: `fractions` (one per element, summing to 1), the fitted nuisances
        (`NUISANCES`, plus `resolution` FWHM eV and `shift_levels`), `residual` (weighted mean square)
        and `misfit`: that residual over the survey's own counting noise, about 1 where the simulator
        explains the survey (`point_noise` of √y, whose variance is 1/(4·scale) for Poisson counts y·scale).
        """
        self._check_fitted("bounds_")
        simulator = self.simulator
        spectrum = np.asarray(spectrum, "float64")
        elements = np.asarray(elements, int).reshape(-1)
        if spectrum.shape != (simulator.points,):
            raise ValueError(f"`spectrum` must have shape ({simulator.points},), got {spectrum.shape}.")
        if len(elements) == 0 or elements.min() < 0 or elements.max() >= len(physics.ATOMIC_NUMBERS):
            raise ValueError("`elements` must name at least one element index in 0…79.")
        measured = spectrum >= 0  # unmeasured bins (UNMEASURED = −1) take no part in the fit
        if measured.sum() < 2 * len(elements) + len(self.bounds_):
            raise ValueError("`spectrum` has too few measured bins to fit.")
        observed = spectrum[measured]
        weights = 1.0 / np.sqrt(np.maximum(observed, 1e-3 * max(observed.max(), 1e-12)))
        low, high = self.bounds_[:, 0], self.bounds_[:, 1]
        span = np.where(high > low, high - low, 1.0)
        free = high > low

        target = observed * weights

        def weighted_design(values, shifts, level):
            """The measured bins' columns, each scaled to a maximum of 1 (NNLS conditioning), then weighted."""
            design = component_spectra(self.simulator, elements, shifts, level, values)[:, measured].T
            norm = np.maximum(design.max(axis=0), 1e-30)
            return design / norm * weights[:, None], norm

        def solve(values, shifts, level):
            design, norm = weighted_design(values, shifts, level)
            amplitudes, residual = optimize.nnls(design, target)
            return residual**2, amplitudes / norm

        def unit_values(unit):  # unit: the free nuisances scaled to [0, 1]
            values = low.copy()
            values[free] = low[free] + np.clip(unit, 0.0, 1.0) * span[free]
            return values

        def cost(unit, shifts, level):
            return solve(unit_values(unit), shifts, level)[0]

        def residuals(unit, shifts, level):  # amplitudes by NNLS inside: variable projection
            design, _ = weighted_design(unit_values(unit), shifts, level)
            return design @ optimize.nnls(design, target)[0] - target

        values = (low + high) / 2
        values[5] = np.clip(0.0, low[5], high[5])
        if thickness is not None:
            values[0] = np.clip(float(thickness), low[0], high[0])
        if nuisances is not None:  # where the start decides the basin the fit ends in (see the class doc)
            values[1:] = simulator.nuisance_values(nuisances)
        shifts = np.full(len(elements), simulator.shift_levels // 2)
        level = len(simulator.resolutions) // 2
        for _ in range(self.passes_):
            level = min(range(len(simulator.resolutions)), key=lambda r: solve(values, shifts, r)[0])
            for j in range(len(elements)):
                shifts[j] = min(range(simulator.shift_levels),
                                key=lambda s: solve(values, np.r_[shifts[:j], s, shifts[j + 1:]], level)[0])
            if free.any():
                start = (values[free] - low[free]) / span[free]
                if self.method == "powell":
                    found = optimize.minimize(cost, start, args=(shifts, level), method="Powell",
                                              bounds=[(0.0, 1.0)] * int(free.sum()),
                                              options={"xtol": 1e-3, "ftol": 1e-6, "maxfev": self.max_evaluations_})
                else:
                    found = optimize.least_squares(residuals, start, args=(shifts, level), bounds=(0.0, 1.0),
                                                   method="trf", diff_step=1e-3, max_nfev=self.max_evaluations_)
                values = unit_values(found.x)
        design, norm = weighted_design(values, shifts, level)
        amplitudes, residual = optimize.nnls(design, target)
        residual = residual**2
        # each element's support: how much worse the fit gets without it (nuisances held), in units of
        # the residual per degree of freedom (an F-like ratio; large = the spectrum needs the element)
        dof = max(len(observed) - len(elements) - int(free.sum()), 1)
        without = [optimize.nnls(np.delete(design, j, axis=1), target)[1] ** 2 if len(elements) > 1
                   else float(target @ target) for j in range(len(elements))]  # nnls crashes on 0 columns
        significance = (np.array(without) - residual) / max(residual / dof, 1e-300)
        fractions = amplitude_fractions(amplitudes / norm)
        noise = point_noise(np.sqrt(np.maximum(observed, 0.0)))
        return {"fractions": fractions, "significance": significance,
                **{name: float(v) for name, v in zip(self.NUISANCES, values)},
                "resolution": float(simulator.resolutions[level]), "shift_levels": shifts.tolist(),
                "residual": float(residual / len(observed)),
                "misfit": float(residual / len(observed) / max(4.0 * noise**2, 1e-300))}


def amplitude_fractions(amplitudes):
    """Fitted amplitudes as fractions summing to one (equal shares if all are zero)."""
    total = amplitudes.sum()
    return amplitudes / total if total > 0 else np.full(len(amplitudes), 1.0 / len(amplitudes))


def component_spectra(simulator, elements, shifts, level, values):
    """(k, points) noiseless, unnormalised columns S_e + O: each element alone under the overlayer, plus
    the overlayer's own signal, rendered with the width `level`, chemical-shift `shifts` (k,) and the
    nuisances `values` (order of `SpectrumFit.NUISANCES`)."""
    k, rows = len(elements), len(elements) + 1
    thickness, exponent, background, extra, length, charging = values

    def repeat(value):
        return np.full(rows, value, "float64")

    parameters = SpectrumParameters(
        element_indices=np.r_[elements, elements[0]][:, None],
        element_fractions=np.ones((rows, 1)),
        shift_levels=np.r_[shifts, shifts[0]][:, None],
        resolution_levels=np.full(rows, level),
        thickness=repeat(thickness),
        charging_shift=repeat(charging),
        background_scale=repeat(background),
        total_counts=repeat(1.0),
        substrate_scale=np.r_[np.ones(k), 0.0],  # rows 0…k−1: each element alone; row k: the overlayer
        overlayer_scale=np.r_[np.zeros(k), 1.0],
        transmission_exponent=None if simulator.transmission_exponent_range is None else repeat(exponent),
        extra_background=repeat(extra) if simulator.extra_background_range[1] > 0 else None,
        extra_background_length=repeat(length) if simulator.extra_background_range[1] > 0 else None,
    )
    rendered = np.maximum(simulator.render_counts(parameters).astype("float64"), 0.0)
    return rendered[:k] + rendered[k]


def _fit_chunk(settings, jobs):
    """A worker process's share of `SpectrumFit.quantify` (module level, so spawn can import it)."""
    simulator_config, parameters = settings
    fitter = SpectrumFit(**{**parameters, "simulator": XPSSimulator.from_config(simulator_config)}).fit()
    return [fitter._fit_job(job) for job in jobs]


def _end_with(parent):
    """Pool initializer: end this worker when the process that started it is gone (a killed run). An
    orphaned worker would fit on for nobody, then wait for work forever: every worker holds the task
    queue's writing end, so it never sees the queue close."""
    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
