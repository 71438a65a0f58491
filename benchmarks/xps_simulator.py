"""XPS simulator speed (a benchmark, not a test).

1. 100,000 spectra of 2,000 points with mlkit's template-bank simulator; the issue's
   budget is 60 s on a 2-core CPU.
2. Side by side on the same 500 spectra: the template bank vs evaluating every line of
   every spectrum directly (exact resolution and shifts, no bank) — the ratio is what
   the bank buys.
"""

import time

import numpy as np

from mlkit.xps import XPSSimulator, physics
from mlkit.xps.simulator import GENERIC_MATRIX


def direct_no_loss(simulator, parameters, resolutions, shifts):
    """Per-spectrum line evaluation (what the bank replaces): step 1 of the forward model."""
    edges = physics.bin_edges(simulator.binding_energy)
    out = np.zeros((len(parameters), simulator.points))
    for row in range(len(parameters)):
        for column, element in enumerate(parameters.element_indices[row]):
            fraction = parameters.element_fractions[row, column]
            if fraction == 0:
                continue
            lines = simulator._element_lines(physics.ATOMIC_NUMBERS[element])
            binding = np.array([line.binding_energy for line in lines]) + shifts[row, column]
            imfp = physics.tpp2m_imfp(simulator.photon_energy - binding, **GENERIC_MATRIX)
            areas = fraction * np.array([line.intensity for line in lines]) * imfp
            widths = np.array([line.lorentzian_width for line in lines])
            out[row] += physics.binned_lines(edges, binding, areas, widths, resolutions[row])
    return out


def main():
    simulator = XPSSimulator()
    started = time.perf_counter()
    simulator.templates  # noqa: B018
    bank_seconds = time.perf_counter() - started

    started = time.perf_counter()
    total = 0
    for index in range(10):
        spectra, _, _ = simulator.sample(10_000, seed=(0, index))
        total += len(spectra)
    seconds = time.perf_counter() - started
    print(f"template bank built in {bank_seconds:.1f} s")
    print(f"{total:,} spectra × {simulator.points} points: {seconds:.1f} s = {total / seconds:,.0f} spectra/s "
          f"(budget 60 s: {60 / seconds:.1f}× inside it)")

    n = 500
    parameters = simulator.draw_parameters(n, seed=1)
    rng = np.random.default_rng(2)
    resolutions = rng.uniform(*simulator.resolution_range, n)
    shifts = rng.normal(0, simulator.chemical_shift_sigma, parameters.element_indices.shape)
    started = time.perf_counter()
    direct_no_loss(simulator, parameters, resolutions, shifts)
    direct_seconds = time.perf_counter() - started
    started = time.perf_counter()
    simulator.render(parameters, noise_seed=3)  # the whole forward model, noise included
    bank_render_seconds = time.perf_counter() - started
    print(f"{n} spectra, line shapes only, evaluated directly: {direct_seconds:.2f} s ({n / direct_seconds:,.0f}/s)")
    print(f"{n} spectra, whole forward model with the bank:     {bank_render_seconds:.2f} s "
          f"({n / bank_render_seconds:,.0f}/s)")
    print(f"ratio bank / direct: {direct_seconds / bank_render_seconds:.1f}× faster")


if __name__ == "__main__":
    main()
