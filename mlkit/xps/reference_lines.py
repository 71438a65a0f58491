"""Solid-state reference energies for the simulator (SPEC §4; issue: real surveys vs simulation).

xraylib's `EdgeEnergy` values are X-ray absorption edges, 1–4 eV from photoelectron binding
energies of solids (O 1s 532.0 vs 529–531 eV in oxides, Ni 2p3/2 854.7 vs 852.7 eV, W 4f7/2
35.8 vs 31.4 eV). Photoelectron handbooks give the energies XPS measures, so the simulator
moves every photoline of an element by (handbook − xraylib) of its main line, then draws a
chemical shift from that element's range of common chemical states.

`MAIN_LINES[symbol] = (xraylib shell, BE of the reference state in eV, (low, high) shift range)`.
Reference state: the element (metal, or the elemental solid); for O, N, F, Cl, Br, I, S, Se and C
the lowest common anion/carbide state, so their ranges run upwards through the common compounds.
Values: Handbook of X-ray Photoelectron Spectroscopy (Moulder et al., Perkin-Elmer 1992) and
the NIST XPS Database (SRD 20), rounded to 0.1 eV. These are facts about elements, not fitted to
any development file.

`SATELLITES[symbol] = (levels, offset eV, maximum share, width eV)`: shake-up satellites of the
transition-metal 2s/2p/3s/3p (and rare-earth 3d) lines whose share grows linearly over the element's
whole chemical-shift range (metal ≈ none, top of the range most): the simulator's `satellites="range"`.
`COMPOUND_SATELLITES[symbol] = (levels, compound shift eV, ((offset eV, share, width eV), ...))`:
`satellites="compound"` (the default): the share grows from the metal to the common compound's shift
(NiO, CuO +1.0 eV, CoO +1.9, MnO +2.2, Fe2O3 +4.0) and stays full above it. Real NiO sits only 1 eV
above the metal yet carries about half of its 2p, 3s and 3p intensity in a multiplet shoulder and
shake-up satellites (its 3p/3s tails at 70–78 and 114–122 eV, on Al 2p and 2s); the range ramp gave it
13 %.

`AUGER_LINES[symbol] = [(kinetic energy eV, relative intensity), ...]`: measured main Auger
features (handbook kinetic energies) that replace the Z+1 estimate where it is known to be off.
`AUGER_PARAMETER_SHIFTS` moves them further than the photolines in compounds (MgO's KLL 5.5 eV).
"""

MAIN_LINES = {
    "Li": ("K", 54.7, (-0.3, 2.0)), "Be": ("K", 111.8, (-0.5, 3.0)), "B": ("K", 187.5, (-1.0, 6.0)),
    "C": ("K", 282.5, (-0.5, 7.0)), "N": ("K", 397.0, (-0.5, 6.5)), "O": ("K", 529.5, (-0.5, 4.0)),
    "F": ("K", 684.5, (-0.5, 5.0)), "Ne": ("K", 862.5, (-0.5, 1.0)), "Na": ("K", 1071.8, (-0.5, 1.5)), "Mg": ("L3", 49.6, (-0.3, 2.0)),
    "Al": ("L3", 72.7, (-0.3, 2.5)), "Si": ("L3", 99.3, (-0.5, 4.5)), "P": ("L3", 129.5, (-0.5, 5.0)),
    "S": ("L3", 161.5, (-0.5, 8.0)), "Cl": ("L3", 198.5, (-0.5, 3.0)), "Ar": ("L3", 241.8, (-0.5, 1.0)), "K": ("L3", 292.8, (-0.5, 1.0)),
    "Ca": ("L3", 346.5, (-0.5, 1.5)), "Sc": ("L3", 398.4, (-0.5, 3.5)), "Ti": ("L3", 453.9, (-0.5, 5.0)),
    "V": ("L3", 512.2, (-0.5, 5.5)), "Cr": ("L3", 574.2, (-0.5, 5.5)), "Mn": ("L3", 638.7, (-0.5, 4.0)),
    "Fe": ("L3", 706.8, (-0.5, 4.5)), "Co": ("L3", 778.1, (-0.5, 3.5)), "Ni": ("L3", 852.7, (-0.5, 4.0)),
    "Cu": ("L3", 932.6, (-0.5, 2.5)), "Zn": ("L3", 1021.7, (-0.5, 1.5)), "Ga": ("L3", 1116.7, (-0.5, 2.5)),
    "Ge": ("M5", 29.2, (-0.5, 4.0)), "As": ("M5", 41.6, (-0.5, 5.0)), "Se": ("M5", 54.5, (-0.5, 5.0)),
    "Br": ("M5", 68.5, (-0.5, 2.0)), "Kr": ("M5", 87.0, (-0.5, 1.0)), "Rb": ("M5", 110.0, (-0.5, 1.5)), "Sr": ("M5", 133.0, (-0.5, 2.0)),
    "Y": ("M5", 155.8, (-0.5, 3.0)), "Zr": ("M5", 178.9, (-0.5, 3.5)), "Nb": ("M5", 202.2, (-0.5, 5.5)),
    "Mo": ("M5", 227.9, (-0.5, 5.0)), "Tc": ("M5", 253.9, (-0.5, 4.0)), "Ru": ("M5", 280.1, (-0.5, 2.5)),
    "Rh": ("M5", 307.2, (-0.5, 2.5)), "Pd": ("M5", 335.1, (-0.5, 3.0)), "Ag": ("M5", 368.2, (-1.0, 0.5)),
    "Cd": ("M5", 405.0, (-1.0, 1.0)), "In": ("M5", 443.9, (-0.5, 1.5)), "Sn": ("M5", 485.0, (-0.5, 2.5)),
    "Sb": ("M5", 528.2, (-0.5, 2.5)), "Te": ("M5", 573.0, (-0.5, 4.0)), "I": ("M5", 618.5, (-0.5, 5.0)),
    "Xe": ("M5", 669.5, (-0.5, 1.0)), "Cs": ("M5", 724.0, (-1.0, 1.5)), "Ba": ("M5", 780.0, (-1.5, 1.5)),
    "La": ("M5", 835.8, (-1.5, 1.5)), "Ce": ("M5", 883.8, (-1.5, 1.5)), "Pr": ("M5", 931.8, (-0.5, 2.5)),
    "Nd": ("M5", 980.8, (-0.5, 2.5)), "Sm": ("M5", 1080.0, (-0.5, 3.5)), "Eu": ("M5", 1125.5, (-0.5, 1.5)),
    "Gd": ("M5", 1185.6, (-0.5, 2.0)), "Tb": ("N5", 146.0, (-0.5, 3.0)), "Dy": ("N5", 152.4, (-0.5, 3.0)),
    "Ho": ("N5", 159.6, (-0.5, 3.0)), "Er": ("N5", 167.3, (-0.5, 3.0)), "Tm": ("N5", 175.5, (-0.5, 3.0)),
    "Yb": ("N5", 182.4, (-0.5, 3.0)), "Lu": ("N7", 7.1, (-0.5, 3.0)), "Hf": ("N7", 14.3, (-0.5, 3.0)),
    "Ta": ("N7", 21.9, (-0.5, 5.0)), "W": ("N7", 31.4, (-0.5, 5.0)), "Re": ("N7", 40.3, (-0.5, 6.0)),
    "Os": ("N7", 50.7, (-0.5, 3.0)), "Ir": ("N7", 60.9, (-0.5, 2.5)), "Pt": ("N7", 71.1, (-0.5, 3.5)),
    "Au": ("N7", 84.0, (-0.5, 2.5)), "Hg": ("N7", 99.9, (-0.5, 2.0)), "Tl": ("N7", 117.7, (-0.5, 2.0)),
    "Pb": ("N7", 136.9, (-0.5, 2.5)), "Bi": ("N7", 156.9, (-0.5, 3.0)),
}

# Levels whose lines carry shake-up satellites: (levels, offset above the line, share at the top of
# the shift range, satellite FWHM), all in eV. The 3d metals' 3s and 3p carry them as their 2p does
# (NiO 3p/3s satellites sit at 72-74 and 116-118 eV, on Al 2p and 2s: leaving them out taught the
# network to read them as Al).
TRANSITION_METAL_LEVELS = ("L1", "L2", "L3", "M1", "M2", "M3")
RARE_EARTH_LEVELS = ("M4", "M5")
SATELLITES = {
    "Mn": (TRANSITION_METAL_LEVELS, 6.0, 0.15, 4.0), "Fe": (TRANSITION_METAL_LEVELS, 8.0, 0.20, 4.0),
    "Co": (TRANSITION_METAL_LEVELS, 6.0, 0.30, 4.0), "Ni": (TRANSITION_METAL_LEVELS, 6.5, 0.40, 4.0),
    "Cu": (TRANSITION_METAL_LEVELS, 9.0, 0.35, 4.0), "La": (RARE_EARTH_LEVELS, 4.0, 0.45, 3.0),
    "Ce": (RARE_EARTH_LEVELS, 6.5, 0.35, 4.0),
}
# Shifts of the common compounds' main lines above the metal's (Moulder; NIST SRD 20). La and Ce: their
# oxides are the common state, so the top of the range.
COMPOUND_SHIFTS = {"Mn": 2.2, "Fe": 4.0, "Co": 1.9, "Ni": 1.0, "Cu": 1.0, "La": 1.5, "Ce": 1.5}
# Each element's satellite of SATELLITES, full from its compound's shift; Ni instead gets NiO's
# nonlocal-screening shoulder (+1.5 eV, 38 %) and its shake-up satellite (+6.8 eV, 30 %), fitted to the NiO
# reference survey's 2p, 3s and 3p regions together (survey resolution, the recipe's backgrounds); the
# pattern of Biesinger et al.'s NiO 2p3/2 fit (2011: 853.7, 855.4, 860.9 eV).
COMPOUND_SATELLITES = {symbol: (levels, COMPOUND_SHIFTS[symbol], ((offset, share, width),))
                       for symbol, (levels, offset, share, width) in SATELLITES.items()}
COMPOUND_SATELLITES["Ni"] = (TRANSITION_METAL_LEVELS, COMPOUND_SHIFTS["Ni"], ((1.5, 0.38, 3.5), (6.8, 0.30, 3.5)))
SATELLITE_MODELS = ("compound", "range")
# The metal's own loss features (`XPSSimulator(metal_satellites=True)`): (levels, compound shift,
# ((offset, share, width), ...)), full for the element and fading to none at the compound's shift. Ni
# metal's 2p shows features 3.7 eV (its asymmetric tail and inter-band losses) and 6.0 eV (a surface
# plasmon; Grosvenor et al., Surf. Sci. 600 (2006) 1771) above each line. Their shares, fitted to the
# Ni metal reference survey's 2p region (Voigt lines, Gaussian features, Shirley-like background):
# 10 and 14 % of the line; with none, the simulated metal's 2p was one symmetric line, and two networks
# trained on it read the real metal's extra intensity as Co (8.5 and 7.8 at.%).
METAL_SATELLITES = {"Ni": (TRANSITION_METAL_LEVELS, COMPOUND_SHIFTS["Ni"], ((3.7, 0.10, 2.5), (6.0, 0.14, 3.0)))}

# 3p spin-orbit splittings (3p1/2 − 3p3/2, eV) of the 3d metals. xraylib puts M2 and M3 at the same
# edge energy for Z ≤ 30, so the simulated 3p was one narrow line (Ni 3p FWHM 2.2 eV against 4.3
# measured on the Ni and NiO surveys). Fe→Zn: the atomic-structure values of 1.6→3.1 eV (Zn measured
# 2.8 in ZnS; unresolved 3p FWHMs measured on the metals: Fe 2.3, Co 2.5, Ni 3.4, Cu 4.2 eV);
# Sc→Mn continue the trend downwards (below 1.3 eV the doublet hides in the survey resolution).
SPIN_ORBIT_3P = {"Sc": 0.4, "Ti": 0.6, "V": 0.8, "Cr": 1.0, "Mn": 1.3, "Fe": 1.6, "Co": 2.0, "Ni": 2.3,
                 "Cu": 2.7, "Zn": 3.1}

# Main Auger features, kinetic energy (eV) and relative intensity within the element's group.
AUGER_LINES = {
    "C": [(263.0, 1.0)], "N": [(379.0, 1.0)], "O": [(510.0, 1.0), (490.0, 0.4)], "F": [(656.0, 1.0)],
    # Mg and Na KLL: the KL23L23 (1D) line with the weaker KL1L23 and KL1L1 groups 46/78 (Mg) and
    # 36/65 eV (Na; E_K − E_L1 − E_L23 − U with Mg's U) below it (Handbook of XPS Mg and Na spectra).
    "Na": [(990.0, 1.0), (954.0, 0.25), (925.0, 0.07)], "Mg": [(1186.0, 1.0), (1140.0, 0.25), (1108.0, 0.07)], "Ti": [(418.0, 1.0), (383.0, 0.5)],
    "V": [(473.0, 1.0), (437.0, 0.5)], "Cr": [(529.0, 1.0), (489.0, 0.5)], "Mn": [(589.0, 1.0), (543.0, 0.5)],
    "Fe": [(703.0, 1.0), (651.0, 0.6), (598.0, 0.3)], "Co": [(775.0, 1.0), (716.0, 0.6), (656.0, 0.3)],
    "Ni": [(846.0, 1.0), (775.0, 0.6), (709.0, 0.3)], "Cu": [(918.6, 1.0), (840.0, 0.5), (775.0, 0.2)],
    "Zn": [(992.0, 1.0), (904.0, 0.4)], "Ga": [(1068.0, 1.0)], "Ge": [(1145.0, 1.0)],
    "Ag": [(357.8, 1.0), (351.8, 0.7)], "Cd": [(382.0, 1.0), (376.0, 0.7)], "In": [(410.0, 1.0), (402.0, 0.7)],
    "Sn": [(437.0, 1.0), (429.0, 0.7)], "Sb": [(464.0, 1.0), (455.0, 0.7)], "Te": [(491.0, 1.0), (482.0, 0.7)],
    "I": [(520.0, 1.0), (509.0, 0.7)], "Cs": [(563.0, 1.0), (550.0, 0.7)], "Ba": [(600.0, 1.0), (585.0, 0.7)],
    "Pd": [(327.0, 1.0), (322.0, 0.7)],
}

# Auger features with a valence hole beside an element's main Auger line (the first of its
# `AUGER_LINES`): (kinetic energy above it eV, area relative to it). Mg-rich samples show "Mg Auger
# structure at ~242 eV" that most line libraries lack (Biesinger, xpsfitting.com): the KL23V
# transition, with one valence hole instead of a second 2p hole. Measured on the two Mg-bearing
# development surveys (Gaussian over a linear background, both lines): 62.4 eV above KL23L23 and 3.4 %
# of its area on MgFe2O4, 63.5 eV and 4.0 % on the Al foil (1 at.% Mg). Without it the 48-epoch
# network read this feature on MgFe2O4 as Ar 2p (Ar 3.7 at.%). Moves with the Auger parameter.
VALENCE_AUGERS = {"Mg": (63.0, 0.037)}

# Auger-parameter changes from the element to its common compound: (photoline shift of that
# compound eV, drop of the modified Auger parameter α' = BE + KE eV). Auger lines move by far more
# than photolines: MgO's Mg 2p sits 1.2 eV above the metal's but its KLL 5.5 eV lower in kinetic
# energy (at BE 306 instead of 300.6 eV). Without this the simulator's KLL of every Mg oxide stayed
# at the metal's place. Values: α' of metal and compound from the NIST XPS database (SRD 20) and
# Moretti, J. Electron Spectrosc. 95 (1998) 95, rounded to 0.1 eV. The drop is applied in
# proportion to how far a drawn photoline shift goes towards the compound's (clipped to 0…1).
# Fe goes the other way: Fe2O3's α' is 4.2 eV above the metal's, so its LMM stays at the metal's
# kinetic energy while Fe 2p moves 4 eV.
AUGER_PARAMETER_SHIFTS = {
    "Mg": (1.2, 4.2), "Ni": (1.0, 1.8), "Fe": (4.0, -4.2), "Zn": (0.3, 3.7), "Ga": (1.3, 4.4), "Ge": (3.3, 2.9),
    "Ag": (-0.5, 1.6), "In": (0.7, 3.1), "Sn": (1.6, 2.8),
}

# Lorentzian FWHM (eV) of the LMM features of the 3d metals Sc–Ni, from the element (lowest shift
# level) to the oxide (highest), used with `auger_widths=True`: their L3VV lines are band-like, about
# 6 eV wide in the metals and twice that in the oxides (Handbook of XPS), where the default gives
# every Auger feature the initial level's width + 3 eV (Ni LMM 3.4 eV; the Ni survey shows about 8,
# the NiO one about 15). Cu and Zn keep their narrow atomic-like L3M45M45 lines.
AUGER_WIDTHS = {symbol: (6.0, 12.0) for symbol in ("Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni")}

# Kα3,4 satellites of non-monochromatised sources: (photon-energy excess eV, relative intensity)
# (Krause & Ferreira 1975; Klauber 1993). They appear at *lower* apparent binding energy.
XRAY_SATELLITES = {
    "Al": ((9.8, 0.064), (11.8, 0.032)),
    "Mg": ((8.4, 0.080), (10.1, 0.041)),
}

# Bulk plasmon energies ħω_p (eV) of the free-electron-like solids whose plasmon losses show as
# distinct replicas of every line (Egerton; Handbook of XPS). Each replica takes PLASMON_SHARE of
# its line's no-loss intensity, the second one that share squared.
PLASMONS = {"Na": 5.7, "Mg": 10.6, "Al": 15.3, "Si": 16.7, "K": 3.7, "Be": 18.9, "Li": 7.1, "Ga": 13.8,
            "Ge": 16.0, "In": 11.4, "Sn": 14.0, "Pb": 13.0, "Bi": 14.0, "Sb": 15.0}
PLASMON_SHARE = 0.25
PLASMON_WIDTH = 3.0  # eV
