"""SPECS `.xy` exports from SpecsLab Prodigy and SpecsLab2.

Hand-written: the one maintained reader (pynxtools-xps) brings a NeXus stack of hundreds of MB.
A `# Region:` comment starts each region; its `# Cycle: …, Curve: …[, Scan: …]` sections hold
energy/intensity rows and are averaged (separate scans of one region share the energy axis).
The axis is binding energy unless the export settings say kinetic.
"""

import numpy as np

from mlkit.xps.readers.common import Block, FormatError, numeric_fields, photon_energy_of


def read_xy(text):
    lines = text.splitlines()
    settings = []
    for line in lines:
        if line.startswith("# Group:") or line.startswith("# Region:"):
            break
        settings.append(line)
    kinetic = _kinetic_axis(settings)
    regions, group = [], ""
    current = None
    for line in lines:
        if line.startswith("#"):
            key, _, value = line.lstrip("#").partition(":")
            key, value = key.strip(), value.strip()
            if key == "Group":
                group = value
            elif key == "Region":
                current = {"name": value, "group": group, "meta": {}, "chunks": [], "rows": None}
                regions.append(current)
            elif current is not None and key.startswith("Cycle") and "Curve" in key + value:
                current["rows"] = []
                current["chunks"].append(current["rows"])
            elif current is not None and key and value:
                current["meta"].setdefault(key, value)
                if key.lower().startswith("kinetic energy axis") or key.lower().startswith("energy axis"):
                    kinetic = _kinetic_axis([line])
            elif current is not None and "values in kinetic energy" in line.lower():
                kinetic = True
            continue
        if current is None or current["rows"] is None or not line.strip():
            continue
        numbers = numeric_fields(line)
        if numbers is None or len(numbers) < 2:
            raise FormatError(f"region {current['name']}: unexpected line {line.strip()[:40]!r}")
        current["rows"].append(numbers[:2])
    blocks = []
    for region in regions:
        chunks = [np.asarray(rows, "float64") for rows in region["chunks"] if len(rows) >= 2]
        if not chunks:
            continue
        if any(chunk.shape != chunks[0].shape or not np.allclose(chunk[:, 0], chunks[0][:, 0]) for chunk in chunks):
            raise FormatError(f"region {region['name']}: its scans have different energy axes")
        counts = np.mean([chunk[:, 1] for chunk in chunks], axis=0)
        meta = region["meta"]
        photon = meta.get("Excitation Energy")
        blocks.append(Block(name=region["name"], sample=region["group"], energy=chunks[0][:, 0], counts=counts,
                            energy_scale="kinetic" if kinetic else "binding",
                            photon_energy=float(photon) if photon else photon_energy_of(meta.get("Source")),
                            source=meta.get("Source", ""), technique=meta.get("Analysis Method", "XPS").upper()))
    if not blocks:
        raise FormatError("no `# Region:` with data rows found")
    return blocks


def _kinetic_axis(lines):
    for line in lines:
        text = line.lstrip("#").strip().lower()
        if text.startswith("energy axis:"):
            return "kinetic" in text
        if text.startswith("kinetic energy axis:"):
            return text.endswith("yes")
        if "values in kinetic energy" in text:
            return True
    return False
