"""Deployed XPS models: an exported SavedModel plus `xps.json` (the grid and element list)."""

import dataclasses
from pathlib import Path

import numpy as np

from mlkit.io import read_json, write_json
from mlkit.serving import load_saved_model
from mlkit.xps.simulator import XPSSimulator, normalize
from mlkit.xps.spectrum_files import read_spectrum, resample

METADATA = "xps.json"


def write_model_metadata(export_directory, simulator):
    """Record what a spectrum must look like for the exported model."""
    write_json(Path(export_directory) / METADATA, {
        "simulator": simulator.get_config(),
        "photon_energy": simulator.photon_energy,
        "elements": list(simulator.element_symbols),
    })


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
    path = Path(path)
    if (path / "export" / METADATA).is_file():
        path = path / "export"
    if not (path / METADATA).is_file():
        raise ValueError(f"{path} is not an exported XPS model (no {METADATA}); train one with `mlkit run xps`.")
    metadata = read_json(path / METADATA)
    served = load_saved_model(path)
    simulator = XPSSimulator.from_config(metadata["simulator"])
    if served.input_shape != (simulator.points,):
        raise ValueError(f"{path}: model input {served.input_shape} does not match its {simulator.points}-point grid.")
    return XPSModel(served, simulator, metadata["elements"])
