"""Deployed XPS models: an exported SavedModel plus `xps.json` (the grid and element list)."""

import dataclasses
from pathlib import Path

import numpy as np

from mlkit.io import read_json
from mlkit.serving import find_export, load_saved_model
from mlkit.xps.simulator import XPSSimulator, normalize
from mlkit.xps.spectrum_files import read_spectrum, resample

METADATA = "xps.json"


def model_metadata(simulator):
    """{xps.json: what a spectrum must look like for the exported model}, for `Run.finish(metadata=...)`."""
    return {METADATA: {
        "simulator": simulator.get_config(),
        "photon_energy": simulator.photon_energy,
        "elements": list(simulator.element_symbols),
    }}


MIN_POINTS = 100  # a survey over the model's window has hundreds to thousands of points
MAX_COUNTS = 1e15  # far beyond any detector; larger values overflow float32 sums after normalisation
MIN_RELATIVE_SPREAD = 0.02  # (99th − 1st percentile) / median below this: no peaks, nothing to quantify


def check_survey(spectrum, grid):
    """Refuse what is not a survey spectrum the model can quantify, with one line saying why."""
    name = Path(spectrum.path).name
    energy, counts = spectrum.binding_energy, spectrum.counts
    inside = (energy >= grid[0] - 1) & (energy <= grid[-1] + 1)
    if inside.sum() < MIN_POINTS:
        raise ValueError(f"{name}: only {int(inside.sum())} points in the model's window {grid[0]:g}–{grid[-1]:g} eV; "
                         f"a survey needs at least {MIN_POINTS}")
    if counts.max() > MAX_COUNTS:
        raise ValueError(f"{name}: counts up to {counts.max():.3g} are not detector counts (over {MAX_COUNTS:.0e})")
    low, median, high = np.percentile(counts[inside], [1, 50, 99])
    if high - low <= MIN_RELATIVE_SPREAD * max(abs(median), np.finfo("float64").tiny):
        raise ValueError(f"{name}: the spectrum is flat apart from at most a few points (no peaks to quantify)")


@dataclasses.dataclass
class XPSModel:
    served: object
    simulator: XPSSimulator
    elements: list

    @property
    def binding_energy(self):
        return self.simulator.binding_energy

    def prepare(self, path, energy_scale="binding"):
        """Read, check, resample and normalise one spectrum file as the model expects."""
        spectrum = read_spectrum(path, energy_scale, photon_energy=self.simulator.photon_energy)
        if spectrum.photon_energy is not None and abs(spectrum.photon_energy - self.simulator.photon_energy) > 1.0:
            raise ValueError(
                f"{Path(path).name}: measured with hν = {spectrum.photon_energy:g} eV; the model was trained "
                f"for {self.simulator.photon_energy:g} eV ({self.simulator.source} Kα)"
            )
        check_survey(spectrum, self.binding_energy)
        counts = resample(spectrum, self.binding_energy)
        if not counts.max() > 0:
            raise ValueError(f"{Path(path).name}: no counts in the model's energy window")
        return normalize(counts[None].astype("float32"), self.simulator.normalization)[0]

    def predict(self, spectra):
        """(fractions (n, 80), thickness (n,) Å or None) for prepared spectra."""
        outputs = self.served.predict(np.asarray(spectra, "float32"))
        thickness = outputs.get("thickness")
        return outputs["composition"], None if thickness is None else thickness[:, 0]


def load_xps_model(path):
    """Load an exported XPS model from its SavedModel directory or its run directory."""
    path = find_export(path)
    if not (path / METADATA).is_file():
        raise ValueError(f"{path} is not an exported XPS model (no {METADATA}); train one with `mlkit run xps`.")
    metadata = read_json(path / METADATA)
    served = load_saved_model(path)
    simulator = XPSSimulator.from_config(metadata["simulator"])
    if served.input_shape != (simulator.points,):
        raise ValueError(f"{path}: model input {served.input_shape} does not match its {simulator.points}-point grid.")
    return XPSModel(served, simulator, metadata["elements"])
