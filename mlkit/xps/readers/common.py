"""What every reader returns: one `Block` per spectrum in the file, on the file's own axis."""

import dataclasses

import numpy as np


class FormatError(ValueError):
    """The file is not what its format promises; the message says where."""


@dataclasses.dataclass
class Block:
    name: str  # region or block name as the file gives it
    energy: np.ndarray  # the file's abscissa, any order
    counts: np.ndarray  # counts or counts per second
    energy_scale: str  # "binding" or "kinetic"
    photon_energy: float = None  # eV, where the file states it
    sample: str = ""
    source: str = ""  # e.g. "Al", "Al 1486.6 mono", "XR 50"
    technique: str = "XPS"
    transmission: np.ndarray = None  # analyser transmission per point, where the file records it


def numeric_fields(line, separators=",;\t"):
    """The numbers on a line, or None if any field is not a number."""
    for separator in separators:
        line = line.replace(separator, " ")
    fields = line.split()
    try:
        return [float(field) for field in fields] or None
    except ValueError:
        return None


def table(rows, what):
    rows = np.asarray(rows, "float64")
    if rows.ndim != 2 or len(rows) < 2:
        raise FormatError(f"{what}: fewer than two data rows")
    return rows


def header_value(lines, key, separator=":"):
    """The text after `key<separator>` on the first header line that has it, else None."""
    for line in lines:
        stripped = line.lstrip("#").strip()
        if stripped.lower().startswith(key.lower()):
            rest = stripped[len(key):].lstrip()
            if rest.startswith(separator):
                return rest[len(separator):].strip()
    return None


def photon_energy_of(source_text):
    """Photon energy from a source description such as "Al 1486.6 mono" or "Mg"."""
    if not source_text:
        return None
    for field in source_text.replace(",", " ").split():
        try:
            value = float(field)
        except ValueError:
            continue
        if value > 10:
            return value
    first = source_text.split()[0].lower() if source_text.split() else ""
    return {"al": 1486.6, "mg": 1253.6}.get(first)
