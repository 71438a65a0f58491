"""Deployed XPS models: an exported SavedModel plus `xps.json` (the grid and element list)."""

import dataclasses

import numpy as np

from mlkit.io import read_json
from mlkit.serving import find_export, load_saved_model
from mlkit.xps.metrics import reported_fractions
from mlkit.xps.preparation import (
    Reference,
    coverage_problem,
    find_reference,
    network_input,
    resample_masked,
    skip_reason,
)
from mlkit.xps.readers import MeasuredSpectrum, read_spectra
from mlkit.xps.simulator import XPSSimulator
from mlkit.xps.uncertainty import DEFAULT_SAMPLES, calibrated, mc_dropout

METADATA = "xps.json"


def model_metadata(simulator, uncertainty_scale=None):
    """{xps.json: what a spectrum must look like for the exported model}, for `Run.finish(metadata=...)`.

    `uncertainty_scale`: (scale, slope, floor) calibrating Monte-Carlo-dropout spreads (see `uncertainty`).
    """
    return {METADATA: {
        "simulator": simulator.get_config(),
        "photon_energy": simulator.photon_energy,
        "elements": list(simulator.element_symbols),
        "uncertainty_scale": uncertainty_scale,
    }}


MIN_POINTS = 100  # a survey over the model's window has hundreds to thousands of points
MAX_COUNTS = 1e15  # far beyond any detector; larger values overflow float32 sums after normalisation
MIN_RELATIVE_SPREAD = 0.02  # (99th − 1st percentile) / median below this: no peaks, nothing to quantify


def check_survey(spectrum, grid):
    """Refuse what is not a survey spectrum the model can quantify, with one line saying why."""
    energy, counts = spectrum.binding_energy, spectrum.counts
    inside = (energy >= grid[0] - 1) & (energy <= grid[-1] + 1)
    if inside.sum() < MIN_POINTS:
        return (f"only {int(inside.sum())} points in the model's window {grid[0]:g}–{grid[-1]:g} eV; "
                f"a survey needs at least {MIN_POINTS}")
    if counts.max() > MAX_COUNTS:
        return f"counts up to {counts.max():.3g} are not detector counts (over {MAX_COUNTS:.0e})"
    low, median, high = np.percentile(counts[inside], [1, 50, 99])
    if high - low <= MIN_RELATIVE_SPREAD * max(abs(median), np.finfo("float64").tiny):
        return "the spectrum is flat apart from at most a few points (no peaks to quantify)"
    return None


@dataclasses.dataclass
class PreparedSpectrum:
    """One block of a file: the network's input, or why it was skipped."""

    spectrum: MeasuredSpectrum
    input: np.ndarray = None  # (points,) normalised, unmeasured bins = UNMEASURED
    reference: Reference = None
    skipped: str = None
    notes: tuple = ()

    @property
    def label(self):
        return self.spectrum.label


@dataclasses.dataclass
class XPSModel:
    served: object
    simulator: XPSSimulator
    elements: list
    uncertainty_scale: tuple = None  # (scale, slope, floor) calibrating MC-dropout spreads; None: no uncertainties

    @property
    def binding_energy(self):
        return self.simulator.binding_energy

    @property
    def required_window(self):
        return self.simulator.required_window

    def prepare_file(self, path, energy_scale=None):
        """Every block of a file, prepared as the model expects or marked skipped (see `preparation`)."""
        spectra = read_spectra(path, energy_scale, photon_energy=self.simulator.photon_energy)
        return [self.prepare_spectrum(spectrum) for spectrum in spectra]

    def prepare_spectrum(self, spectrum):
        grid = self.binding_energy
        reason = skip_reason(spectrum, self.simulator.photon_energy)
        if reason is None:
            reason = check_survey(spectrum, grid)
        if reason is not None:
            return PreparedSpectrum(spectrum, skipped=reason)
        notes = []
        if spectrum.photon_energy is None:
            notes.append(f"the file does not state the photon energy; assumed {self.simulator.photon_energy:g} eV "
                         f"({self.simulator.source} Kα)")
        reference = find_reference(spectrum.binding_energy, spectrum.counts)
        energy = spectrum.binding_energy + reference.shift
        problem = coverage_problem(energy, self.required_window, spectrum.step)
        if problem is not None:
            return PreparedSpectrum(spectrum, reference=reference, skipped=problem)
        values, measured = resample_masked(energy, spectrum.counts, grid)
        if not values[measured].max() > 0:
            return PreparedSpectrum(spectrum, reference=reference, skipped="no counts in the model's energy window")
        return PreparedSpectrum(spectrum, network_input(values, measured), reference, notes=tuple(notes))

    @classmethod
    def from_keras(cls, model, simulator, uncertainty_scale=None):
        """Serve an in-memory Keras model the way an export is served (for reports during training)."""
        return cls(_KerasPredictor(model), simulator, list(simulator.element_symbols), uncertainty_scale)

    @property
    def has_uncertainty(self):
        return self.uncertainty_scale is not None and hasattr(self.served, "sample")

    def predict_with_uncertainty(self, spectra, samples=DEFAULT_SAMPLES):
        """(fractions, calibrated ±1σ, thickness): the deterministic answer (reproducible) with the
        spread of Monte-Carlo dropout around it."""
        if not self.has_uncertainty:
            raise ValueError("this export has no calibrated Monte-Carlo-dropout endpoint; train it again to get one")
        fractions, thickness = self.predict(spectra)
        _, spread, _ = mc_dropout(self.served.sample, spectra, samples)
        return fractions, calibrated(spread, self.uncertainty_scale, fractions), thickness

    def refine(self, spectra, workers=1):
        """(fractions (n, 80), significance (n, 80), thickness (n,) Å, misfit (n,)): the answer refined by
        fitting the simulator to each spectrum for the elements the network proposes
        (`mlkit.xps.refinement.refine`)."""
        from mlkit.xps.refinement import refine

        spectra = np.asarray(spectra, "float32")
        return refine(self.served.predict(spectra), spectra, self.simulator, workers=workers)

    def predict(self, spectra):
        """(fractions (n, 80), thickness (n,) Å or None) for prepared spectra."""
        outputs = self.served.predict(np.asarray(spectra, "float32"))
        thickness = outputs.get("thickness")
        return reported_fractions(outputs), None if thickness is None else thickness[:, 0]


@dataclasses.dataclass
class _KerasPredictor:
    model: object

    def predict(self, examples):
        outputs = self.model.predict(examples, batch_size=256, verbose=0)
        return {key: np.asarray(value) for key, value in outputs.items()}

    def sample(self, examples):
        return {key: np.asarray(value) for key, value in self.model(examples, training=True).items()}


def load_xps_model(path):
    """Load an exported XPS model from its SavedModel directory or its run directory."""
    path = find_export(path)
    if not (path / METADATA).is_file():
        raise ValueError(f"{path} is not an exported XPS model (no {METADATA}); train one with `mlkit run xps`.")
    metadata = read_json(path / METADATA)
    served = load_saved_model(path)
    try:
        simulator = XPSSimulator.from_config(metadata["simulator"])
    except TypeError:
        raise ValueError(f"{path}: exported by an older mlkit (its simulator settings are not understood); "
                         "train it again with `mlkit run xps`.") from None
    if served.input_shape != (simulator.points,):
        raise ValueError(f"{path}: model input {served.input_shape} does not match its {simulator.points}-point grid.")
    return XPSModel(_with_sampling(served), simulator, metadata["elements"], metadata.get("uncertainty_scale"))


@dataclasses.dataclass
class XPSEnsemble(XPSModel):
    """Several exported models trained alike (e.g. different seeds) answering as one: a deep ensemble.

    The answer is reported from the members' averaged outputs (composition, presence, thickness). Its ±1σ
    combines each member's calibrated uncertainty with the spread between the members:
    σ² = mean(σ_m²) + var(f_m) (the law of total variance over the members).
    """

    members: list = None

    def predict_with_uncertainty(self, spectra, samples=DEFAULT_SAMPLES):
        if not self.has_uncertainty:
            raise ValueError("a member of this ensemble has no calibrated Monte-Carlo-dropout endpoint")
        fractions, thickness = self.predict(spectra)
        answers = [member.predict_with_uncertainty(spectra, samples)[:2] for member in self.members]
        member_fractions = np.stack([answer[0] for answer in answers])
        variance = np.mean([answer[1] ** 2 for answer in answers], axis=0) + member_fractions.var(axis=0)
        return fractions, np.minimum(np.sqrt(variance), 1.0), thickness

    @property
    def has_uncertainty(self):
        return all(member.has_uncertainty for member in self.members)


@dataclasses.dataclass
class _AveragedPredictor:
    members: list

    def predict(self, examples):
        outputs = [member.predict(examples) for member in self.members]
        return {key: np.mean([np.asarray(output[key]) for output in outputs], axis=0) for key in outputs[0]}


def load_xps_ensemble(paths):
    """One exported model, or an `XPSEnsemble` of several made for the same grid, elements and source."""
    paths = list(paths)
    if not paths:
        raise ValueError("`paths` must name at least one exported XPS model.")
    models = [load_xps_model(path) for path in paths]
    if len(models) == 1:
        return models[0]
    first = models[0]
    blank = np.zeros((1, len(first.binding_energy)), "float32")
    outputs = set(first.served.predict(blank))
    for path, model in zip(paths[1:], models[1:]):
        if (model.elements != first.elements or model.simulator.photon_energy != first.simulator.photon_energy
                or not np.array_equal(model.binding_energy, first.binding_energy)
                or set(model.served.predict(blank)) != outputs):
            raise ValueError(f"{path} cannot join an ensemble with {paths[0]}: their elements, energy grid, photon "
                             "energy or outputs differ")
    return XPSEnsemble(_AveragedPredictor([model.served for model in models]), first.simulator, first.elements,
                       first.uncertainty_scale, members=models)


def _with_sampling(served):
    """Give a served export a `sample(batch)` method when it has the MC-dropout endpoint."""
    import tensorflow as tf

    endpoint = getattr(served.saved_model, "sample", None)
    if endpoint is not None:
        served.sample = lambda examples: tf.nest.map_structure(
            np.asarray, endpoint(tf.constant(examples, dtype=served.dtype)))
    return served
