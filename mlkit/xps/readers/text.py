"""Plain two-column text or CSV (energy, intensity), with optional header lines before the numbers.

Spreadsheets in many European locales write decimal commas with ";" or tabs between the columns
("284,8;1234,5"); such a row reads as two numbers, as it can mean nothing else.
"""

import re

from mlkit.xps.readers.common import Block, FormatError, numeric_fields, table

_DECIMAL_COMMA_NUMBER = r"(-?\d+(?:,\d*)?(?:[eE][-+]?\d+)?)"
_DECIMAL_COMMA_ROW = re.compile(rf"^\s*{_DECIMAL_COMMA_NUMBER}\s*[;\t]\s*{_DECIMAL_COMMA_NUMBER}\s*[;\t]?\s*$")


def _row(line):
    found = _DECIMAL_COMMA_ROW.match(line)
    if found and "," in line:
        return [float(field.replace(",", ".")) for field in found.groups()]
    return numeric_fields(line)


def read_columns(text, energy_scale):
    rows, header = [], []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;%":
            if not rows:
                header.append(stripped.lower())
            continue
        numbers = _row(stripped)
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
