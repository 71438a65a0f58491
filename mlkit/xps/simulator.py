"""A vectorised XPS survey-spectrum simulator (SPEC §4), open replacement for NIST SESSA.

Forward model of one spectrum on a binding-energy grid E (kinetic energy KE = hν − E):

1. No-loss substrate signal: for each element e with atomic fraction x_e, every line
   l of e (photolines and main Auger lines, `physics.element_lines`) as a bin-integrated
   pseudo-Voigt (Lorentzian core-hole width ⊗ Gaussian resolution), area
   x_e · σ_l · λ_sub(KE_l) — homogeneous semi-infinite sample, intensity ∝ fraction ×
   cross-section × IMFP.
2. Adventitious-carbon overlayer of thickness d: substrate × exp(−d / (λ_C(KE) cos θ)),
   plus the overlayer's own carbon lines with area ∝ σ · λ_C(KE) · (1 − exp(−d / (λ_C cos θ))),
   its C 1s at 284.8 eV (adventitious carbon, the usual charge reference).
   IMFPs from TPP-2M (`physics.tpp2m_imfp`): λ_C for carbon (ρ = 1.8 g/cm³), λ_sub for a
   generic SiO₂-like matrix; only its KE dependence matters for relative intensities.
3. Inelastic background: Tougaard's universal cross-section λK(T) = B·T/(C+T²)² with
   multiple scattering, J = F + λK ⊛ J, solved exactly in Fourier space (J = F / (1 − λK̂)).
   Chosen over a Shirley step because it is a physical forward model (Shirley is a fit recipe).
   B is scaled per spectrum (`background_scale_range`) as augmentation.
4. Global charging shift, analyser transmission T(KE) = KE^(−transmission_exponent)
   (fixed analyser transmission mode), Poisson counting noise at a random total count,
   normalisation.

Speed: the line shapes of step 1 depend only on (element, resolution, chemical shift), so
they are precomputed once as a template bank on a few quantised resolutions and shifts;
a spectrum is then a gather-and-sum of ≤ 5 templates, one `exp` for the overlayer and one
FFT pair for the background. Drawn resolutions and shifts are rounded to the bank's levels.
"""

import dataclasses
import functools

import numpy as np
from scipy import fft

from mlkit.xps import physics
from mlkit.xps.preparation import ADVENTITIOUS_C1S, UNMEASURED
from mlkit.xps.reference_lines import COMPOUND_SATELLITES, SATELLITE_MODELS, SATELLITES

ADVENTITIOUS_CARBON = {"valence_electrons": 4, "density": 1.8, "molar_mass": 12.011, "band_gap": 0.0}
GENERIC_MATRIX = {"valence_electrons": 16, "density": 2.2, "molar_mass": 60.08, "band_gap": 9.0}
NORMALIZATIONS = ("max", "area", "none")
EXTRA_BACKGROUND_LENGTHS = (20.0, 200.0)  # eV, τ of the extra loss background
# The instrument and background nuisances a network can be asked to read (`XPSSimulator.nuisance_targets`)
NUISANCES = ("transmission_exponent", "background_scale", "extra_background", "extra_background_length",
             "charging_shift")
ADVENTITIOUS_O1S = 532.3  # eV, C–O and C=O of adventitious carbon


@dataclasses.dataclass
class SpectrumParameters:
    """Everything drawn at random for a batch of n spectra (arrays of length n, or n × k)."""

    element_indices: np.ndarray  # (n, k) int, into physics.ATOMIC_NUMBERS
    element_fractions: np.ndarray  # (n, k) atomic fractions; zero pads rows with < k elements
    shift_levels: np.ndarray  # (n, k) int, chemical shift level per element
    resolution_levels: np.ndarray  # (n,) int
    thickness: np.ndarray  # (n,) Å
    charging_shift: np.ndarray  # (n,) eV
    background_scale: np.ndarray  # (n,)
    total_counts: np.ndarray  # (n,)
    substrate_scale: np.ndarray = None  # (n,) 1 = on; 0 renders the overlayer alone
    overlayer_scale: np.ndarray = None  # (n,) 1 = on; 0 renders the substrate alone
    measured_low: np.ndarray = None  # (n,) eV; bins below were not measured (−inf: all measured)
    measured_high: np.ndarray = None  # (n,) eV; bins above were not measured
    transmission_exponent: np.ndarray = None  # (n,); None: the simulator's fixed exponent
    extra_background: np.ndarray = None  # (n,) k of the extra loss background; None: none
    extra_background_length: np.ndarray = None  # (n,) its decay length τ, eV

    def __post_init__(self):
        n = len(self.thickness)
        if self.substrate_scale is None:
            self.substrate_scale = np.ones(n)
        if self.overlayer_scale is None:
            self.overlayer_scale = np.ones(n)
        if self.measured_low is None:
            self.measured_low = np.full(n, -np.inf)
        if self.measured_high is None:
            self.measured_high = np.full(n, np.inf)

    def __len__(self):
        return len(self.thickness)

    def select(self, rows):
        """The parameters of the spectra `rows` (a slice or index array) picks."""
        return _slice(self, rows)

    def fractions(self, n_classes=len(physics.ATOMIC_NUMBERS)):
        """Dense (n, 80) atomic-fraction labels."""
        dense = np.zeros((len(self), n_classes), "float32")
        np.add.at(dense, (np.arange(len(self))[:, None], self.element_indices), self.element_fractions)
        return dense


class XPSSimulator:
    """Survey spectra of random samples: 1–5 elements, Dirichlet fractions, C overlayer.

    Args:
        source: "Al" (Kα 1486.6 eV) or "Mg" (Kα 1253.6 eV).
        energy_range: binding-energy window (low, high) in eV.
        points: grid points in the window.
        resolution_range: Gaussian instrument FWHM, eV, drawn uniformly per spectrum…
        resolution_levels: …and rounded to this many levels of the template bank.
        chemical_shift_sigma / chemical_shift_max: per-element shift ~ N(0, σ) clipped
            to ±max eV, rounded to `shift_levels` levels.
        charging_shift_max: global shift ~ U(−max, max) eV.
        thickness_range: overlayer thickness d ~ U(low, high), Å.
        max_elements: 1…max elements per sample, fractions ~ Dirichlet(1).
        counts_range: total counts ~ log-uniform; Poisson noise if `noise`.
        background_scale_range: Tougaard B multiplied by U(low, high); keep high < 1/0.87.
        emission_angle: photoelectron take-off angle from the surface normal, degrees.
        transmission_exponent: analyser transmission ∝ KE^(−exponent)…
        transmission_exponent_range: …or, if given, an exponent drawn per spectrum from (low, high)
            (lens modes differ: roughly KE^−0.5 to KE^−1, and files arrive corrected or not).
        normalization: "max" (peak = 1), "area" (mean = 1) or "none" (counts).
        overlayer_density_ratio: overlayer/substrate atomic density.
        truncation_probability: share of spectra whose scan starts above the window's low end
            (uniformly up to `truncation_low_max`) and, independently with the same probability,
            ends below its high end (down to `truncation_high_min`). Unmeasured bins are set to
            `preparation.UNMEASURED`, so a model learns to answer scans of any window that
            covers `truncation_low_max`–`truncation_high_min` (the `required_window`).
        line_energies: "reference" puts photolines at solid-state handbook energies with each
            element's chemical-shift range and measured Auger energies (`reference_lines`);
            "xraylib" keeps absorption-edge energies and symmetric shifts (`chemical_shift_sigma`,
            `chemical_shift_max`, used only then).
        satellites: shake-up satellites (and NiO's multiplet shoulder) of transition-metal 2s/2p/3s/3p
            and La/Ce 3d lines; "reference" energies only. "compound": none for the metal, full from
            the common compound's shift up (NiO +1.0 eV: half of its Ni lines' intensity;
            `reference_lines.COMPOUND_SATELLITES`); "range": growing over the element's whole shift
            range (NiO 13 %; True means this, as in configs saved before "compound"); False: none.
        extra_background_range: an additional loss background k · (J ⊛ e^(−T/τ)/τ), k ~ U(low, high)
            and τ ~ U(20, 200) eV per spectrum: real backgrounds are 3–4× the universal Tougaard
            one per unit peak area (intrinsic losses, shake-off, deeper-lying sources).
        overlayer_oxygen_ratio: O atoms per C atom in the adventitious overlayer (Drera et al.
            use 0.2), its O 1s at 532.3 eV; like the carbon, not part of the composition labels.
        xray_satellites: Kα3,4 replicas of every photoline at 9.8/11.8 eV (Al) or 8.4/10.1 eV (Mg)
            lower binding energy, 6.4/3.2 % (Al) of the line: non-monochromatised sources.
        plasmons: bulk-plasmon loss replicas (one and two plasmons) of every line of the
            free-electron-like solids (Na, Mg, Al, Si, …; `reference_lines.PLASMONS`), full for the
            element and fading to none at the top of its chemical-shift range (the compound).
        auger_intensity: "group" (measured Auger features share the intensity of every hole that
            decays into their group, Coster–Kronig transfers included: Ni LMM / Ni 2p3/2 1.2, measured
            1.1 on the Ni metal survey) or "main_line" (the main line's 60 % share of the initial
            holes only: 0.39); "reference" energies only.
        auger_shifts: Auger lines move with the drawn chemical shift by more than the photolines do,
            by the change of the Auger parameter towards the element's common compound
            (`reference_lines.AUGER_PARAMETER_SHIFTS`: MgO's KLL at BE 306 eV, the metal's at 300.6);
            off: Auger lines move with the photolines. "reference" energies only.
        auger_widths: the band-like LMM features of Sc–Ni 6 eV wide for the element growing to 12 eV
            for the oxide (`reference_lines.AUGER_WIDTHS`); off: the initial level's width + 3 eV.
        valence_augers: Auger features with a valence hole beside the main Auger line
            (`reference_lines.VALENCE_AUGERS`: Mg KL23V, 63 eV above KL23L23 in kinetic energy, BE ≈
            242 eV in MgO, 3.7 % of its area), which real Mg-rich surveys show and line libraries lack.
        metal_satellites: the loss features of the metal's own 2s/2p/3s/3p lines, full for the element
            and fading to none at its compound's shift (`reference_lines.METAL_SATELLITES`: Ni metal's
            +3.7 and +6.0 eV features, 10 and 14 % of the line), which `satellites` leaves out.
        excluded_elements: never drawn (e.g. radioactive Tc); the classes stay 80.
        oxygen_probability: share of samples that contain O whatever else is drawn (most real
            surfaces are oxidised).
    """

    def __init__(
        self,
        source="Al",
        energy_range=(0.0, 1200.0),
        points=2000,
        resolution_range=(0.5, 2.0),
        resolution_levels=8,
        chemical_shift_sigma=0.3,
        chemical_shift_max=1.0,
        shift_levels=9,
        charging_shift_max=2.0,
        thickness_range=(0.0, 40.0),
        max_elements=5,
        counts_range=(1e5, 1e7),
        noise=True,
        background_scale_range=(0.5, 1.0),
        emission_angle=0.0,
        transmission_exponent=0.5,
        normalization="max",
        overlayer_density_ratio=1.0,
        truncation_probability=0.0,
        truncation_low_max=30.0,
        truncation_high_min=1000.0,
        line_energies="reference",
        auger_intensity="group",
        satellites="compound",
        transmission_exponent_range=None,
        extra_background_range=(0.0, 0.0),
        overlayer_oxygen_ratio=0.0,
        excluded_elements=(),
        oxygen_probability=0.0,
        xray_satellites=False,
        plasmons=False,
        auger_shifts=True,
        auger_widths=False,
        valence_augers=True,
        metal_satellites=True,
    ):
        if source not in physics.PHOTON_ENERGIES:
            raise ValueError(f"`source` must be one of {sorted(physics.PHOTON_ENERGIES)}, got {source!r}.")
        low, high = _check_range("energy_range", energy_range, minimum=0.0)
        self.photon_energy = physics.PHOTON_ENERGIES[source]
        if high >= self.photon_energy:
            raise ValueError(f"`energy_range` must end below the photon energy {self.photon_energy} eV.")
        if int(points) != points or points < 16:
            raise ValueError(f"`points` must be an integer ≥ 16, got {points!r}.")
        _check_range("resolution_range", resolution_range, minimum=1e-3)
        _check_range("thickness_range", thickness_range, minimum=0.0)
        _check_range("counts_range", counts_range, minimum=1.0)
        _check_range("background_scale_range", background_scale_range, minimum=0.0)
        if background_scale_range[1] * physics.TOUGAARD_B / (2 * physics.TOUGAARD_C) >= 1.0:
            raise ValueError("`background_scale_range` high must stay below 1/0.872 (the loss series diverges).")
        for name, value in (("resolution_levels", resolution_levels), ("shift_levels", shift_levels),
                            ("max_elements", max_elements)):
            if int(value) != value or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
        if max_elements > len(physics.ATOMIC_NUMBERS):
            raise ValueError(f"`max_elements` must be at most {len(physics.ATOMIC_NUMBERS)}.")
        if not 0.0 <= emission_angle < 90.0:
            raise ValueError(f"`emission_angle` must be in [0, 90) degrees, got {emission_angle!r}.")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"`normalization` must be one of {NORMALIZATIONS}, got {normalization!r}.")
        for name, value in (("chemical_shift_sigma", chemical_shift_sigma), ("chemical_shift_max", chemical_shift_max),
                            ("charging_shift_max", charging_shift_max), ("overlayer_density_ratio", overlayer_density_ratio)):
            if not value >= 0:
                raise ValueError(f"`{name}` must be non-negative, got {value!r}.")
        if not 0.0 <= truncation_probability <= 1.0:
            raise ValueError(f"`truncation_probability` must be in [0, 1], got {truncation_probability!r}.")
        if truncation_probability > 0 and not low <= truncation_low_max < truncation_high_min <= high:
            raise ValueError(f"need energy_range[0] ≤ truncation_low_max < truncation_high_min ≤ energy_range[1], "
                             f"got {truncation_low_max!r} and {truncation_high_min!r} in {energy_range!r}.")
        if line_energies not in physics.LINE_ENERGIES:
            raise ValueError(f"`line_energies` must be one of {physics.LINE_ENERGIES}, got {line_energies!r}.")
        if auger_intensity not in physics.AUGER_INTENSITIES:
            raise ValueError(f"`auger_intensity` must be one of {physics.AUGER_INTENSITIES}, got {auger_intensity!r}.")
        if transmission_exponent_range is not None:
            transmission_exponent_range = tuple(float(v) for v in _check_range(
                "transmission_exponent_range", transmission_exponent_range, minimum=-2.0))
        _check_range("extra_background_range", extra_background_range, minimum=0.0)
        symbols = physics.element_symbols()
        excluded = tuple(str(symbol) for symbol in excluded_elements)
        unknown = [symbol for symbol in excluded if symbol not in symbols]
        if unknown or len(excluded) > len(symbols) - max_elements:
            raise ValueError(f"`excluded_elements` must name at most {len(symbols) - max_elements} of the 80 "
                             f"element classes, got {list(excluded_elements)!r}.")
        if not 0.0 <= oxygen_probability <= 1.0 or "O" in excluded and oxygen_probability > 0:
            raise ValueError(f"`oxygen_probability` must be in [0, 1] (and O not excluded), got {oxygen_probability!r}.")
        if not overlayer_oxygen_ratio >= 0:
            raise ValueError(f"`overlayer_oxygen_ratio` must be non-negative, got {overlayer_oxygen_ratio!r}.")
        self.line_energies = line_energies
        self.auger_intensity = auger_intensity
        if satellites is True:  # the setting's meaning before "compound" existed
            satellites = "range"
        if satellites not in (False, None, *SATELLITE_MODELS):
            raise ValueError(f"`satellites` must be one of {SATELLITE_MODELS} or False, got {satellites!r}.")
        self.satellites = satellites or False
        self.transmission_exponent_range = transmission_exponent_range
        self.extra_background_range = tuple(float(v) for v in extra_background_range)
        self.overlayer_oxygen_ratio = float(overlayer_oxygen_ratio)
        self.xray_satellites = bool(xray_satellites)
        self.plasmons = bool(plasmons)
        self.auger_shifts = bool(auger_shifts)
        self.auger_widths = bool(auger_widths)
        self.valence_augers = bool(valence_augers)
        self.metal_satellites = bool(metal_satellites)
        self.excluded_elements = excluded
        self.oxygen_probability = float(oxygen_probability)
        self.truncation_probability = float(truncation_probability)
        self.truncation_low_max = float(truncation_low_max)
        self.truncation_high_min = float(truncation_high_min)
        self.source = source
        self.energy_range = (float(low), float(high))
        self.points = int(points)
        self.resolution_range = tuple(float(v) for v in resolution_range)
        self.resolution_levels = int(resolution_levels)
        self.chemical_shift_sigma = float(chemical_shift_sigma)
        self.chemical_shift_max = float(chemical_shift_max)
        self.shift_levels = int(shift_levels)
        self.charging_shift_max = float(charging_shift_max)
        self.thickness_range = tuple(float(v) for v in thickness_range)
        self.max_elements = int(max_elements)
        self.counts_range = tuple(float(v) for v in counts_range)
        self.noise = bool(noise)
        self.background_scale_range = tuple(float(v) for v in background_scale_range)
        self.emission_angle = float(emission_angle)
        self.transmission_exponent = float(transmission_exponent)
        self.normalization = normalization
        self.overlayer_density_ratio = float(overlayer_density_ratio)

    # -- configuration -----------------------------------------------------------------
    def get_config(self):
        return {
            "source": self.source,
            "energy_range": list(self.energy_range),
            "points": self.points,
            "resolution_range": list(self.resolution_range),
            "resolution_levels": self.resolution_levels,
            "chemical_shift_sigma": self.chemical_shift_sigma,
            "chemical_shift_max": self.chemical_shift_max,
            "shift_levels": self.shift_levels,
            "charging_shift_max": self.charging_shift_max,
            "thickness_range": list(self.thickness_range),
            "max_elements": self.max_elements,
            "counts_range": list(self.counts_range),
            "noise": self.noise,
            "background_scale_range": list(self.background_scale_range),
            "emission_angle": self.emission_angle,
            "transmission_exponent": self.transmission_exponent,
            "normalization": self.normalization,
            "overlayer_density_ratio": self.overlayer_density_ratio,
            "truncation_probability": self.truncation_probability,
            "truncation_low_max": self.truncation_low_max,
            "truncation_high_min": self.truncation_high_min,
            "line_energies": self.line_energies,
            "auger_intensity": self.auger_intensity,
            "satellites": self.satellites,
            "transmission_exponent_range": (None if self.transmission_exponent_range is None
                                            else list(self.transmission_exponent_range)),
            "extra_background_range": list(self.extra_background_range),
            "overlayer_oxygen_ratio": self.overlayer_oxygen_ratio,
            "excluded_elements": list(self.excluded_elements),
            "oxygen_probability": self.oxygen_probability,
            "xray_satellites": self.xray_satellites,
            "plasmons": self.plasmons,
            "auger_shifts": self.auger_shifts,
            "auger_widths": self.auger_widths,
            "valence_augers": self.valence_augers,
            "metal_satellites": self.metal_satellites,
        }

    @property
    def required_window(self):
        """The binding energies a measured survey must cover (what training always contained)."""
        if self.truncation_probability == 0:
            return self.energy_range
        return (self.truncation_low_max, self.truncation_high_min)

    @classmethod
    def from_config(cls, config):
        # Exports from before `auger_shifts` were trained with Auger lines moving as photolines do,
        # those from before `valence_augers` and `metal_satellites` without those features.
        return cls(**{"auger_shifts": False, "valence_augers": False, "metal_satellites": False, **config})

    @property
    def binding_energy(self):
        """The grid: bin centres in eV, ascending."""
        return np.linspace(*self.energy_range, self.points)

    @property
    def step(self):
        return (self.energy_range[1] - self.energy_range[0]) / (self.points - 1)

    @property
    def resolutions(self):
        return np.linspace(*self.resolution_range, self.resolution_levels)

    @property
    def chemical_shifts(self):
        if self.shift_levels == 1:
            return np.zeros(1)
        return np.linspace(-self.chemical_shift_max, self.chemical_shift_max, self.shift_levels)

    @property
    def element_symbols(self):
        return physics.element_symbols()

    # -- precomputed physics ----------------------------------------------------------
    @functools.cached_property
    def _kinetic_energy(self):
        return np.maximum(self.photon_energy - self.binding_energy, 1.0)

    @functools.cached_property
    def _overlayer_inverse_length(self):
        """1 / (λ_C(KE) cos θ) per grid point: attenuation exp(−d · this)."""
        imfp = physics.tpp2m_imfp(self._kinetic_energy, **ADVENTITIOUS_CARBON)
        return (1.0 / (imfp * np.cos(np.radians(self.emission_angle)))).astype("float32")

    @functools.cached_property
    def _transmission(self):
        return (self._kinetic_energy ** -self.transmission_exponent).astype("float32")

    @functools.cached_property
    def _loss_response(self):
        """rfft of the Tougaard kernel on a zero-padded grid (no wrap-around)."""
        size = fft.next_fast_len(2 * self.points)
        return fft.rfft(physics.tougaard_kernel(self.step, self.points), n=size).astype("complex64"), size

    def element_shifts(self, e):
        """The chemical shifts (eV) of the template bank's levels for element class e."""
        if self.line_energies == "xraylib":
            return self.chemical_shifts
        if self.shift_levels == 1:
            return np.zeros(1)
        from mlkit.xps.reference_lines import MAIN_LINES

        low, high = MAIN_LINES[physics.element_symbols()[e]][2]
        return np.linspace(low, high, self.shift_levels)

    def _bank(self, lines_of, imfp_parameters, shifts_of):
        """Templates (resolution, shift, element, point) for functions element → lines, class → shifts."""
        from mlkit.xps.reference_lines import (AUGER_PARAMETER_SHIFTS, AUGER_WIDTHS, METAL_SATELLITES, PLASMON_SHARE,
                                               PLASMON_WIDTH, PLASMONS, XRAY_SATELLITES)

        edges = physics.bin_edges(self.binding_energy)
        bank = np.zeros((self.resolution_levels, self.shift_levels, len(physics.ATOMIC_NUMBERS), self.points),
                        "float32")
        symbols = physics.element_symbols()
        for e, z in enumerate(physics.ATOMIC_NUMBERS):
            lines = lines_of(z)
            if not lines:
                continue
            binding = np.array([line.binding_energy for line in lines])
            imfp = physics.tpp2m_imfp(self.photon_energy - binding, **imfp_parameters)
            areas = np.array([line.intensity for line in lines]) * imfp
            widths = np.array([line.lorentzian_width for line in lines])
            satellite = self._satellites(symbols[e])
            metal_satellite = (METAL_SATELLITES.get(symbols[e])
                               if self.metal_satellites and self.line_energies == "reference" else None)
            auger = np.array([line.auger for line in lines])
            parameter_shift = (AUGER_PARAMETER_SHIFTS.get(symbols[e])
                               if self.auger_shifts and self.line_energies == "reference" else None)
            auger_width = (AUGER_WIDTHS.get(symbols[e])
                           if self.auger_widths and self.line_energies == "reference" else None)
            shifts = shifts_of(e)
            for s, shift in enumerate(shifts):
                centres, line_areas, line_widths = binding + shift, areas, widths
                toward_compound = s / (len(shifts) - 1) if len(shifts) > 1 else 0.5  # level 0: the element
                if parameter_shift is not None:  # α' falls towards the compound: Auger KE drops further
                    compound_shift, drop = parameter_shift
                    centres = centres + auger * drop * float(np.clip(shift / compound_shift, 0.0, 1.0))
                if auger_width is not None:  # band-like LMM: broader from the metal to the oxide
                    metal, oxide = auger_width
                    line_widths = np.where(auger, metal + (oxide - metal) * toward_compound, widths)
                groups = []  # (levels, components, share factor): taken from each carrying line
                if satellite is not None:  # shares grow from the metal to the compound (or the range's top)
                    levels, compound_shift, components = satellite
                    groups.append((levels, components, toward_compound if compound_shift is None
                                   else float(np.clip(shift / compound_shift, 0.0, 1.0))))
                if metal_satellite is not None:  # the metal's: fading to none at the compound's shift
                    levels, compound_shift, components = metal_satellite
                    groups.append((levels, components, 1.0 - float(np.clip(shift / compound_shift, 0.0, 1.0))))
                for levels, components, factor in groups:
                    carrying = np.array([not line.auger and line.name in levels for line in lines])
                    shares = [share * factor for _, share, _ in components]
                    taken = np.r_[np.where(carrying, areas * sum(shares), 0.0), np.zeros(len(centres) - len(lines))]
                    line_areas = np.r_[line_areas - taken, *[areas[carrying] * share for share in shares]]
                    centres = np.r_[centres, *[centres[:len(lines)][carrying] + offset for offset, _, _ in components]]
                    line_widths = np.r_[line_widths, *[np.full(carrying.sum(), width) for _, _, width in components]]
                photo = np.r_[~auger, np.ones(len(centres) - len(lines), bool)]
                if self.plasmons and symbols[e] in PLASMONS:  # one and two plasmons lost, every line
                    # free-electron plasmons belong to the metal: they fade towards the compound, whose
                    # broad losses are left to the drawn background
                    energy, share = PLASMONS[symbols[e]], PLASMON_SHARE * (1.0 - toward_compound)
                    centres = np.r_[centres, centres + energy, centres + 2 * energy]
                    line_areas = np.r_[line_areas, line_areas * share, line_areas * share**2]
                    line_widths = np.r_[line_widths, np.full(2 * len(line_widths), PLASMON_WIDTH)]
                    photo = np.r_[photo, photo, photo]
                if self.xray_satellites:  # photolines only: Auger energies do not follow the photon
                    for excess, share in XRAY_SATELLITES[self.source]:
                        centres = np.r_[centres, centres[photo] - excess]
                        line_areas = np.r_[line_areas, line_areas[photo] * share]
                        line_widths = np.r_[line_widths, line_widths[photo]]
                        photo = np.r_[photo, np.zeros(photo.sum(), bool)]
                for r, resolution in enumerate(self.resolutions):
                    bank[r, s, e] = physics.binned_lines(edges, centres, line_areas, line_widths, resolution)
        return bank

    def _satellites(self, symbol):
        """(levels, compound shift or None for the range ramp, ((offset, share, width), ...)) or None."""
        if not self.satellites or self.line_energies != "reference":
            return None
        if self.satellites == "compound":
            return COMPOUND_SATELLITES.get(symbol)
        if symbol not in SATELLITES:
            return None
        levels, offset, share, width = SATELLITES[symbol]
        return levels, None, ((offset, share, width),)

    def _element_lines(self, z):
        # Lines up to 3 FWHM beyond the window still put tails into it.
        return physics.element_lines(z, self.photon_energy, self.energy_range[1] + 30.0, self.line_energies,
                                     self.auger_intensity, self.valence_augers)

    @functools.cached_property
    def templates(self):
        """No-loss substrate templates, shape (resolutions × shifts × 80, points), per unit fraction."""
        bank = self._bank(self._element_lines, GENERIC_MATRIX, self.element_shifts)
        scale = bank.max()
        self._template_scale = float(scale)
        return (bank / scale).reshape(-1, self.points)

    def element_sensitivities(self):
        """Each element's signal per unit atomic fraction, relative to the strongest: the area of its
        no-loss template (all its photo- and Auger lines, σ·λ) at the middle chemical state and width."""
        n_classes = len(physics.ATOMIC_NUMBERS)
        bank = self.templates.reshape(len(self.resolutions), self.shift_levels, n_classes, self.points)
        areas = bank[len(self.resolutions) // 2, self.shift_levels // 2].sum(axis=1)
        return areas / areas.max()

    @functools.cached_property
    def _overlayer_templates(self):
        """Carbon (and oxygen) lines of a thick overlayer (d → ∞) per resolution, same scale as `templates`."""
        carbon = physics.ATOMIC_NUMBERS.index(6)

        def placed(z, energy, scale):
            lines = self._element_lines(z)
            offset = energy - next(line.binding_energy for line in lines if line.name == "K")
            return [dataclasses.replace(line, binding_energy=line.binding_energy + offset,
                                        intensity=line.intensity * scale) for line in lines]

        def overlayer_lines(z):
            if z != 6:
                return ()
            lines = placed(6, ADVENTITIOUS_C1S, 1.0)
            if self.overlayer_oxygen_ratio:
                lines += placed(8, ADVENTITIOUS_O1S, self.overlayer_oxygen_ratio)
            return lines

        bank = self._bank(overlayer_lines, ADVENTITIOUS_CARBON, lambda e: np.zeros(self.shift_levels))
        self.templates  # noqa: B018  (sets the common scale)
        return bank[:, 0, carbon] / self._template_scale * self.overlayer_density_ratio

    # -- sampling -----------------------------------------------------------------------
    def draw_parameters(self, n, seed=None):
        """Draw the random sample and instrument parameters of n spectra."""
        rng = np.random.default_rng(seed)
        n_classes = len(physics.ATOMIC_NUMBERS)
        k = self.max_elements
        counts = rng.integers(1, k + 1, size=n)
        # k distinct elements per row: the first k of a random permutation (excluded classes last).
        keys = rng.random((n, n_classes))
        for symbol in self.excluded_elements:
            keys[:, physics.element_index(symbol)] = 2.0
        permutation = np.argsort(keys, axis=1)
        fractions = rng.gamma(1.0, size=(n, k)) * (np.arange(k)[None, :] < counts[:, None])
        fractions /= fractions.sum(axis=1, keepdims=True)  # Dirichlet(1) over the present ones
        if self.line_energies == "xraylib":
            shifts = np.clip(rng.normal(0.0, self.chemical_shift_sigma, size=(n, k)),
                             -self.chemical_shift_max, self.chemical_shift_max)
            shift_levels = self._nearest(self.chemical_shifts, shifts)
        else:  # any level of the element's own range of chemical states
            shift_levels = rng.integers(0, self.shift_levels, size=(n, k))
        low, high = np.log(self.counts_range)
        parameters = SpectrumParameters(
            element_indices=permutation[:, :k],
            element_fractions=fractions,
            shift_levels=shift_levels,
            resolution_levels=self._nearest(self.resolutions, rng.uniform(*self.resolution_range, size=n)),
            thickness=rng.uniform(*self.thickness_range, size=n),
            charging_shift=rng.uniform(-self.charging_shift_max, self.charging_shift_max, size=n),
            background_scale=rng.uniform(*self.background_scale_range, size=n),
            total_counts=np.exp(rng.uniform(low, high, size=n)),
        )
        # Draws of the later options come last, so switching one on leaves the draws above unchanged.
        if self.oxygen_probability > 0:  # O moves to the first (always present) place
            rows = np.flatnonzero(rng.random(n) < self.oxygen_probability)
            oxygen = physics.element_index("O")
            position = np.argmax(permutation[rows] == oxygen, axis=1)
            permutation[rows, position] = permutation[rows, 0]
            permutation[rows, 0] = oxygen
            parameters.element_indices = permutation[:, :k]
        if self.truncation_probability > 0:
            truncate_low = rng.random(n) < self.truncation_probability
            truncate_high = rng.random(n) < self.truncation_probability
            parameters.measured_low[truncate_low] = rng.uniform(self.energy_range[0], self.truncation_low_max,
                                                                truncate_low.sum())
            parameters.measured_high[truncate_high] = rng.uniform(self.truncation_high_min, self.energy_range[1],
                                                                  truncate_high.sum())
        if self.transmission_exponent_range is not None:
            parameters.transmission_exponent = rng.uniform(*self.transmission_exponent_range, size=n)
        if self.extra_background_range[1] > 0:
            parameters.extra_background = rng.uniform(*self.extra_background_range, size=n)
            parameters.extra_background_length = rng.uniform(*EXTRA_BACKGROUND_LENGTHS, size=n)
        return parameters

    @staticmethod
    def _nearest(levels, values):
        return np.abs(np.asarray(values)[..., None] - levels).argmin(axis=-1)

    def sample(self, n, seed=None, chunk_size=2048, nuisances=False):
        """n random spectra: (spectra (n, points) float32, fractions (n, 80), thickness (n,) Å), and with
        `nuisances` their `nuisance_targets` (n, 5) as a fourth array."""
        seeds = np.random.SeedSequence(seed)  # drawn once, so seed=None still splits one entropy
        parameters = self.sample_parameters(n, seeds.entropy)
        spectra = self.render(parameters, noise_seed=seeds.spawn(2)[1], chunk_size=chunk_size)
        drawn = spectra, parameters.fractions(), parameters.thickness.astype("float32")
        return (*drawn, self.nuisance_targets(parameters)) if nuisances else drawn

    def nuisance_ranges(self):
        """(5, 2) the drawn range of each of `NUISANCES`; equal ends where the simulator holds it fixed."""
        transmission = self.transmission_exponent_range or (self.transmission_exponent,) * 2
        extra = self.extra_background_range
        return np.array([
            transmission,
            self.background_scale_range,
            extra,
            EXTRA_BACKGROUND_LENGTHS if extra[1] > 0 else (EXTRA_BACKGROUND_LENGTHS[0],) * 2,
            (-self.charging_shift_max, self.charging_shift_max),
        ], "float64")

    def nuisance_targets(self, parameters):
        """(n, 5) float32: each of `NUISANCES` scaled to [0, 1] over `nuisance_ranges()` (0.5 where fixed)."""
        ranges = self.nuisance_ranges()
        low, span = ranges[:, 0], ranges[:, 1] - ranges[:, 0]
        values = np.stack([np.broadcast_to(low[j] if getattr(parameters, name) is None
                                           else getattr(parameters, name), len(parameters))
                           for j, name in enumerate(NUISANCES)], axis=1)
        scaled = (values - low) / np.where(span > 0, span, 1.0)
        return np.where(span > 0, scaled, 0.5).astype("float32")

    def nuisance_values(self, targets):
        """The inverse of `nuisance_targets`: (..., 5) values on [0, 1] (clipped) → the nuisances
        themselves (a fixed one at its value)."""
        ranges = self.nuisance_ranges()
        return ranges[:, 0] + np.clip(np.asarray(targets, "float64"), 0.0, 1.0) * (ranges[:, 1] - ranges[:, 0])

    def sample_parameters(self, n, seed=None):
        """The parameters `sample(n, seed)` renders (its truth, with every nuisance)."""
        if int(n) != n or n < 1:
            raise ValueError(f"`n` must be a positive integer, got {n!r}.")
        return self.draw_parameters(int(n), np.random.SeedSequence(seed).spawn(2)[0])

    # -- rendering ----------------------------------------------------------------------
    def render(self, parameters, noise_seed=None, chunk_size=2048):
        """Spectra of the given parameters; Poisson noise from `noise_seed` if `self.noise`."""
        rng = np.random.default_rng(noise_seed)
        out = np.empty((len(parameters), self.points), "float32")
        for start in range(0, len(parameters), chunk_size):
            rows = slice(start, start + chunk_size)
            out[rows] = self._render_chunk(_slice(parameters, rows), rng)
        return out

    def render_counts(self, parameters):
        """Noiseless, unnormalised spectra (expected counts up to a scale), for references and tests."""
        return self._render_chunk(parameters, None, noise=False, normalization="none")

    def _render_chunk(self, p, rng, noise=None, normalization=None):
        noise = self.noise if noise is None else noise
        normalization = self.normalization if normalization is None else normalization
        n_classes = len(physics.ATOMIC_NUMBERS)
        # 1. substrate: gather ≤ k templates per spectrum and weight them by the fractions
        bank_rows = (p.resolution_levels[:, None] * self.shift_levels + p.shift_levels) * n_classes + p.element_indices
        weights = (p.element_fractions * p.substrate_scale[:, None]).astype("float32")
        signal = np.einsum("nk,nkp->np", weights, np.take(self.templates, bank_rows, axis=0))
        # 2. overlayer: attenuate the substrate, add the overlayer's carbon
        attenuation = np.exp(-p.thickness[:, None].astype("float32") * self._overlayer_inverse_length[None, :])
        signal *= attenuation
        overlayer = self._overlayer_templates[p.resolution_levels] * (1.0 - attenuation)
        signal += overlayer * p.overlayer_scale[:, None].astype("float32")
        # 3. inelastic background with multiple scattering: J = F / (1 − s·λK̂)
        response, size = self._loss_response
        spectrum = fft.rfft(signal, n=size, axis=1, workers=-1)
        spectrum /= 1.0 - p.background_scale[:, None].astype("float32") * response[None, :]
        if p.extra_background is not None:  # J + k·(J ⊛ e^(−T/τ)/τ), the kernel's transform in closed form
            frequency = np.exp(-2j * np.pi * np.arange(spectrum.shape[1]) / size)[None, :]
            decay = np.exp(-self.step / p.extra_background_length)[:, None]
            kernel = (1.0 - decay) / (1.0 - decay * frequency)  # unit area
            spectrum *= (1.0 + p.extra_background[:, None] * kernel).astype("complex64")
        signal = fft.irfft(spectrum, n=size, axis=1, workers=-1)[:, : self.points]
        # 4. charging, transmission, counting noise, normalisation
        signal = shift_rows(signal, p.charging_shift / self.step)
        if p.transmission_exponent is None:
            transmission = self._transmission[None, :]
        else:
            transmission = np.exp(-p.transmission_exponent[:, None] * np.log(self._kinetic_energy)[None, :])
        signal = np.maximum(signal, 0.0) * transmission.astype("float32")
        if noise:
            totals = signal.sum(axis=1, keepdims=True)
            expected = signal * (p.total_counts[:, None] / np.where(totals > 0, totals, 1.0))
            signal = rng.poisson(expected).astype("float32")
        measured = ((self.binding_energy[None, :] >= p.measured_low[:, None])
                    & (self.binding_energy[None, :] <= p.measured_high[:, None]))
        if measured.all():
            return normalize(signal, normalization).astype("float32")
        signal = normalize(np.where(measured, signal, 0.0), normalization)
        return np.where(measured, signal, UNMEASURED).astype("float32")

    # -- references for the classical baseline ------------------------------------------
    def reference_spectra(self, thickness, resolution=None, background_scale=None):
        """(81, points) noiseless spectra: pure elements under a `thickness` Å overlayer
        without its own signal (rows 0…79), and the overlayer alone (row 80).

        Any mixture is `Σ x_e · row_e + row_80` (the model is linear), so fractions can
        be recovered by non-negative least squares.
        """
        n_classes = len(physics.ATOMIC_NUMBERS)
        resolution = np.mean(self.resolution_range) if resolution is None else resolution
        scale = np.mean(self.background_scale_range) if background_scale is None else background_scale
        rows = n_classes + 1
        parameters = SpectrumParameters(
            element_indices=np.minimum(np.arange(rows), n_classes - 1)[:, None],
            element_fractions=np.ones((rows, 1)),
            shift_levels=np.full((rows, 1), self.shift_levels // 2),
            resolution_levels=np.full(rows, self._nearest(self.resolutions, resolution)),
            thickness=np.full(rows, float(thickness)),
            charging_shift=np.zeros(rows),
            background_scale=np.full(rows, scale),
            total_counts=np.ones(rows),
            substrate_scale=np.r_[np.ones(n_classes), 0.0],
            overlayer_scale=np.r_[np.zeros(n_classes), 1.0],
        )
        return self.render_counts(parameters)


def _check_range(name, value, minimum):
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a (low, high) pair, got {value!r}.") from None
    if not (minimum <= low <= high):
        raise ValueError(f"`{name}` must satisfy {minimum} ≤ low ≤ high, got {value!r}.")
    return low, high


def _slice(parameters, rows):
    return SpectrumParameters(**{f.name: None if getattr(parameters, f.name) is None else getattr(parameters, f.name)[rows]
                                 for f in dataclasses.fields(parameters)})


def shift_rows(signal, offsets):
    """Move each row by `offsets` bins towards higher index (sub-bin by linear interpolation)."""
    if not np.any(offsets):
        return signal
    points = signal.shape[1]
    source = np.arange(points)[None, :] - np.asarray(offsets, "float32")[:, None]
    low = np.clip(np.floor(source).astype(np.int64), 0, points - 1)
    high = np.clip(low + 1, 0, points - 1)
    weight = np.clip(source - np.floor(source), 0.0, 1.0).astype("float32")
    return (np.take_along_axis(signal, low, axis=1) * (1 - weight)
            + np.take_along_axis(signal, high, axis=1) * weight)


def normalize(signal, normalization):
    if normalization == "max":
        return signal / np.maximum(signal.max(axis=1, keepdims=True), 1e-12)
    if normalization == "area":
        return signal / np.maximum(signal.mean(axis=1, keepdims=True), 1e-12)
    return signal
