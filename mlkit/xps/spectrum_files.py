"""Measured spectra from files: two-column text/CSV and VAMAS (ISO 14976), resampled to a grid.

VAMAS is read with the maintained `vamas` package; only a small writer lives here
(for tests and for exporting simulated spectra), since that package has none.
"""

import dataclasses
from pathlib import Path

import numpy as np

from mlkit.io import atomic_path
from mlkit.xps.physics import bin_edges

TEXT_SUFFIXES = (".txt", ".csv", ".dat", ".xy", ".tsv")
ENERGY_SCALES = ("binding", "kinetic")


@dataclasses.dataclass
class MeasuredSpectrum:
    path: str
    binding_energy: np.ndarray  # ascending, eV
    counts: np.ndarray
    photon_energy: float = None  # eV, when the file says


def read_spectrum(path, energy_scale="binding", photon_energy=None):
    """Read one spectrum; text files give (energy, counts) columns on `energy_scale`.

    Kinetic energies become binding energies with the file's photon energy (VAMAS) or
    `photon_energy`. Raises ValueError for unreadable files, NaN or negative counts.
    """
    path = Path(path)
    if energy_scale not in ENERGY_SCALES:
        raise ValueError(f"energy scale must be one of {ENERGY_SCALES}, got {energy_scale!r}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a spectrum file")
    if not path.is_file():
        raise ValueError(f"spectrum file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".vms":
        energy, counts, photon_energy, energy_scale = _read_vamas(path)
    elif suffix in TEXT_SUFFIXES:
        energy, counts = _read_text(path)
    else:
        raise ValueError(f"{path.name}: unsupported file type {suffix or '(none)'}; give {', '.join(TEXT_SUFFIXES)} or .vms")
    if len(energy) < 2:
        raise ValueError(f"{path.name}: fewer than two data points")
    if not (np.isfinite(energy).all() and np.isfinite(counts).all()):
        raise ValueError(f"{path.name}: contains NaN or infinite values")
    if np.any(counts < 0):
        raise ValueError(f"{path.name}: contains negative counts")
    if energy_scale == "kinetic":
        if photon_energy is None:
            raise ValueError(f"{path.name}: kinetic energies need the photon energy")
        energy = photon_energy - energy
    order = np.argsort(energy)
    energy, counts = energy[order], counts[order]
    if np.any(np.diff(energy) <= 0):
        raise ValueError(f"{path.name}: repeated energy values")
    return MeasuredSpectrum(str(path), energy, counts, photon_energy)


def _read_text(path):
    try:
        rows = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line[0] in "#;%":
                continue
            fields = line.replace(",", " ").replace(";", " ").split()
            try:
                rows.append([float(value) for value in fields])
            except ValueError:
                if rows:  # text after the data began
                    raise ValueError(f"non-numeric line {line[:40]!r}") from None
                continue  # a header line
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path.name}: cannot read as two-column text: {error}") from None
    if not rows:
        raise ValueError(f"{path.name}: no numeric rows; expected two columns (energy, counts)")
    if len({len(row) for row in rows}) != 1:
        raise ValueError(f"{path.name}: rows have different numbers of columns; expected two (energy, counts)")
    if len(rows[0]) != 2:
        raise ValueError(f"{path.name}: {len(rows[0])} columns; expected two (energy, counts)")
    table = np.asarray(rows, "float64")
    return table[:, 0], table[:, 1]


def _read_vamas(path):
    from vamas import Vamas

    try:
        blocks = Vamas(str(path)).blocks
    except (StopIteration, EOFError, IndexError):  # the reader runs out of lines
        raise ValueError(f"{path.name}: cannot read as VAMAS: the file ends early (truncated?)") from None
    except Exception as error:  # noqa: BLE001  (the reader raises many kinds on bad files)
        raise ValueError(f"{path.name}: cannot read as VAMAS: {type(error).__name__} {error}".rstrip()) from None
    blocks = [block for block in blocks if block.technique.upper().startswith("XPS")] or blocks
    if not blocks:
        raise ValueError(f"{path.name}: the VAMAS file holds no spectra")
    block = blocks[0]
    counts = np.asarray(block.corresponding_variables[0].y_values, "float64")
    energy = block.x_start + block.x_step * np.arange(len(counts))
    label = block.x_label.lower()
    if "binding" in label:
        scale = "binding"
    elif "kinetic" in label:
        scale = "kinetic"
        # BE = hν − KE − φ (the analyser work function the file records)
        energy = energy + block.analyzer_work_function_or_acceptance_energy
    else:
        raise ValueError(f"{path.name}: VAMAS abscissa {block.x_label!r} is neither kinetic nor binding energy")
    return energy, counts, float(block.analysis_source_characteristic_energy), scale


def resample(spectrum, grid):
    """Counts on `grid` (ascending bin centres): bin averages from a finer scan, linear
    interpolation from a coarser one. The scan must cover the grid's window."""
    grid = np.asarray(grid, "float64")
    step = grid[1] - grid[0]
    energy, counts = spectrum.binding_energy, spectrum.counts
    tolerance = step / 2
    if energy[0] > grid[0] + tolerance or energy[-1] < grid[-1] - tolerance:
        raise ValueError(
            f"{Path(spectrum.path).name}: covers {energy[0]:.1f}–{energy[-1]:.1f} eV binding energy; "
            f"the model needs {grid[0]:.1f}–{grid[-1]:.1f} eV"
        )
    if np.median(np.diff(energy)) < 0.99 * step:  # clearly finer: average each bin
        edges = np.clip(bin_edges(grid), energy[0], energy[-1])
        cumulative = np.concatenate([[0.0], np.cumsum(np.diff(energy) * (counts[:-1] + counts[1:]) / 2)])
        area = np.diff(np.interp(edges, energy, cumulative))
        return area / np.maximum(np.diff(edges), 1e-12)
    return np.interp(grid, energy, counts)


def write_vamas(path, binding_energy, counts, photon_energy, kinetic=True, sample="mlkit", comment="simulated"):
    """Write one regular XPS block as a VAMAS file (kinetic-energy abscissa by default)."""
    binding_energy = np.asarray(binding_energy, "float64")
    counts = np.asarray(counts, "float64")
    if binding_energy.shape != counts.shape or binding_energy.ndim != 1 or len(counts) < 2:
        raise ValueError("`binding_energy` and `counts` must be 1-D arrays of the same length ≥ 2.")
    step = binding_energy[1] - binding_energy[0]
    if not np.allclose(np.diff(binding_energy), step, rtol=1e-6, atol=1e-9):
        raise ValueError("VAMAS needs a regular energy grid.")
    if kinetic:  # ascending kinetic energy = descending binding energy
        label, start, counts = "Kinetic Energy", photon_energy - binding_energy[-1], counts[::-1]
    else:
        label, start = "Binding Energy", binding_energy[0]
    lines = [
        "VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4",
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
    path = Path(path)
    if path.suffix.lower() != ".vms":
        raise ValueError("a VAMAS file name must end in .vms")
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(lines) + "\n")
    return path
