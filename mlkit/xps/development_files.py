"""The real surveys shipped in `mlkit/xps/development/` and what is known about their samples.

The xps recipe quantifies every survey block with the trained model and reports, next to the
predictions, what each sample is known to contain and which predicted elements it cannot contain.
"""

import dataclasses
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent / "development"
MIN_IMPLAUSIBLE = 0.03  # an element the sample cannot contain, predicted at ≥ 3 at.%, is an error

# Per (file, sample): the elements the owners measured, and further ones the sample could plausibly
# hold (substrates, alloying elements, common contaminants). Anything else it cannot contain.
SAMPLES = {
    ("01_Al-foil_kratos_survey.vms", "Al_foil_grounded"): (
        "aluminium foil (native oxide, adventitious carbon)", {"Al", "O", "C"},
        {"N", "Si", "Mg", "Na", "F", "Cl", "S", "Ca", "Fe", "Cu", "Zn", "Mn"}),
    ("02_AK-control_perovskite_kratos.vms", "AK_control"): (
        "lead-iodide perovskite-type film (measured: I, Pb, O, N, C, S)", {"I", "Pb", "O", "N", "C", "S"},
        {"Cs", "Br", "Cl", "Sn", "Si", "In", "Ti", "Na", "K", "F"}),
    ("05_MgFe2O4-spent_specs_survey.vms", "1 as-loaded"): (
        "spent MgFe2O4 catalyst (measured: Mg, Fe, O, C, N, Si)", {"Mg", "Fe", "O", "C", "N", "Si"},
        {"Na", "K", "Ca", "Al", "S", "Cl", "Cu", "Zn", "Ni"}),
    # Ar implanted by sputter cleaning: the survey shows the Ar 2p doublet (242.2 eV, 14 % above the
    # background beside it; the NiO survey: none) and Ar 2s at 320 eV.
    ("06_Ni_NiO_specs_references.vms", "Ni"): (
        "Ni metal reference (Ar 2p seen: sputter-cleaned)", {"Ni", "O", "C"}, {"Ar"}),
    ("06_Ni_NiO_specs_references.vms", "NiO"): ("NiO reference (bulk Ni:O = 1:1)", {"Ni", "O", "C"}, set()),
}


@dataclasses.dataclass
class DevelopmentResult:
    label: str
    known: str
    fractions: dict  # element → predicted atomic fraction (≥ 1 at.%)
    uncertainty: dict  # element → ±1σ, where the model gives one
    thickness: float
    shift: float
    implausible: dict  # element → fraction, for elements the sample cannot contain at ≥ 3 at.%
    misfit: float = None  # refined answers: the fit's residual over the survey's counting noise


def quantify_development_files(model, uncertainty=None, refine=False):
    """Every survey block of the shipped files, quantified by an `XPSModel`.

    `uncertainty`: optional function (inputs) → (mean fractions, standard deviations).
    `refine`: report the answer refined by the full-spectrum fit (`XPSModel.refine`) instead.
    """
    blocks = [block for path in sorted(FOLDER.glob("*.vms")) for block in model.prepare_file(path)
              if not block.skipped]
    inputs = np.stack([block.input for block in blocks])
    if refine:
        fractions, _, thickness, misfit = model.refine(inputs)
        spread = np.full_like(fractions, np.nan)
    elif uncertainty is None:
        fractions, thickness = model.predict(inputs)
        spread = np.full_like(fractions, np.nan)
    else:
        fractions, spread, thickness = uncertainty(inputs)
    results = []
    for index, block in enumerate(blocks):
        known, expected, plausible = SAMPLES.get((Path(block.spectrum.path).name, block.spectrum.sample),
                                                 ("unknown", set(), set()))
        shown = {model.elements[e]: float(fractions[index, e]) for e in np.argsort(-fractions[index])
                 if fractions[index, e] >= 0.01}
        implausible = {element: value for element, value in shown.items()
                       if expected and value >= MIN_IMPLAUSIBLE and element not in expected | plausible}
        results.append(DevelopmentResult(
            block.label, known, shown,
            {model.elements[e]: float(spread[index, e]) for e in np.argsort(-fractions[index])
             if fractions[index, e] >= 0.01 and np.isfinite(spread[index, e])},
            None if thickness is None else float(thickness[index]), block.reference.shift, implausible,
            float(misfit[index]) if refine else None))
    return results


def nickel_fraction(result):
    """Ni/(Ni+O) of a result (the NiO target is 0.5 ± 0.12)."""
    nickel, oxygen = result.fractions.get("Ni", 0.0), result.fractions.get("O", 0.0)
    return nickel / (nickel + oxygen) if nickel + oxygen > 0 else float("nan")
