"""Measured XPS spectra from instrument files: every block of a file, on an ascending binding-energy axis.

Formats (recognised by content, not by name): VAMAS (.vms/.npl, REGULAR and IRREGULAR, as CasaXPS,
Kratos, SPECS, PHI and Omicron write it), PHI MultiPak `.spe` and its ASCII, "Multipak Exporter"
and CSV exports, SPECS Prodigy/SpecsLab2 `.xy`, Scienta SES `.txt`, Thermo Avantage `.xlsx`,
CasaXPS text export, Omicron Presenter `.1`, and plain two-column text.

Kinetic energies become binding energies as BE = hν − KE, with the file's photon energy. The
analyser work function a file records is *not* subtracted again: instruments reference the kinetic
energy they write to the Fermi level already (measured: C 1s of adventitious carbon within 1.3 eV
of 284.8 eV with hν − KE on Kratos and SPECS files, 4–5 eV off either way with the work function).
"""

import dataclasses
from pathlib import Path

import numpy as np

from mlkit.xps.readers import casaxps, omicron, phi, scienta, specs, text, thermo, vamas
from mlkit.xps.readers.common import Block, FormatError

ENERGY_SCALES = ("binding", "kinetic")
NEGATIVE_TOLERANCE = 0.01  # processed exports dip slightly below zero; more than 1 % of the maximum is not counts


@dataclasses.dataclass
class MeasuredSpectrum:
    path: str
    binding_energy: np.ndarray  # ascending, eV
    counts: np.ndarray
    photon_energy: float = None  # eV, when the file says
    name: str = ""  # block or region name
    sample: str = ""
    index: int = 1  # position among the file's blocks, from 1
    blocks: int = 1  # how many blocks the file holds
    source: str = ""
    technique: str = "XPS"
    transmission: np.ndarray = None
    problem: str = None  # why this block cannot be used (the file's other blocks may be fine)

    @property
    def label(self):
        """File name, and for multi-block files the block number, name and sample."""
        label = Path(self.path).name
        if self.blocks > 1:
            label += f" [block {self.index}/{self.blocks}"
            label += f" {self.name!r}" if self.name else ""
            label += f", sample {self.sample!r}" if self.sample else ""
            label += "]"
        elif self.sample or self.name:
            label += f" ({', '.join(part for part in (self.sample, self.name) if part)})"
        return label

    @property
    def step(self):
        return float(np.median(np.diff(self.binding_energy)))

    def describe(self):
        if self.problem:
            return self.problem
        return f"BE {self.binding_energy[0]:.1f}–{self.binding_energy[-1]:.1f} eV in {self.step:.2g} eV steps"


def read_spectra(path, energy_scale=None, photon_energy=None):
    """Every spectrum in a file, in file order.

    Args:
        path: the file.
        energy_scale: "binding" or "kinetic" for plain text files whose header does not say;
            formats that record their axis ignore it.
        photon_energy: eV, for kinetic-energy files that do not state it.

    Raises ValueError, naming the file and the problem, for unreadable files.
    """
    path = Path(path)
    if energy_scale is not None and energy_scale not in ENERGY_SCALES:
        raise ValueError(f"`energy_scale` must be one of {ENERGY_SCALES}, got {energy_scale!r}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a spectrum file")
    if not path.is_file():
        raise ValueError(f"spectrum file not found: {path}")
    try:
        blocks = _read_blocks(path, energy_scale)
    except FormatError as error:
        raise ValueError(f"{path.name}: {error}") from None
    spectra = []
    for index, block in enumerate(blocks):
        try:
            spectra.append(_spectrum(path, block, index + 1, len(blocks), photon_energy))
        except ValueError as error:  # one bad block does not hide the others
            if len(blocks) == 1:
                raise
            empty = np.zeros(0)
            spectra.append(MeasuredSpectrum(str(path), empty, empty, block.photon_energy, block.name, block.sample,
                                            index + 1, len(blocks), problem=str(error).split(": ", 1)[-1]))
    return spectra


def read_spectrum(path, energy_scale=None, photon_energy=None):
    """The first spectrum of a file (see `read_spectra`)."""
    return read_spectra(path, energy_scale, photon_energy)[0]


def _read_blocks(path, energy_scale):
    data = path.read_bytes()
    if data.startswith(b"SOFH"):
        return phi.read_spe(data)
    if data.startswith(b"PK\x03\x04"):
        return thermo.read_xlsx(path)
    if b"\x00" in data[:4096].replace(b"\x00\r\n", b"").replace(b"\x00\n", b""):
        hint = "; export it as .txt from SES" if path.suffix.lower() == ".ibw" else ""
        raise FormatError(f"a binary file this reader does not know ({path.suffix or 'no suffix'}){hint}; give "
                          "VAMAS, PHI .spe, SPECS .xy, Scienta .txt, Thermo .xlsx or two-column text")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data.decode("latin-1")
    head = content.lstrip()[:4000]
    first = head.splitlines()[0].strip() if head else ""
    if first.startswith("<?xml"):
        raise FormatError("SpecsLab2/XML files are not read; export the regions as .xy from SpecsLab")
    if first.startswith(vamas.IDENTIFIER):
        return vamas.read(content)
    if first.startswith("//") and "Multipak Exporter" in head:
        return phi.read_mpexport(content)
    if "Region " in head and "Photon Energy" in head and ";" in first:
        return phi.read_multipak_ascii(content)
    if first.startswith("#") and ("SpecsLab" in head or "XY-Serializer" in head):
        return specs.read_xy(content)
    if first == "[Info]":
        return scienta.read_txt(content)
    if first.startswith("Cycle ") and "Characteristic Energy" in head:
        return casaxps.read_txt(content)
    if first.startswith("*M*"):
        return omicron.read_spectra(content)
    if path.suffix.lower() == ".csv" and _looks_like_multipak_csv(head):
        return phi.read_multipak_csv(content)
    if not content.strip():
        raise FormatError("the file is empty")
    return text.read_columns(content, energy_scale)


def _looks_like_multipak_csv(head):
    """A region name line, then a single number, then `energy,intensity` rows."""
    from mlkit.xps.readers.common import numeric_fields

    lines = [numeric_fields(line, ",") for line in head.splitlines() if line.strip()][:12]
    return any(name is None and one is not None and len(one) == 1 and row is not None and len(row) == 2
               for name, one, row in zip(lines, lines[1:], lines[2:]))


def _spectrum(path, block, index, count, photon_energy):
    where = f"block {index} ({block.name})" if count > 1 else "the spectrum"
    energy = np.asarray(block.energy, "float64")
    counts = np.asarray(block.counts, "float64")
    if len(energy) < 2:
        raise ValueError(f"{path.name}: {where} has fewer than two data points")
    if not (np.isfinite(energy).all() and np.isfinite(counts).all()):
        raise ValueError(f"{path.name}: {where} contains NaN or infinite values")
    if counts.max() <= 0:
        raise ValueError(f"{path.name}: {where} has no counts above zero")
    if counts.min() < -NEGATIVE_TOLERANCE * counts.max():
        raise ValueError(f"{path.name}: {where} contains negative counts")
    counts = np.maximum(counts, 0.0)
    stated = block.photon_energy or None  # what the file says; an assumed one stays unrecorded (and noted)
    if block.energy_scale == "kinetic":
        hv = stated or photon_energy
        if hv is None:
            raise ValueError(f"{path.name}: {where} has kinetic energies but no photon energy")
        energy = hv - energy
    order = np.argsort(energy, kind="stable")
    energy, counts = energy[order], counts[order]
    transmission = None if block.transmission is None else np.asarray(block.transmission, "float64")[order]
    if np.any(np.diff(energy) <= 0):
        raise ValueError(f"{path.name}: {where} has repeated energy values")
    return MeasuredSpectrum(str(path), energy, counts, stated, block.name, block.sample, index, count,
                            block.source, block.technique, transmission)


write_vamas = vamas.write

__all__ = ["Block", "ENERGY_SCALES", "FormatError", "MeasuredSpectrum", "read_spectra", "read_spectrum", "write_vamas"]
