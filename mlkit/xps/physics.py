"""Physical data and formulas for survey-spectrum simulation (SPEC §4).

Atomic data come from xraylib: core-level binding energies (`EdgeEnergy`),
subshell photoionisation cross-sections (`CS_Photo_Partial` × `AtomicWeight`,
i.e. per atom up to a constant), natural level widths (`AtomicLevelWidth`)
and fluorescence yields (`FluorYield`, so Auger yield = 1 − ω). Only what
xraylib does not give is written here: the TPP-2M inelastic mean free path,
the Tougaard universal loss cross-section, the pseudo-Voigt line shape and
the approximate Auger energies.
"""

import dataclasses
import functools

import numpy as np
from scipy import special

PHOTON_ENERGIES = {"Al": 1486.6, "Mg": 1253.6}  # Kα, eV

# Li (Z=3) … Bi (Z=83) without Pm (Z=61): the 80 classes of the notes.
ATOMIC_NUMBERS = tuple(z for z in range(3, 84) if z != 61)

# Tougaard's universal cross-section λK(T) = B·T/(C + T²)² (Tougaard 1997).
TOUGAARD_B = 2866.0  # eV²
TOUGAARD_C = 1643.0  # eV²

_SHELL_NAMES = (
    "K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5",
    "N1", "N2", "N3", "N4", "N5", "N6", "N7",
    "O1", "O2", "O3", "O4", "O5", "O6", "O7", "P1", "P2", "P3", "P4", "P5",
)
# Auger groups X-Y-Y: the initial hole X and the shell group Y both final holes sit in.
_GROUP_SIZES = {"L": 3, "M": 5, "N": 7}
_AUGER_GROUPS = (("K", "L", "KLL"), ("L3", "M", "LMM"), ("M5", "N", "MNN"))
AUGER_BRANCHING = 0.6  # share of the X-hole decays in the main XYY line
# Holes that end in a group's Auger decay: Coster–Kronig transitions move L1/L2 holes to L3 (M4 to
# M5) first, so a measured table of a group's features shares all of their intensity.
AUGER_INTENSITIES = ("group", "main_line")
_FEEDING_SHELLS = {"KLL": ("K",), "LMM": ("L1", "L2", "L3"), "MNN": ("M4", "M5")}
AUGER_EXTRA_WIDTH = 3.0  # eV, Auger lines are multiplets: much broader than photolines
VALENCE_BINDING = 30.0  # eV; shells bound less tightly are valence bands…
VALENCE_WIDTH = 3.0  # eV …and drawn this broad
DEFAULT_CORE_WIDTH = 0.3  # eV, where xraylib has no level width
MAX_WIDTH = 10.0  # eV


def _xraylib():
    import xraylib

    return xraylib


@functools.lru_cache(maxsize=None)
def element_symbols():
    xraylib = _xraylib()
    return tuple(xraylib.AtomicNumberToSymbol(z) for z in ATOMIC_NUMBERS)


def element_index(symbol):
    """Position of an element symbol among the 80 classes."""
    symbols = element_symbols()
    if symbol not in symbols:
        raise ValueError(f"Unknown element {symbol!r}; the classes are Li…Bi without Pm.")
    return symbols.index(symbol)


@dataclasses.dataclass(frozen=True)
class Line:
    """One photoelectron or Auger line of one element."""

    atomic_number: int
    name: str  # e.g. "1s"-style xraylib shell "K", "L3", or "KLL"
    binding_energy: float  # apparent binding energy at the photon energy, eV
    intensity: float  # relative, per atom (cross-section × yield)
    lorentzian_width: float  # FWHM, eV
    auger: bool = False


def _safe(function, *args):
    try:
        return function(*args)
    except ValueError:  # xraylib: no data for this element/shell
        return None


def _binding_energy(z, shell):
    xraylib = _xraylib()
    value = _safe(xraylib.EdgeEnergy, z, getattr(xraylib, f"{shell}_SHELL"))
    return None if value is None or value <= 0 else 1000.0 * value


LINE_ENERGIES = ("reference", "xraylib")


@functools.lru_cache(maxsize=None)
def photoemission_binding_energies():
    """{Z: {xraylib shell name: binding energy eV}} from the X-ray Data Booklet's Table 1-1 (Williams;
    photoemission values from Fuggle & Mårtensson and Cardona & Ley, Fermi-level referenced for
    solids), as shipped by the `roentgen` package. Read without importing roentgen (which loads astropy).
    """
    import csv
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("roentgen")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "electron_binding_energies.csv"
    table = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            table[int(row["atomic number"])] = {column.split()[0]: float(value) for column, value in row.items()
                                                if column not in ("atomic number", "element") and value.strip()}
    return table


@functools.lru_cache(maxsize=None)
def element_lines(z, photon_energy, max_binding_energy, energies="xraylib", auger_intensity="group",
                  valence_augers=False):
    """All photoelectron and main Auger lines of element `z` with 0 < BE ≤ max.

    Spin–orbit partners come out as separate subshells (L2/L3 = 2p1/2 / 2p3/2, …).
    Cross-sections are xraylib's subshell values at the photon energy, per atom.
    `energies="reference"` moves the photolines to solid-state handbook energies and uses
    measured Auger energies where known (`mlkit.xps.reference_lines`); "xraylib" keeps the
    absorption-edge energies and the Z+1 Auger estimate.
    `auger_intensity` (measured Auger tables only): "group" shares the intensity of every hole that
    ends in the group's decay among the table's features; "main_line" shares only the main line's
    share (AUGER_BRANCHING) of the initial-hole decays, as the Z+1 estimate does.
    `valence_augers` (measured Auger tables only) adds the features with a valence hole beside the
    main Auger line (`reference_lines.VALENCE_AUGERS`: Mg KL23V at BE ≈ 242 eV in MgO).
    """
    if energies not in LINE_ENERGIES:
        raise ValueError(f"`energies` must be one of {LINE_ENERGIES}, got {energies!r}.")
    if auger_intensity not in AUGER_INTENSITIES:
        raise ValueError(f"`auger_intensity` must be one of {AUGER_INTENSITIES}, got {auger_intensity!r}.")
    lines = _element_lines(z, photon_energy, max_binding_energy + 20.0)
    if energies == "reference":
        lines = _reference_lines(z, lines, photon_energy, auger_intensity, valence_augers)
    return tuple(line for line in lines if 0 < line.binding_energy <= max_binding_energy)


def _reference_lines(z, lines, photon_energy, auger_intensity="group", valence_augers=False):
    from mlkit.xps.reference_lines import AUGER_LINES, MAIN_LINES, SPIN_ORBIT_3P, VALENCE_AUGERS

    symbol = _xraylib().AtomicNumberToSymbol(z)
    shell, reference, _ = MAIN_LINES[symbol]
    # Each level sits at the photoemission spacing from the main line where the X-ray Data Booklet
    # gives one (Ni 3s 110.8 and 3p 66.2 eV under 2p3/2 852.7, where xraylib's edges put them at
    # 109.8 and 66.1 after the same offset, and the measured Ni 3s is at 111.1), else at xraylib's.
    booklet = photoemission_binding_energies().get(z, {})
    spacing_from = booklet if shell in booklet else {}
    edge_main = _binding_energy(z, shell)
    main = spacing_from.get(shell, edge_main)
    offset = 0.0 if main is None else reference - main
    rebase = (main or 0.0) - (edge_main or 0.0)  # a level the table lacks keeps xraylib's spacing

    def placed(line):
        energy = spacing_from.get(line.name, line.binding_energy + rebase)
        if line.name == "M2" and symbol in SPIN_ORBIT_3P:  # a 3p1/2 not resolved from 3p3/2 in the tables
            m3 = spacing_from.get("M3", _binding_energy(z, "M3"))
            if m3 is not None and energy <= m3:
                energy = m3 + SPIN_ORBIT_3P[symbol]
        return dataclasses.replace(line, binding_energy=energy + offset)

    moved = [line if line.auger else placed(line) for line in lines]
    if symbol not in AUGER_LINES:
        return moved
    table = AUGER_LINES[symbol]
    augers = [line for line in moved if line.auger]
    if not augers:
        return moved
    # The table's main feature replaces the Z+1 group closest to it. The table lists the whole
    # group, so it shares what every feeding hole gives, not the main line's share of the initial
    # holes: measured Ni LMM (640 eV) / Ni 2p3/2 on the Ni metal survey is 1.1, against 0.39 from
    # σ(L3)·(1−ω)·0.6 and 1.2 from (σ(L1)+σ(L2)+σ(L3))·(1−ω).
    main_binding = photon_energy - table[0][0]
    replaced = min(augers, key=lambda line: abs(line.binding_energy - main_binding))
    initial = {"KLL": "K", "LMM": "L3", "MNN": "M5"}[replaced.name]
    feeding = sum(_subshell_cross_section(z, shell, photon_energy) for shell in _FEEDING_SHELLS[replaced.name])
    group = replaced.intensity / AUGER_BRANCHING * feeding / _subshell_cross_section(z, initial, photon_energy)
    if auger_intensity == "main_line":
        group = replaced.intensity
    total = sum(weight for _, weight in table)
    if valence_augers and symbol in VALENCE_AUGERS:  # one more feature, scaled from the main one
        gain, share = VALENCE_AUGERS[symbol]
        table = [*table, (table[0][0] + gain, table[0][1] * share)]
    extra = [dataclasses.replace(replaced, binding_energy=photon_energy - kinetic, intensity=group * weight / total)
             for kinetic, weight in table]
    return [line for line in moved if line is not replaced] + extra


def _subshell_cross_section(z, shell, photon_energy):
    xraylib = _xraylib()
    value = _safe(xraylib.CS_Photo_Partial, z, getattr(xraylib, f"{shell}_SHELL"), photon_energy / 1000.0)
    return (value or 0.0) * xraylib.AtomicWeight(z)


def _element_lines(z, photon_energy, max_binding_energy):
    xraylib = _xraylib()
    energy_kev = photon_energy / 1000.0
    atomic_weight = xraylib.AtomicWeight(z)
    lines = []
    cross_sections = {}
    for shell in _SHELL_NAMES:
        binding = _binding_energy(z, shell)
        if binding is None or binding >= photon_energy:
            continue
        constant = getattr(xraylib, f"{shell}_SHELL")
        cross_section = _safe(xraylib.CS_Photo_Partial, z, constant, energy_kev)
        if not cross_section:
            continue
        cross_sections[shell] = cross_section * atomic_weight
        if binding > max_binding_energy:
            continue
        width = _safe(xraylib.AtomicLevelWidth, z, constant)
        if binding < VALENCE_BINDING:
            width = VALENCE_WIDTH
        elif width is None:
            width = DEFAULT_CORE_WIDTH
        else:
            width = min(1000.0 * width, MAX_WIDTH)
        lines.append(Line(z, shell, binding, cross_sections[shell], width))
    for initial, group, name in _AUGER_GROUPS:
        line = _auger_line(z, initial, group, name, cross_sections, photon_energy)
        if line is not None and line.binding_energy <= max_binding_energy:
            lines.append(line)
    return tuple(lines)


def _auger_line(z, initial, group, name, cross_sections, photon_energy):
    """X-Y-Y Auger line at KE ≈ E_X(Z) − E_Y(Z) − E_Y(Z+1) (the Z+1 rule for the final hole)."""
    if initial not in cross_sections or z >= 83:
        return None
    subshells = [f"{group}{i}" for i in range(_GROUP_SIZES[group], 0, -1)]  # largest j first
    final = next((s for s in subshells if _binding_energy(z, s) and _binding_energy(z + 1, s)), None)
    if final is None:
        return None
    kinetic = _binding_energy(z, initial) - _binding_energy(z, final) - _binding_energy(z + 1, final)
    if kinetic <= 0:
        return None
    xraylib = _xraylib()
    fluorescence = _safe(xraylib.FluorYield, z, getattr(xraylib, f"{initial}_SHELL")) or 0.0
    intensity = cross_sections[initial] * (1.0 - fluorescence) * AUGER_BRANCHING
    width = min(1000.0 * (_safe(xraylib.AtomicLevelWidth, z, getattr(xraylib, f"{initial}_SHELL")) or 0.0)
                + AUGER_EXTRA_WIDTH, MAX_WIDTH)
    return Line(z, name, photon_energy - kinetic, intensity, width, auger=True)


def cross_section(symbol, shell, photon_energy=PHOTON_ENERGIES["Al"]):
    """Per-atom subshell photoionisation cross-section (relative units)."""
    xraylib = _xraylib()
    z = xraylib.SymbolToAtomicNumber(symbol)
    return xraylib.CS_Photo_Partial(z, getattr(xraylib, f"{shell}_SHELL"), photon_energy / 1000.0) * xraylib.AtomicWeight(z)


def tpp2m_imfp(kinetic_energy, valence_electrons, density, molar_mass, band_gap=0.0):
    """Inelastic mean free path in Å from the TPP-2M formula (Tanuma, Powell, Penn 1994).

    λ = E / (Ep² [β ln(γE) − C/E + D/E²]), with Ep = 28.8 √(Nv ρ / M) the plasmon energy.
    """
    energy = np.asarray(kinetic_energy, dtype="float64")
    u = valence_electrons * density / molar_mass
    plasmon = 28.8 * np.sqrt(u)
    beta = -0.10 + 0.944 / np.sqrt(plasmon**2 + band_gap**2) + 0.069 * density**0.1
    gamma = 0.191 / np.sqrt(density)
    c = 1.97 - 0.91 * u
    d = 53.4 - 20.8 * u
    return energy / (plasmon**2 * (beta * np.log(gamma * energy) - c / energy + d / energy**2))


def pseudo_voigt_parameters(lorentzian_width, gaussian_width):
    """Total FWHM and Lorentzian fraction η of the Thompson–Cox–Hastings pseudo-Voigt."""
    fl, fg = np.asarray(lorentzian_width, "float64"), np.asarray(gaussian_width, "float64")
    total = (fg**5 + 2.69269 * fg**4 * fl + 2.42843 * fg**3 * fl**2
             + 4.47163 * fg**2 * fl**3 + 0.07842 * fg * fl**4 + fl**5) ** 0.2
    ratio = fl / total
    eta = 1.36603 * ratio - 0.47719 * ratio**2 + 0.11116 * ratio**3
    return total, eta


def pseudo_voigt_cdf(x, width, eta):
    """Cumulative pseudo-Voigt of unit area and FWHM `width`, centred at 0."""
    lorentz = 0.5 + np.arctan(2.0 * x / width) / np.pi
    gauss = 0.5 * (1.0 + special.erf(x * (2.0 * np.sqrt(np.log(2.0)) / width)))
    return eta * lorentz + (1.0 - eta) * gauss


def bin_edges(centres):
    """Edges of the bins around evenly spaced, ascending centres (half a step beyond each end)."""
    centres = np.asarray(centres, "float64")
    step = centres[1] - centres[0]
    return np.concatenate([[centres[0] - step / 2], (centres[:-1] + centres[1:]) / 2, [centres[-1] + step / 2]])


def binned_lines(bin_edges, centres, areas, lorentzian_widths, gaussian_width):
    """Sum of pseudo-Voigt lines integrated over each bin, divided by the bin width.

    Integrating over bins (instead of sampling the centre) keeps line areas exact
    even when a line is narrower than the grid step.
    """
    total, eta = pseudo_voigt_parameters(lorentzian_widths, gaussian_width)
    offsets = bin_edges[None, :] - np.asarray(centres, "float64")[:, None]
    cdf = pseudo_voigt_cdf(offsets, total[:, None], eta[:, None])
    per_bin = np.diff(cdf, axis=1) / np.diff(bin_edges)[None, :]
    return np.asarray(areas, "float64") @ per_bin


def tougaard_kernel(step, points):
    """λK(T) on T = 0, step, 2·step, … times the step: the loss per grid bin."""
    loss = np.arange(points) * step
    return TOUGAARD_B * loss / (TOUGAARD_C + loss**2) ** 2 * step
