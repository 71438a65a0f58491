"""PHI MultiPak: `.spe` files (ASCII header, binary data) and the three text exports.

No maintained light reader exists: yadg's extractor and pynxtools-xps bring xarray/NeXus stacks
of hundreds of MB. The `.spe` layout read here: the header's `SpectralRegDef` lines give each
region's name, points, step and start on the binding-energy axis; after `EOFH` a binary block
holds a 16-byte file header (…, number of spectra, header table length, …) and one 96-byte
header per spectrum with the point count (byte 20), the data type (byte 72: f4 = float32,
f8/u8 = float64), the data length (76) and the data offset from the block start (80).
"""

import struct

import numpy as np

from mlkit.xps.readers.common import Block, FormatError, numeric_fields, photon_energy_of, table

SPECTRUM_HEADER = 96
DATA_TYPES = {b"f4": "<f4", b"f8": "<f8", b"u8": "<f8"}


def read_spe(data):
    end = data.find(b"EOFH")
    if not data.startswith(b"SOFH") or end < 0:
        raise FormatError("not a PHI .spe file (no SOFH…EOFH header)")
    header = data[:end].decode("latin-1").splitlines()
    values = _header_values(header)
    technique = values.get("Technique", "XPS").upper()
    regions = [line.split(":", 1)[1].split() for line in header if line.startswith("SpectralRegDef:")]
    start = end + 4
    while data[start:start + 1] in (b"\r", b"\n"):
        start += 1
    binary = data[start:]
    if len(binary) < 16:
        raise FormatError("the binary block after EOFH is missing (truncated?)")
    _, count, table_length, _ = struct.unpack("<4i", binary[:16])
    if count != len(regions) or table_length != SPECTRUM_HEADER * count:
        raise FormatError(f"the binary block holds {count} spectra; the header defines {len(regions)} regions "
                          "(depth profiles and multi-area files are not surveys)")
    source = values.get("XraySource", "")
    blocks = []
    for index, region in enumerate(regions):
        spectrum = binary[16 + SPECTRUM_HEADER * index: 16 + SPECTRUM_HEADER * (index + 1)]
        points = struct.unpack("<i", spectrum[20:24])[0]
        kind = DATA_TYPES.get(spectrum[72:74])
        length, offset = struct.unpack("<2i", spectrum[76:84])
        if kind is None:
            raise FormatError(f"region {index + 1}: unknown data type {spectrum[72:74]!r}")
        counts = np.frombuffer(binary, kind, count=points, offset=offset) if offset + length <= len(binary) else None
        if counts is None or length != points * np.dtype(kind).itemsize:
            raise FormatError(f"region {index + 1}: data outside the file (truncated?)")
        name, region_points, step, first = region[2], int(region[4]), float(region[5]), float(region[6])
        if region_points != points:
            raise FormatError(f"region {name}: the header says {region_points} points, the data hold {points}")
        blocks.append(Block(name=name, sample=values.get("SpatialAreaDesc", "").partition(" ")[2],
                            energy=first + step * np.arange(points), energy_scale="binding",
                            counts=counts.astype("float64"), photon_energy=photon_energy_of(source),
                            source=source, technique=technique))
    return blocks


def _header_values(lines):
    values = {}
    for line in lines:
        key, separator, value = line.partition(":")
        if separator and key.strip() not in values:
            values[key.strip()] = value.strip()
    return values


def read_multipak_ascii(text):
    """MultiPak "ASCII" export: `Element X; Region i of n; …; Photon Energy 1253.6; XPS;` then BE⇥counts."""
    blocks, current, rows = [], None, []

    def close():
        if current is not None:
            blocks.append(_ascii_block(current, rows))

    for line in text.splitlines():
        stripped = line.strip()
        if "Region " in stripped and " of " in stripped and ";" in stripped:
            close()
            current, rows = stripped, []
        elif current is not None and stripped:
            numbers = numeric_fields(stripped)
            if numbers is not None and len(numbers) == 2:
                rows.append(numbers)
    close()
    if not blocks:
        raise FormatError("no `Region i of n` sections found")
    return blocks


def _ascii_block(description, rows):
    fields = {}
    for part in description.split(";"):
        words = part.split()
        if len(words) >= 2:
            fields[" ".join(words[:-1])] = words[-1]
    name = description.split(";")[0].strip()
    name = name[len("Element"):].strip() if name.startswith("Element") else name
    region = next((part.strip() for part in description.split(";") if part.strip().startswith("Region ")), "region")
    photon = fields.get("Photon Energy")
    values = table(rows, f"region {name or '?'}")
    return Block(name=name or region.split(" of ")[0].lower(), energy=values[:, 0], counts=values[:, 1],
                 energy_scale="binding", photon_energy=float(photon) if photon else None,
                 source=fields.get("Anode", ""))


def read_mpexport(text):
    """ULVAC-PHI "Multipak Exporter": `//` banner, a header copy, then per region a 7-line
    description (`Area Comment, RegionNo, AtomicName, Area No, XLabel, YLabel, DataCount`) and rows."""
    lines = text.splitlines()
    values = _header_values([line for line in lines if not line.startswith("//")])
    source = values.get("XraySource", "")
    blocks = []
    position = 0
    while position < len(lines):
        if not lines[position].startswith("//Area Comment"):
            position += 1
            continue
        description = [line.strip() for line in lines[position + 1: position + 8]]
        if len(description) < 7:
            raise FormatError("a region description ends early (truncated?)")
        sample, _, name, _, xlabel, _, count = description
        try:
            count = int(count)
        except ValueError:
            raise FormatError(f"region {name}: data count {count!r} is not a number") from None
        rows = [numeric_fields(line) for line in lines[position + 8: position + 8 + count]]
        if len(rows) < count or any(row is None or len(row) != 2 for row in rows):
            raise FormatError(f"region {name}: expected {count} rows of energy and intensity")
        values_table = table(rows, f"region {name}")
        blocks.append(Block(name=name, sample=sample, energy=values_table[:, 0], counts=values_table[:, 1],
                            energy_scale="kinetic" if "kinetic" in xlabel.lower() else "binding",
                            photon_energy=photon_energy_of(source), source=source))
        position += 8 + count
    if not blocks:
        raise FormatError("no `//Area Comment` region sections found")
    return blocks


def read_multipak_csv(text):
    """MultiPak CSV: optional count and blank lines, the region name (e.g. `Su1s`), a `1` line, `BE,value` rows.

    Several regions follow one another, each starting with its name line.
    """
    blocks, name, rows = [], None, []

    def close():
        if name is not None and rows:
            values = table(rows, f"region {name}")
            blocks.append(Block(name=name, energy=values[:, 0], counts=values[:, 1], energy_scale="binding"))

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        numbers = numeric_fields(stripped, ",")
        if numbers is None:
            close()
            name, rows = stripped.strip('"'), []
        elif len(numbers) == 2 and name is not None:
            rows.append(numbers)
    close()
    if not blocks:
        raise FormatError("no region name followed by `energy,intensity` rows")
    return blocks
