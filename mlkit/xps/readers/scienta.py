"""Scienta SES `.txt` exports (INI-like `[Region n]`, `[Info n]`, `[Data n]` sections).

Hand-written for the same reason as the SPECS reader. Each `[Data n]` row is an energy and one
intensity per detector slice; slices are summed. The axis is the one `Dimension 1 name` states.
"""

import numpy as np

from mlkit.xps.readers.common import Block, FormatError, numeric_fields


def read_txt(text):
    sections, name = {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            name = stripped[1:-1]
            sections[name] = {"lines": []}
            continue
        if name is None or not stripped:
            continue
        if name.startswith("Data"):
            numbers = numeric_fields(stripped)
            if numbers is None or len(numbers) < 2:
                raise FormatError(f"[{name}]: unexpected line {stripped[:40]!r}")
            sections[name]["lines"].append(numbers)
        else:
            key, _, value = stripped.partition("=")
            sections[name].setdefault(key.strip(), value.strip())
    blocks = []
    for section in sections:
        if not section.startswith("Data "):
            continue
        number = section.split()[1]
        region = sections.get(f"Region {number}", {})
        info = sections.get(f"Info {number}", {})
        rows = sections[section]["lines"]
        if len(rows) < 2 or len({len(row) for row in rows}) != 1:
            raise FormatError(f"[{section}]: rows of unequal length or fewer than two rows")
        values = np.asarray(rows, "float64")
        axis = region.get("Dimension 1 name", info.get("Energy Scale", "Kinetic")).lower()
        photon = info.get("Excitation Energy")
        blocks.append(Block(name=info.get("Region Name", region.get("Region Name", f"region {number}")),
                            sample=info.get("Sample", ""), energy=values[:, 0], counts=values[:, 1:].sum(axis=1),
                            energy_scale="binding" if "binding" in axis else "kinetic",
                            photon_energy=float(photon) if photon else None,
                            source=info.get("Location", "Scienta")))
    if not blocks:
        raise FormatError("no [Data n] sections found")
    return blocks
