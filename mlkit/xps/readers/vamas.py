"""VAMAS (ISO 14976) files as CasaXPS, Kratos ESCApe, SPECS Prodigy, PHI MultiPak and Omicron write them.

Written here because the `vamas` package (0.2) reads REGULAR blocks only, insists on a `.vms`
name and stops at MAP experiments, and pynxtools-xps needs about 800 MB of dependencies. This
reader follows the standard's block layout, including the fields that exist only for some
experiment modes and techniques, IRREGULAR scans (the abscissa is the first corresponding
variable) and interleaved corresponding variables.
"""

import numpy as np

from mlkit.io import atomic_path
from mlkit.xps.readers.common import Block, FormatError

MAP_MODES = {"MAP", "MAPDP", "MAPSV", "MAPSVDP", "SEM"}
LINESCAN_MODES = {"MAPSV", "MAPSVDP", "SEM"}
DEPTH_PROFILE_MODES = {"MAPDP", "MAPSVDP", "SDP", "SDPSV"}
ION_TECHNIQUES = {"FABMS", "FABMS ENERGY SPEC", "ISS", "SIMS", "SIMS ENERGY SPEC", "SNMS", "SNMS ENERGY SPEC"}
ELECTRON_TECHNIQUES = {"AES DIFF", "AES DIR", "EDX", "ELS", "UPS", "XPS", "XRF"}
UNSET = 1e36  # writers put 1e37 where a value is unknown
IDENTIFIER = "VAMAS Surface Chemical Analysis Standard"


class _Lines:
    def __init__(self, lines):
        self.lines, self.position = lines, 0

    def text(self, what):
        if self.position >= len(self.lines):
            raise FormatError(f"the file ends early (truncated?) while reading {what}")
        line = self.lines[self.position].replace("\x00", "").strip()  # PHI ends labels in NUL
        self.position += 1
        return line

    def number(self, what, kind=float):
        line = self.text(what)
        try:
            return kind(float(line)) if kind is int else kind(line)
        except ValueError:
            raise FormatError(f"line {self.position}: expected a number for {what}, found {line[:30]!r}") from None

    def skip(self, count):
        self.position += count


def read(text):
    """Every block of a VAMAS file as `Block`s (energy in the file's own abscissa)."""
    lines = _Lines(text.splitlines())
    if not lines.text("the format identifier").startswith(IDENTIFIER):
        raise FormatError("not a VAMAS file (no format identifier on the first line)")
    lines.skip(4)  # institution, instrument model, operator, experiment
    lines.skip(lines.number("the comment line count", int))
    mode = lines.text("the experiment mode").upper()
    scan_mode = lines.text("the scan mode").upper()
    if scan_mode not in ("REGULAR", "IRREGULAR"):
        raise FormatError(f"scan mode {scan_mode!r} is not a spectrum (REGULAR or IRREGULAR)")
    if mode in ("MAP", "MAPDP", "NORM", "SDP"):
        lines.number("the number of spectral regions", int)
    if mode in ("MAP", "MAPDP"):
        lines.skip(3)  # analysis positions, discrete x and y coordinates
    experimental_variables = lines.number("the number of experimental variables", int)
    lines.skip(2 * experimental_variables)
    inclusion = lines.number("the parameter inclusion list length", int)
    if inclusion != 0:
        raise FormatError("VAMAS parameter inclusion/exclusion lists are not supported (no instrument writes them)")
    lines.number("the number of manually entered items", int)
    future_experiment = lines.number("the future experiment entries", int)
    future_block = lines.number("the future block entries", int)
    lines.skip(2 * future_experiment)  # label and unit each
    count = lines.number("the number of blocks", int)
    return [_block(lines, mode, scan_mode, experimental_variables, future_block, index) for index in range(count)]


def _block(lines, mode, scan_mode, experimental_variables, future_block, index):
    name = lines.text("the block identifier")
    sample = lines.text("the sample identifier")
    lines.skip(7)  # date, time and time zone
    lines.skip(lines.number("the block comment line count", int))
    technique = lines.text("the technique").upper()
    if mode in ("MAP", "MAPDP"):
        lines.skip(2)  # x, y coordinates
    lines.skip(experimental_variables)
    source_label = lines.text("the source label")
    if mode in DEPTH_PROFILE_MODES or technique in ION_TECHNIQUES:
        lines.skip(3)  # sputtering species
    photon_energy = lines.number("the source energy")
    lines.skip(3)  # source strength, beam width x, y
    if mode in MAP_MODES:
        lines.skip(2)  # field of view
    if mode in LINESCAN_MODES:
        lines.skip(6)
    lines.skip(2)  # source polar angle, azimuth
    lines.text("the analyser mode")
    lines.number("the pass energy")
    if technique == "AES DIFF":
        lines.skip(1)
    lines.skip(1)  # magnification
    lines.number("the analyser work function")
    lines.skip(5)  # target bias, analysis width x, y, take-off polar angle, azimuth
    species = lines.text("the species label")
    transition = lines.text("the transition label")
    lines.skip(1)  # charge of the detected particle
    if scan_mode == "REGULAR":
        abscissa = lines.text("the abscissa label")
        lines.text("the abscissa unit")
        start = lines.number("the abscissa start")
        step = lines.number("the abscissa increment")
    variables = lines.number("the number of corresponding variables", int)
    labels = []
    for _ in range(variables):
        labels.append(lines.text("a variable label"))
        lines.text("a variable unit")
    lines.skip(4)  # signal mode, collection time, number of scans, time correction
    if mode in DEPTH_PROFILE_MODES and technique in ELECTRON_TECHNIQUES:
        lines.skip(7)  # sputtering source
    lines.skip(3)  # sample tilt polar angle, azimuth, rotation
    lines.skip(3 * lines.number("the additional parameter count", int))
    lines.skip(future_block)
    total = lines.number("the number of ordinate values", int)
    lines.skip(2 * variables)  # minimum and maximum of each variable
    if variables < 1 or total % variables:
        raise FormatError(f"block {index + 1}: {total} values do not divide into {variables} variables")
    values = np.empty(total)
    for position in range(total):
        values[position] = lines.number(f"value {position + 1} of block {index + 1}")
    table = values.reshape(-1, variables)  # the variables are interleaved point by point
    if scan_mode == "IRREGULAR":  # the abscissa is the first corresponding variable
        abscissa, energy, table, labels = labels[0], table[:, 0], table[:, 1:], labels[1:]
        if not labels:
            raise FormatError(f"block {index + 1}: an IRREGULAR block needs an abscissa and an intensity variable")
    else:
        energy = start + step * np.arange(len(table))
    label = abscissa.lower()
    if "binding" in label:
        scale = "binding"
    elif "kinetic" in label:
        scale = "kinetic"
    else:
        raise FormatError(f"block {index + 1}: abscissa {abscissa!r} is neither kinetic nor binding energy")
    transmission = None
    if len(labels) > 1 and "transmission" in labels[1].lower():
        transmission = table[:, 1]
    region = " ".join(part for part in (species, transition) if part)
    if region and region.replace(" ", "").lower() not in name.replace(" ", "").lower():
        name = f"{name} ({region})" if name else region
    return Block(
        name=name or f"block {index + 1}",
        sample=sample,
        energy=energy,
        energy_scale=scale,
        counts=table[:, 0],
        photon_energy=photon_energy if 0 < photon_energy < UNSET else None,
        source=source_label,
        technique=technique,
        transmission=transmission,
    )


def write(path, binding_energy, counts, photon_energy, kinetic=True, sample="mlkit", comment="simulated"):
    """Write one regular XPS block as a VAMAS file (kinetic-energy abscissa by default)."""
    binding_energy = np.asarray(binding_energy, "float64")
    counts = np.asarray(counts, "float64")
    if binding_energy.shape != counts.shape or binding_energy.ndim != 1 or len(counts) < 2:
        raise ValueError("`binding_energy` and `counts` must be 1-D arrays of the same length ≥ 2.")
    step = binding_energy[1] - binding_energy[0]
    if not np.allclose(np.diff(binding_energy), step, rtol=1e-6, atol=1e-9):
        raise ValueError("VAMAS needs a regular energy grid.")
    if kinetic:  # ascending kinetic energy = descending binding energy; BE = hν − KE
        label, start, counts = "Kinetic Energy", photon_energy - binding_energy[-1], counts[::-1]
    else:
        label, start = "Binding Energy", binding_energy[0]
    lines = [
        f"{IDENTIFIER} Data Transfer Format 1988 May 4",
        "mlkit", "mlkit simulator", "mlkit", "survey", "1", comment,
        "NORM", "REGULAR", "1", "1", "Energy", "eV", "0", "0", "0", "0", "1",
        "survey", sample, "2026", "1", "1", "0", "0", "0", "0", "0", "XPS", "0",
        "Al" if abs(photon_energy - 1486.6) < 1 else "Mg", f"{photon_energy:g}", "0", "0", "0",
        "54.7", "0", "FAT", "100", "1", "0", "0", "0", "0", "0", "0", "", "survey", "-1",
        label, "eV", f"{start:.12g}", f"{step:.12g}", "1", "counts", "d",
        "pulse counting", "1", "1", "0", "0", "0", "0", "0", f"{len(counts)}",
        f"{counts.min():g}", f"{counts.max():g}",
    ]
    lines += [f"{value:.9g}" for value in counts]
    lines.append("end of experiment")
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(lines) + "\n")
    return path
