"""The spectrum a prediction stands for: simulate the predicted composition and overlayer, fitted
to the measured spectrum over what the network does not predict (resolution, chemical state,
background strength, transmission), so a surface scientist can judge the answer by the residual.
"""

import itertools

import numpy as np

from mlkit.xps.simulator import SpectrumParameters

MIN_FRACTION = 0.005  # elements below 0.5 at.% are left out of the simulated spectrum


def simulated_prediction(simulator, network_input, fractions, thickness):
    """(simulated, residual) on the model's grid, both NaN where the scan measured nothing.

    The composition and thickness are the prediction's; per element the chemical-shift level is the
    one whose template correlates best with the measurement; resolution, background strength,
    extra loss background and transmission exponent are searched on a small grid, and the overall
    scale is the least-squares one.
    """
    measured = np.asarray(network_input) >= 0
    target = np.where(measured, network_input, 0.0)
    elements = [int(e) for e in np.argsort(-fractions) if fractions[e] >= MIN_FRACTION][:10]
    if not elements:
        nothing = np.full(simulator.points, np.nan)
        return nothing, nothing
    bank = simulator.templates.reshape(simulator.resolution_levels, simulator.shift_levels, -1, simulator.points)
    middle = simulator.resolution_levels // 2
    shift_levels = [int(np.argmax([_correlation(bank[middle, s, e], target, measured)
                                   for s in range(simulator.shift_levels)])) for e in elements]
    backgrounds = sorted(set(simulator.background_scale_range))
    extras = sorted({0.0, *simulator.extra_background_range, float(np.mean(simulator.extra_background_range))})
    exponents = ([simulator.transmission_exponent] if simulator.transmission_exponent_range is None
                 else sorted({*simulator.transmission_exponent_range, float(np.mean(simulator.transmission_exponent_range))}))
    grid = list(itertools.product(range(simulator.resolution_levels), backgrounds, extras, exponents))
    n = len(grid)
    parameters = SpectrumParameters(
        element_indices=np.tile(elements, (n, 1)),
        element_fractions=np.tile(np.asarray(fractions)[elements] / np.sum(np.asarray(fractions)[elements]), (n, 1)),
        shift_levels=np.tile(shift_levels, (n, 1)),
        resolution_levels=np.array([row[0] for row in grid]),
        thickness=np.full(n, float(thickness or 0.0)),
        charging_shift=np.zeros(n),
        background_scale=np.array([row[1] for row in grid]),
        total_counts=np.ones(n),
        extra_background=np.array([row[2] for row in grid]),
        extra_background_length=np.full(n, 60.0),
        transmission_exponent=np.array([row[3] for row in grid], "float64"),
    )
    candidates = simulator.render_counts(parameters)
    scales = (candidates[:, measured] @ target[measured]) / np.maximum(
        np.einsum("ij,ij->i", candidates[:, measured], candidates[:, measured]), 1e-30)
    residuals = np.linalg.norm(target[measured][None, :] - scales[:, None] * candidates[:, measured], axis=1)
    best = int(np.argmin(residuals))
    simulated = np.where(measured, scales[best] * candidates[best], np.nan)
    return simulated, np.where(measured, target - simulated, np.nan)


def _correlation(template, target, measured):
    a, b = template[measured], target[measured]
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))
