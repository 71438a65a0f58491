"""CasaXPS tab-separated text export ("Cycle n:Sample:Region" blocks with K.E./Counts/B.E./CPS columns)."""

from mlkit.xps.readers.common import Block, FormatError, numeric_fields, table


def read_txt(text):
    lines = text.splitlines()
    blocks, position = [], 0
    while position < len(lines):
        title = lines[position].strip()
        if not (title.startswith("Cycle ") and title.count(":") >= 2):
            position += 1
            continue
        _, sample, name = title.split(":", 2)
        photon = None
        fields = lines[position + 1].split("\t") if position + 1 < len(lines) else []
        for key, value in zip(fields, fields[1:]):
            if key.strip().startswith("Characteristic Energy"):
                photon = float(value)
        position += 2
        while position < len(lines) and not lines[position].startswith("K.E."):
            position += 1
        if position == len(lines):
            raise FormatError(f"block {title!r}: no `K.E.` column header")
        columns = [column.strip() for column in lines[position].split("\t")]
        energy_column = columns.index("B.E.") if "B.E." in columns else 0
        counts_column = columns.index("Counts") if "Counts" in columns else 1
        rows = []
        position += 1
        while position < len(lines):
            numbers = numeric_fields(lines[position], "\t") if lines[position].strip() else None
            if numbers is None:
                break
            cells = lines[position].split("\t")
            rows.append([float(cells[energy_column]), float(cells[counts_column])])
            position += 1
        values = table(rows, f"block {title!r}")
        blocks.append(Block(name=name.strip(), sample=sample.strip(), energy=values[:, 0], counts=values[:, 1],
                            energy_scale="binding" if energy_column == columns.index("B.E.") else "kinetic",
                            photon_energy=photon))
    if not blocks:
        raise FormatError("no `Cycle n:sample:region` blocks found")
    return blocks
