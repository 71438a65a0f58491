"""Thermo Avantage Excel exports (`.xlsx`, read with openpyxl): one sheet per spectrum.

Avantage writes a `Binding Energy (E)` header row, a units row (`eV`, …, `Counts / s`), then rows
of binding energy and intensity; core-level sheets add fit columns (`Backgnd.`, peaks) to the right.
Sheets without that header (peak tables, titles) are not spectra and are passed over.
"""

from mlkit.xps.readers.common import Block, FormatError, table

# Avantage (Al Kα monochromator) does not write the photon energy into the workbook.
AVANTAGE_PHOTON_ENERGY = 1486.68


def read_xlsx(path):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001  (zip, XML and openpyxl errors alike)
        raise FormatError(f"cannot open as an Excel workbook: {type(error).__name__}") from None
    blocks = []
    try:
        for sheet in workbook.worksheets:
            block = _sheet(sheet)
            if block is not None:
                blocks.append(block)
    finally:
        workbook.close()
    if not blocks:
        raise FormatError("no sheet with a `Binding Energy` column (an Avantage export has one per spectrum)")
    return blocks


def _sheet(sheet):
    rows = sheet.iter_rows(values_only=True)
    for row in rows:
        first = row[0] if row else None
        if isinstance(first, str) and first.strip().lower().startswith("binding energy"):
            break
    else:
        return None
    units = next(rows, ())
    column = next((index for index, unit in enumerate(units) if index and isinstance(unit, str) and "count" in unit.lower()),
                  None)
    if column is None:
        column = 1 + next((index for index, value in enumerate(units[1:]) if value not in (None, "")), 0)
    data = []
    for row in rows:
        if len(row) <= column or not isinstance(row[0], (int, float)) or not isinstance(row[column], (int, float)):
            if data:
                break
            continue
        data.append([float(row[0]), float(row[column])])
    values = table(data, f"sheet {sheet.title!r}")
    return Block(name=sheet.title, energy=values[:, 0], counts=values[:, 1], energy_scale="binding",
                 photon_energy=AVANTAGE_PHOTON_ENERGY, source="Al Kα (Avantage)")
