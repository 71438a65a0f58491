"""Plain two-column text or CSV (energy, intensity), with optional header lines before the numbers."""

from mlkit.xps.readers.common import Block, FormatError, numeric_fields, table


def read_columns(text, energy_scale):
    rows, header = [], []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;%":
            if not rows:
                header.append(stripped.lower())
            continue
        numbers = numeric_fields(stripped)
        if numbers is None:
            if rows:  # text after the data began
                raise FormatError(f"line {number}: non-numeric line {stripped[:40]!r} after the data")
            header.append(stripped.lower())
            continue
        rows.append(numbers)
    if not rows:
        raise FormatError("no numeric rows; expected two columns (energy, counts)")
    widths = {len(row) for row in rows}
    if widths != {2}:
        raise FormatError(f"rows of {sorted(widths)} columns; expected two (energy, counts)")
    if energy_scale is None:  # a header naming the axis decides; otherwise binding energy
        words = " ".join(header)
        energy_scale = "kinetic" if "kinetic" in words and "binding" not in words else "binding"
    values = table(rows, "the file")
    return [Block(name="spectrum", energy=values[:, 0], counts=values[:, 1], energy_scale=energy_scale)]
