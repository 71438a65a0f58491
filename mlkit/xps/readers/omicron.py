"""Omicron Presenter "SPECTRA" ASCII (`.1`): `*M*`, then per spectrum a header line
`start end step sweeps dwell points …` followed by that many counts, one per line."""

import numpy as np

from mlkit.xps.readers.common import Block, FormatError, numeric_fields


def read_spectra(text):
    lines = [line.strip() for line in text.splitlines()]
    if not lines or not lines[0].startswith("*M*"):
        raise FormatError("not an Omicron SPECTRA file (no `*M*` first line)")
    blocks, position = [], 1
    while position < len(lines):
        header = numeric_fields(lines[position]) if lines[position] else None
        position += 1
        if header is None:
            continue
        if len(header) < 6:
            raise FormatError(f"line {position}: expected a header `start end step sweeps dwell points`")
        start, end, step, points = header[0], header[1], header[2], int(header[5])
        name = f"spectrum {len(blocks) + 1}"
        if position < len(lines) and lines[position] and numeric_fields(lines[position]) is None:
            name = lines[position]  # a title, e.g. "Fit result Envelope"
            position += 1
        values = []
        while position < len(lines) and len(values) < points:
            numbers = numeric_fields(lines[position]) if lines[position] else []
            if numbers is None or len(numbers) > 1:
                break
            values += numbers
            position += 1
        if len(values) != points or not np.isclose(start + step * (points - 1), end):
            raise FormatError(f"spectrum {len(blocks) + 1}: the header promises {points} points from {start:g} to "
                              f"{end:g} eV; found {len(values)}")
        # Presenter writes binding energies (a survey runs from high to low).
        blocks.append(Block(name=name, energy=start + step * np.arange(points),
                            counts=np.asarray(values), energy_scale="binding"))
    if not blocks:
        raise FormatError("no spectrum header found")
    return blocks
