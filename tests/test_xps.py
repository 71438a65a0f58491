"""XPS simulator physics, datasets, NNLS baseline, metrics, spectrum files, and a tiny CNN."""

import keras
import numpy as np
import pytest

from mlkit.models import xps_cnn
from mlkit.xps import (
    LinearCombinationFit,
    SpectrumParameters,
    XPSSimulator,
    array_targets_dataset,
    load_shards,
    physics,
    quantification_metrics,
    reported_composition,
    find_reference,
    network_input,
    read_spectrum,
    resample_masked,
    shard_dataset,
    simulated_dataset,
    write_shards,
    write_vamas,
)
from mlkit.xps.metrics import reported_fractions
from mlkit.xps.preparation import UNMEASURED
from mlkit.xps.simulator import ADVENTITIOUS_C1S, GENERIC_MATRIX, NUISANCES


@pytest.fixture(scope="module")
def simulator():
    # Full window and grid; a small template bank keeps the fixture fast.
    return XPSSimulator(resolution_levels=2, shift_levels=1, resolution_range=(0.8, 1.2))


def pure(simulator, symbol, thickness=0.0, background=0.0, substrate=1.0, overlayer=0.0):
    """Noiseless unnormalised spectrum of one pure element under an overlayer."""
    return simulator.render_counts(SpectrumParameters(
        element_indices=np.array([[physics.element_index(symbol)]]),
        element_fractions=np.ones((1, 1)),
        shift_levels=np.zeros((1, 1), int),
        resolution_levels=np.zeros(1, int),
        thickness=np.array([thickness]),
        charging_shift=np.zeros(1),
        background_scale=np.array([background]),
        total_counts=np.ones(1),
        substrate_scale=np.array([substrate]),
        overlayer_scale=np.array([overlayer]),
    ))[0]


def peak_position(simulator, spectrum, low, high):
    energy = simulator.binding_energy
    window = (energy >= low) & (energy <= high)
    return energy[window][np.argmax(spectrum[window])]


def full_width(simulator, spectrum, low, high):
    """FWHM (eV) of the strongest feature between low and high."""
    window = (simulator.binding_energy >= low) & (simulator.binding_energy <= high)
    return np.sum(spectrum[window] >= spectrum[window].max() / 2) * simulator.step


def area(simulator, spectrum, centre, half_width=8.0):
    energy = simulator.binding_energy
    window = np.abs(energy - centre) <= half_width
    return spectrum[window].sum() * simulator.step


def test_eighty_element_classes():
    symbols = physics.element_symbols()
    assert len(symbols) == 80 and symbols[0] == "Li" and symbols[-1] == "Bi" and "Pm" not in symbols


def test_cross_sections_reproduce_scofield_ratios():
    carbon = physics.cross_section("C", "K")
    assert physics.cross_section("O", "K") / carbon == pytest.approx(2.93, rel=0.01)
    assert physics.cross_section("Fe", "L3") / carbon == pytest.approx(10.8, rel=0.01)


# Handbook energies of the reference states (metal, oxide O 1s), not xraylib's absorption edges.
@pytest.mark.parametrize("symbol, low, high, expected", [
    ("O", 525, 540, (529.1, 529.9)),
    ("Au", 80, 86, (83.6, 84.4)),
    ("Fe", 700, 715, (706.4, 707.2)),
    ("Ni", 845, 860, (852.3, 853.1)),
    ("W", 25, 40, (31.0, 31.8)),
])
def test_line_positions(simulator, symbol, low, high, expected):
    position = peak_position(simulator, pure(simulator, symbol), low, high)
    assert expected[0] <= position <= expected[1]


def test_adventitious_carbon_line_position(simulator):
    overlayer = pure(simulator, "Li", thickness=30.0, substrate=0.0, overlayer=1.0)
    position = peak_position(simulator, overlayer, 270, 300)
    assert 284.0 <= position <= 285.0
    assert abs(position - ADVENTITIOUS_C1S) <= simulator.step


def test_intensity_ratio_follows_cross_sections(simulator):
    # Equal parts C and O, no overlayer or background: O1s/C1s = σ ratio × IMFP ratio × transmission ratio.
    spectrum = simulator.render_counts(SpectrumParameters(
        element_indices=np.array([[physics.element_index("C"), physics.element_index("O")]]),
        element_fractions=np.array([[0.5, 0.5]]), shift_levels=np.zeros((1, 2), int),
        resolution_levels=np.zeros(1, int), thickness=np.zeros(1), charging_shift=np.zeros(1),
        background_scale=np.zeros(1), total_counts=np.ones(1), overlayer_scale=np.zeros(1),
    ))[0]
    c_line = next(line for line in physics.element_lines(6, simulator.photon_energy, 1230.0) if line.name == "K")
    o_line = next(line for line in physics.element_lines(8, simulator.photon_energy, 1230.0) if line.name == "K")
    kinetic = simulator.photon_energy - np.array([c_line.binding_energy, o_line.binding_energy])
    imfp = physics.tpp2m_imfp(kinetic, **GENERIC_MATRIX)
    transmission = kinetic ** -simulator.transmission_exponent
    expected = (o_line.intensity * imfp[1] * transmission[1]) / (c_line.intensity * imfp[0] * transmission[0])
    measured = area(simulator, spectrum, o_line.binding_energy) / area(simulator, spectrum, c_line.binding_energy)
    assert measured == pytest.approx(expected, rel=0.03)


def test_overlayer_attenuates_substrate_monotonically(simulator):
    thicknesses = [0.0, 5.0, 10.0, 20.0, 40.0]
    gold = [area(simulator, pure(simulator, "Au", d), 84.0) for d in thicknesses]
    carbon = [area(simulator, pure(simulator, "Au", d, substrate=0.0, overlayer=1.0), ADVENTITIOUS_C1S)
              for d in thicknesses]
    assert np.all(np.diff(gold) < 0) and np.all(np.diff(carbon) > 0)
    assert carbon[0] == pytest.approx(0.0, abs=1e-9)


def test_inelastic_background_rises_on_the_high_binding_energy_side(simulator):
    spectrum = pure(simulator, "Ag", background=0.8)
    no_loss = pure(simulator, "Ag", background=0.0)
    energy = simulator.binding_energy
    below, above = (energy > 340) & (energy < 355), (energy > 390) & (energy < 420)
    loss = spectrum - no_loss
    assert loss[above].mean() > 10 * max(loss[below].mean(), 1e-12)
    assert np.all(spectrum >= no_loss - 1e-6)


def test_samples_are_shaped_normalised_and_reproducible(simulator):
    spectra, fractions, thickness = simulator.sample(64, seed=7)
    assert spectra.shape == (64, 2000) and spectra.dtype == np.float32
    assert fractions.shape == (64, 80)
    np.testing.assert_allclose(spectra.max(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, rtol=1e-5)
    counts = (fractions > 0).sum(axis=1)
    assert counts.min() >= 1 and counts.max() <= 5 and len(np.unique(counts)) > 1
    assert thickness.min() >= 0.0 and thickness.max() <= 40.0
    again = simulator.sample(64, seed=7)
    np.testing.assert_array_equal(spectra, again[0])
    np.testing.assert_array_equal(fractions, again[1])
    assert not np.array_equal(spectra, simulator.sample(64, seed=8)[0])


def test_mg_source_moves_auger_lines_but_not_photolines():
    aluminium = XPSSimulator(source="Al", resolution_levels=1, shift_levels=1, energy_range=(0, 1200))
    magnesium = XPSSimulator(source="Mg", resolution_levels=1, shift_levels=1, energy_range=(0, 1200))
    for sim in (aluminium, magnesium):
        assert 529.1 <= peak_position(sim, pure(sim, "O"), 520, 540) <= 529.9
    # O KLL sits at a fixed kinetic energy (510 eV, measured): apparent BE = hν − KE.
    al_auger = peak_position(aluminium, pure(aluminium, "O"), 900, 1100)
    mg_auger = peak_position(magnesium, pure(magnesium, "O"), 650, 850)
    assert al_auger == pytest.approx(1486.6 - 510.0, abs=0.6)
    assert al_auger - mg_auger == pytest.approx(1486.6 - 1253.6, abs=1.0)


def test_auger_groups_carry_every_feeding_hole():
    """Ni LMM takes the L1, L2 and L3 holes (Coster-Kronig): its total is (σ2s + σ2p)(1 − ω_L3),
    2.9x the 60 % share of the L3 holes alone, which left the Ni LMM at 640 eV a third of the
    measured strength (read as Mn 2p)."""
    def lmm_over_2p32(option):
        lines = physics.element_lines(28, physics.PHOTON_ENERGIES["Al"], 1200.0, "reference", option)
        lmm = sum(line.intensity for line in lines if line.auger and 600 < line.binding_energy < 800)
        return lmm / next(line.intensity for line in lines if line.name == "L3")

    group, main_line = lmm_over_2p32("group"), lmm_over_2p32("main_line")
    sigma = {shell: physics.cross_section("Ni", shell) for shell in ("L1", "L2", "L3")}
    assert group / main_line == pytest.approx(sum(sigma.values()) / sigma["L3"] / physics.AUGER_BRANCHING, rel=1e-6)
    assert 2.5 < group / main_line < 3.5
    with pytest.raises(ValueError, match="`auger_intensity`"):
        XPSSimulator(auger_intensity="all")


@pytest.mark.parametrize("settings", [
    {"source": "Cu"}, {"energy_range": (0, 1500)}, {"points": 3}, {"resolution_range": (2.0, 1.0)},
    {"max_elements": 0}, {"normalization": "peak"}, {"background_scale_range": (0.5, 1.2)},
    {"emission_angle": 95.0}, {"thickness_range": (-1, 4)}, {"line_energies": "edges"},
    {"excluded_elements": ["Xx"]}, {"oxygen_probability": 2.0}, {"extra_background_range": (-1, 1)},
])
def test_simulator_rejects_bad_settings(settings):
    with pytest.raises(ValueError, match=f"`{next(iter(settings))}`"):
        XPSSimulator(**settings)


def test_baseline_recovers_noiseless_two_element_mixture():
    simulator = XPSSimulator(noise=False, resolution_range=(1.0, 1.0), resolution_levels=1, shift_levels=1,
                             chemical_shift_sigma=0.0, charging_shift_max=0.0, background_scale_range=(0.75, 0.75))
    indices = [physics.element_index("Fe"), physics.element_index("O")]
    spectrum = simulator.render(SpectrumParameters(
        element_indices=np.array([indices]), element_fractions=np.array([[0.4, 0.6]]),
        shift_levels=np.zeros((1, 2), int), resolution_levels=np.zeros(1, int), thickness=np.array([10.0]),
        charging_shift=np.zeros(1), background_scale=np.array([0.75]), total_counts=np.ones(1),
    ))
    baseline = LinearCombinationFit(simulator, thickness_grid=[0, 5, 10, 15, 20]).fit()
    fractions, thickness = baseline.quantify(spectrum)
    assert abs(fractions[0, indices[0]] - 0.4) < 0.01 and abs(fractions[0, indices[1]] - 0.6) < 0.01
    assert fractions[0].sum() == pytest.approx(1.0)
    assert thickness[0] == 10.0
    predicted = baseline.predict(spectrum)  # scikit-learn's predict: one array, the fractions
    assert isinstance(predicted, np.ndarray) and predicted.shape == (1, 80)
    np.testing.assert_array_equal(predicted, fractions)


def test_baseline_rejects_bad_input(simulator):
    with pytest.raises(ValueError, match="not fitted"):
        LinearCombinationFit(simulator).predict(np.zeros((1, 2000)))
    with pytest.raises(ValueError, match="shape"):
        LinearCombinationFit(simulator, thickness_grid=[0.0]).fit().predict(np.zeros((1, 10)))
    with pytest.raises(ValueError, match="XPSSimulator"):
        LinearCombinationFit("Al").fit()


def test_quantification_metrics():
    truth = np.zeros((2, 80))
    truth[0, [0, 1]] = [0.7, 0.3]
    truth[1, 5] = 1.0
    perfect = quantification_metrics(truth, truth, [10.0, 20.0], [10.0, 20.0])
    assert perfect["detection_f1"] == 1.0 and perfect["quantification_mae_at_percent"] == 0.0
    assert perfect["thickness_mae_angstrom"] == 0.0
    guess = truth.copy()
    guess[0, [0, 1, 2]] = [0.6, 0.3, 0.1]  # 10 at.% moved to an absent element
    metrics = quantification_metrics(truth, guess, [10.0, 20.0], [12.0, 20.0])
    assert metrics["detection_precision"] == pytest.approx(3 / 4) and metrics["detection_recall"] == 1.0
    assert metrics["quantification_mae_at_percent"] == pytest.approx(10.0 / 3)
    assert metrics["thickness_mae_angstrom"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        quantification_metrics(truth, guess[:, :10])


def test_reported_composition_keeps_the_present_elements():
    composition = np.zeros((2, 80))
    composition[0, [0, 1, 2]] = [0.6, 0.3, 0.1]
    composition[1, [3, 4]] = [0.98, 0.02]
    presence = np.zeros((2, 80))
    presence[0, [0, 1, 2]] = [0.99, 0.7, 0.2]  # the third is a hedge
    presence[1, [3, 4]] = [0.4, 0.1]  # nothing reaches 0.5: the most probable element is kept
    reported = reported_composition(composition, presence)
    np.testing.assert_allclose(reported[0, :3], [2 / 3, 1 / 3, 0.0], rtol=1e-6)
    np.testing.assert_allclose(reported[1, [3, 4]], [1.0, 0.0])
    np.testing.assert_allclose(reported.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(reported_fractions({"composition": composition, "presence": presence}), reported)
    np.testing.assert_array_equal(reported_fractions({"composition": composition}), composition)
    truth = np.zeros((2, 80))
    truth[0, [0, 1]], truth[1, 3] = [0.65, 0.35], 1.0
    assert quantification_metrics(truth, reported)["detection_f1"] == 1.0
    assert quantification_metrics(truth, composition)["detection_f1"] < 1.0
    with pytest.raises(ValueError, match="`presence`"):
        reported_composition(composition, presence[:, :5])
    with pytest.raises(ValueError, match="`threshold`"):
        reported_composition(composition, presence, threshold=1.0)


def test_shards_round_trip_and_tf_data(tmp_path):
    simulator = XPSSimulator(points=200, energy_range=(0, 600), resolution_levels=1, shift_levels=1)
    manifest = write_shards(simulator, 25, tmp_path / "shards", seed=3, shard_size=10)
    assert [shard["count"] for shard in manifest["shards"]] == [10, 10, 5]
    spectra, fractions, thickness = load_shards(tmp_path / "shards")
    np.testing.assert_array_equal(spectra[:10], simulator.sample(10, seed=(3, 0))[0])
    nuisances = load_shards(tmp_path / "shards", nuisances=True)[3]
    np.testing.assert_array_equal(nuisances[:10], simulator.sample(10, seed=(3, 0), nuisances=True)[3])
    batches = list(shard_dataset(tmp_path / "shards", batch_size=8, shuffle=True, seed=0))
    assert sum(len(x) for x, _ in batches) == 25
    x, y = batches[0]
    assert x.shape == (8, 200) and y["composition"].shape == (8, 80) and y["thickness"].shape == (8, 1)
    _, y = next(iter(shard_dataset(tmp_path / "shards", batch_size=8, shuffle=False, presence=True)))
    np.testing.assert_array_equal(y["presence"], (y["composition"].numpy() >= 0.01).astype("float32"))
    assert 0 < y["presence"].numpy().sum() < 8 * 80
    with pytest.raises(ValueError, match="not an empty folder"):
        write_shards(simulator, 5, tmp_path / "shards")
    with pytest.raises(ValueError, match="`n` must be a positive integer"):
        write_shards(simulator, 0, tmp_path / "other")
    assert not (tmp_path / "other").exists()
    for path in (tmp_path / "shards").glob("shard-*.npz"):  # as written before the nuisances were kept
        with np.load(path) as shard:
            kept = {name: shard[name] for name in ("spectra", "fractions", "thickness")}
        np.savez(path, **kept)
    assert len(load_shards(tmp_path / "shards")) == 3
    with pytest.raises(ValueError, match="no nuisance targets"):
        load_shards(tmp_path / "shards", nuisances=True)


def test_nuisance_targets_scale_the_drawn_nuisances():
    simulator = XPSSimulator(points=100, energy_range=(0, 300), resolution_levels=1, shift_levels=1,
                             transmission_exponent_range=(0.0, 1.0), extra_background_range=(0.0, 4.0),
                             charging_shift_max=2.0)
    spectra, fractions, thickness, targets = simulator.sample(50, seed=2, nuisances=True)
    plain = simulator.sample(50, seed=2)
    for a, b in zip(plain, (spectra, fractions, thickness)):
        np.testing.assert_array_equal(a, b)
    parameters = simulator.sample_parameters(50, seed=2)
    assert targets.shape == (50, len(NUISANCES)) and targets.dtype == np.float32
    assert (targets >= 0).all() and (targets <= 1).all() and (targets.std(axis=0) > 0.1).all()
    np.testing.assert_allclose(targets[:, 0], parameters.transmission_exponent, rtol=1e-6)
    np.testing.assert_allclose(targets[:, 4], (parameters.charging_shift + 2.0) / 4.0, rtol=1e-5, atol=1e-6)
    ranges = simulator.nuisance_ranges()
    np.testing.assert_allclose(ranges[:, 0] + targets * (ranges[:, 1] - ranges[:, 0]),
                               np.stack([getattr(parameters, name) for name in NUISANCES], axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(simulator.nuisance_values(targets),
                               np.stack([getattr(parameters, name) for name in NUISANCES], axis=1), rtol=1e-5, atol=1e-5)
    fixed = XPSSimulator(points=100, energy_range=(0, 300), resolution_levels=1, shift_levels=1,
                         transmission_exponent_range=None, extra_background_range=(0.0, 0.0))
    held = fixed.nuisance_targets(fixed.sample_parameters(4, seed=0))
    np.testing.assert_array_equal(held[:, [0, 2, 3]], 0.5)  # held fixed by the simulator


def test_on_the_fly_dataset_carries_nuisance_targets():
    simulator = XPSSimulator(points=100, energy_range=(0, 300), resolution_levels=1, shift_levels=1)
    x, y = next(iter(simulated_dataset(simulator, 4, seed=1, batches=1, presence=True, nuisances=True)))
    np.testing.assert_array_equal(y["nuisances"], simulator.sample(4, seed=(1, 0), nuisances=True)[3])
    assert set(y) == {"composition", "thickness", "presence", "nuisances"}


def test_on_the_fly_dataset_is_reproducible():
    simulator = XPSSimulator(points=100, energy_range=(0, 300), resolution_levels=1, shift_levels=1)
    first = [x.numpy() for x, _ in simulated_dataset(simulator, 4, seed=1, batches=3)]
    second = [x.numpy() for x, _ in simulated_dataset(simulator, 4, seed=1, batches=3)]
    assert len(first) == 3 and first[0].shape == (4, 100)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_spectrum_files_text_and_vamas(tmp_path, simulator):
    energy = simulator.binding_energy
    counts = 1000 * pure(simulator, "Au", background=0.5) / pure(simulator, "Au", background=0.5).max() + 5
    np.savetxt(tmp_path / "au.csv", np.c_[energy[::-1], counts[::-1]], delimiter=",", header="BE,counts")
    write_vamas(tmp_path / "au.vms", energy, counts, simulator.photon_energy, kinetic=True)
    kinetic = tmp_path / "au_ke.txt"
    np.savetxt(kinetic, np.c_[simulator.photon_energy - energy, counts])
    for name, scale in (("au.csv", None), ("au.vms", None), ("au_ke.txt", "kinetic")):
        spectrum = read_spectrum(tmp_path / name, scale, photon_energy=simulator.photon_energy)
        values, measured = resample_masked(spectrum.binding_energy, spectrum.counts, energy)
        assert measured.all()
        np.testing.assert_allclose(values, counts, rtol=1e-4, atol=1e-3)


def test_resample_averages_a_finer_scan_and_masks_what_was_not_measured(simulator):
    fine = np.linspace(-2, 1202, 12041)
    values, measured = resample_masked(fine, np.full_like(fine, 7.0), simulator.binding_energy)
    np.testing.assert_allclose(values, 7.0, rtol=1e-9)
    assert measured.all()
    partial = np.linspace(20.0, 1100.0, 1081)
    values, measured = resample_masked(partial, np.full_like(partial, 3.0), simulator.binding_energy)
    grid = simulator.binding_energy
    assert not measured[grid < 19.6].any() and not measured[grid > 1100.4].any()
    assert measured[(grid > 20.5) & (grid < 1099.5)].all()
    inputs = network_input(values, measured)
    np.testing.assert_allclose(inputs[measured], 1.0)
    assert np.all(inputs[~measured] == UNMEASURED)


def test_truncated_training_spectra_mark_unmeasured_bins():
    simulator = XPSSimulator(points=600, resolution_levels=2, shift_levels=1, truncation_probability=1.0)
    spectra, _, _ = simulator.sample(50, seed=3)
    grid = simulator.binding_energy
    unmeasured = spectra == UNMEASURED
    assert unmeasured[:, 0].all() and unmeasured[:, -1].all()  # every row truncated at both ends…
    assert not unmeasured[:, (grid >= 30) & (grid <= 1000)].any()  # …but never inside the required window
    assert np.allclose(np.where(unmeasured, 0, spectra).max(axis=1), 1.0)
    assert simulator.required_window == (30.0, 1000.0)
    with pytest.raises(ValueError, match="truncation"):
        XPSSimulator(truncation_probability=1.5)


@pytest.mark.parametrize("charging", [0.0, 3.0, 7.5, -2.5])
def test_c1s_reference_finds_charging(simulator, charging):
    spectrum = pure(simulator, "Si", thickness=8.0, background=0.7, overlayer=1.0)
    energy = simulator.binding_energy + charging
    reference = find_reference(energy, 1e5 * spectrum / spectrum.max() + 50)
    assert reference.c1s == pytest.approx(284.8 + charging, abs=0.3)
    expected = -charging if abs(charging) >= 1.5 else 0.0
    assert reference.shift == pytest.approx(expected, abs=0.3)
    assert find_reference(energy, np.full_like(energy, 100.0)).c1s is None  # no line, no shift


@pytest.mark.parametrize("activation, sensitivities, expected", [
    ("normalized_sigmoid", None, [0.5, 0.5]),  # both scores ≈ 1: 50 : 50
    ("normalized_softplus", None, [1 / 3, 2 / 3]),  # scores stay in proportion to what they measure
    ("normalized_softplus", [4.0] + [1.0] * 79, [1 / 9, 8 / 9]),  # …and as intensities, ÷ signal per atom
])
def test_composition_scores_sigmoid_saturates_softplus_keeps_ratios(activation, sensitivities, expected):
    model = xps_cnn(points=64, variant="drera", filters=1, hidden_units=(4,), composition_activation=activation,
                    element_sensitivities=sensitivities)
    scores = model.get_layer("composition_scores")
    kernel, bias = scores.get_weights()
    bias[:] = -30.0  # every element absent…
    bias[:2] = [10.0, 20.0]  # …but two, with scores in the ratio 1 : 2 (areas in that ratio)
    scores.set_weights([np.zeros_like(kernel), bias])
    fractions = model.predict(np.ones((1, 64), "float32"), verbose=0)["composition"][0]
    assert fractions.sum() == pytest.approx(1.0, abs=1e-5)
    assert fractions[:2] == pytest.approx(expected, abs=1e-3)


@pytest.mark.slow
def test_tiny_cnn_beats_the_uniform_guess():
    simulator = XPSSimulator(points=400, energy_range=(0, 1200), resolution_levels=2, shift_levels=3, max_elements=2)
    train = simulator.sample(3000, seed=0)
    test = simulator.sample(300, seed=1)
    keras.utils.set_random_seed(0)
    model = xps_cnn(points=400, filters=4, kernel_sizes=(5, 11), hidden_units=(128,), head_dropout=0.1)
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss={"composition": "categorical_crossentropy", "thickness": "mse"},
                  loss_weights={"composition": 1.0, "thickness": 1 / 1600})
    model.fit(array_targets_dataset(*train, 64, shuffle=True), epochs=6, verbose=0)
    predicted = model.predict(test[0], verbose=0)
    uniform = np.full_like(test[1], 1 / 80)
    ours = quantification_metrics(test[1], predicted["composition"], test[2], predicted["thickness"][:, 0])
    guess = quantification_metrics(test[1], uniform, test[2], np.full_like(test[2], 20.0))
    assert ours["composition_mae_all_at_percent"] < 0.8 * guess["composition_mae_all_at_percent"]
    assert ours["detection_f1"] > guess["detection_f1"]


def test_element_sensitivities_follow_cross_sections():
    sensitivities = XPSSimulator(resolution_levels=1, shift_levels=3).element_sensitivities()
    of = {symbol: sensitivities[physics.element_index(symbol)] for symbol in ("Li", "C", "O", "Au")}
    assert sensitivities.shape == (80,) and sensitivities.max() == pytest.approx(1.0) and sensitivities.min() > 0
    assert of["Li"] < of["C"] < of["O"] < of["Au"]
    # per atom O gives about 3× the signal of C (Scofield's O 1s / C 1s is 2.9; its KLL adds)
    assert 2.5 < of["O"] / of["C"] < 5.0


def test_chemical_states_satellites_and_overlayer_oxygen():
    simulator = XPSSimulator(resolution_levels=1, resolution_range=(1.0, 1.0), shift_levels=5,
                             overlayer_oxygen_ratio=0.2)
    nickel = physics.element_index("Ni")
    bank = simulator.templates.reshape(1, 5, 80, -1)[0, :, nickel]
    energy = simulator.binding_energy
    metal, oxide = bank[0], bank[-1]
    assert peak_position(simulator, metal, 845, 860) == pytest.approx(852.2, abs=0.4)  # reference −0.5 eV
    assert peak_position(simulator, oxide, 845, 860) == pytest.approx(856.7, abs=0.4)  # top of the range
    satellite = (energy > 860) & (energy < 866)
    main = (energy > 850) & (energy < 859)
    assert oxide[satellite].sum() / oxide[main].sum() > 3 * metal[satellite].sum() / metal[main].sum()
    # the 3p line (66 eV, +4 in the oxide) carries its satellite too, where Al 2p would be
    satellite_3p, main_3p = (energy > 74) & (energy < 80), (energy > 66) & (energy < 73)
    assert oxide[satellite_3p].sum() / oxide[main_3p].sum() > 3 * metal[satellite_3p].sum() / metal[main_3p].sum()
    # the 3p is a doublet (xraylib has one M2/M3 energy): as wide as measured on the Ni survey
    assert full_width(simulator, metal, 55, 72) > 3.3
    # shallow levels at their photoemission spacing from 2p3/2 (X-ray Data Booklet), not xraylib's edges
    levels = {line.name: line.binding_energy for line in physics.element_lines(28, 1486.6, 1200, "reference")
              if not line.auger}
    assert levels["M1"] == pytest.approx(110.8) and levels["M3"] == pytest.approx(66.2)
    assert levels["M2"] - levels["M3"] == pytest.approx(1.8) and levels["L3"] == pytest.approx(852.7)
    assert physics.photoemission_binding_energies()[79]["N7"] == pytest.approx(84.0)
    overlayer = pure(simulator, "Ni", thickness=30.0, substrate=0.0, overlayer=1.0)
    assert peak_position(simulator, overlayer, 525, 540) == pytest.approx(532.3, abs=0.4)



def test_satellites_full_from_the_common_compound():
    # NiO (+1.0 eV above the metal) carries about half of its Ni intensity in the multiplet shoulder and the
    # shake-up satellite (the reference survey's 3p tail on Al 2p); the range ramp gave it 13 %.
    def nio(satellites):
        simulator = XPSSimulator(resolution_levels=1, resolution_range=(1.0, 1.0), shift_levels=10,
                                 satellites=satellites)
        assert simulator.element_shifts(physics.element_index("Ni"))[3] == pytest.approx(1.0)
        return simulator.binding_energy, simulator.templates.reshape(10, 80, -1)[:, physics.element_index("Ni")]

    energy, compound = nio("compound")
    _, ramp = nio(True)  # what runs saved before the option existed
    _, none = nio(False)
    tail_3p, line_3p = (energy > 72) & (energy < 80), (energy > 60) & (energy < 80)
    tail_2p, line_2p = (energy > 855.5) & (energy < 866), (energy > 848) & (energy < 866)

    def share(bank, level, tail, line):
        return bank[level, tail].sum() / bank[level, line].sum()

    assert share(compound, 3, tail_3p, line_3p) > 0.25 > 0.15 > share(ramp, 3, tail_3p, line_3p)
    assert share(compound, 3, tail_2p, line_2p) > 0.35 > 0.2 > share(ramp, 3, tail_2p, line_2p)
    assert share(compound, 1, tail_2p, line_2p) == pytest.approx(share(none, 1, tail_2p, line_2p))  # the metal
    assert compound[3].sum() == pytest.approx(none[3].sum(), rel=1e-3)  # intensity moved, not added
    assert XPSSimulator(satellites=True).get_config()["satellites"] == "range"
    with pytest.raises(ValueError, match="`satellites`"):
        XPSSimulator(satellites="oxide")

def test_element_priors_and_random_instrument_settings():
    simulator = XPSSimulator(points=400, resolution_levels=1, shift_levels=2, excluded_elements=["Tc"],
                             oxygen_probability=1.0, transmission_exponent_range=(0.0, 1.0),
                             extra_background_range=(0.5, 2.0))
    parameters = simulator.draw_parameters(300, seed=4)
    present = parameters.fractions() > 0
    assert not present[:, physics.element_index("Tc")].any() and present[:, physics.element_index("O")].all()
    assert all(len(set(row)) == len(row) for row in parameters.element_indices)  # still distinct
    plain = XPSSimulator(points=400, resolution_levels=1, shift_levels=2, noise=False)
    extra = XPSSimulator(points=400, resolution_levels=1, shift_levels=2, noise=False, extra_background_range=(2.0, 2.0))
    base = plain.draw_parameters(20, seed=1)
    more = extra.draw_parameters(20, seed=1)
    grid = plain.binding_energy
    high_side = grid > 1100
    ratio = extra.render_counts(more)[:, high_side].sum() / plain.render_counts(base)[:, high_side].sum()
    assert ratio > 1.5  # more loss background on the high-binding-energy side
    spectra = simulator.render(parameters, noise_seed=0)
    assert np.isfinite(spectra).all() and np.allclose(spectra.max(axis=1), 1.0)


def test_shirley_area_of_a_peak_on_a_step():
    from mlkit.xps.peak_areas import shirley_area

    energy = np.linspace(520, 540, 401)
    peak = 50 * np.exp(-0.5 * ((energy - 530) / 1.0) ** 2)
    step = 10 + 20 * np.cumsum(peak) / peak.sum()  # a Shirley step: proportional to the area below
    assert shirley_area(energy, peak + step) == pytest.approx(50 * np.sqrt(2 * np.pi), rel=0.02)
    assert shirley_area(energy, np.full_like(energy, 7.0)) == 0.0


def test_peak_areas_identify_and_quantify_clean_mixtures():
    from mlkit.xps.peak_areas import PeakAreaQuantification

    simulator = XPSSimulator(resolution_levels=1, resolution_range=(1.2, 1.2), shift_levels=1, noise=False,
                             background_scale_range=(0.5, 0.5), charging_shift_max=0.0)
    method = PeakAreaQuantification(simulator).fit()
    for pair, share in ((("Cu", "O"), 0.5), (("Au", "Ti"), 0.3)):
        parameters = SpectrumParameters(
            element_indices=np.array([[physics.element_index(s) for s in pair]]),
            element_fractions=np.array([[share, 1 - share]]),
            shift_levels=np.zeros((1, 2), int), resolution_levels=np.zeros(1, int), thickness=np.array([5.0]),
            charging_shift=np.zeros(1), background_scale=np.array([0.5]), total_counts=np.ones(1))
        fractions, thickness = method.quantify(simulator.render(parameters))
        found = {physics.element_symbols()[e] for e in np.flatnonzero(fractions[0] >= 0.01)}
        assert found == set(pair), (pair, found)
        assert fractions[0, physics.element_index(pair[0])] == pytest.approx(share, abs=0.12)
        assert np.isnan(thickness).all()
    with pytest.raises(ValueError, match="simulator"):
        PeakAreaQuantification("not a simulator").fit()


def test_uncertainty_calibration_and_coverage():
    from mlkit.xps.uncertainty import calibrated, calibration_scale, coverage, mc_dropout

    rng = np.random.default_rng(0)
    truth = rng.dirichlet(np.ones(5), 4000)
    mean = truth + rng.normal(0, 0.02, truth.shape)
    spread = np.full_like(truth, 0.005)  # four times too narrow, and no information in it
    assert coverage(truth, mean, spread) < 0.5
    calibration = calibration_scale(truth, mean, spread)
    assert np.mean(calibrated(spread, calibration, mean)[truth >= 0.01]) == pytest.approx(0.02 * 1.96 / 2, rel=0.1)
    assert coverage(truth, mean, spread, calibration) == pytest.approx(0.95, abs=0.01)
    # spreads that track the error are used (scaled up), and the intervals are narrower than a floor alone
    noise = rng.uniform(0.005, 0.05, truth.shape)
    mean = truth + rng.normal(0, 1, truth.shape) * noise
    calibration = calibration_scale(truth, mean, noise / 3)
    assert calibration[0] > 1.5
    assert coverage(truth, mean, noise / 3, calibration) == pytest.approx(0.95, abs=0.01)
    present = truth >= 0.01
    only_floor = np.quantile(np.abs(truth - mean)[present] / 2, 0.95)
    assert np.mean(calibrated(noise / 3, calibration, mean)[present]) < 0.9 * only_floor
    # errors proportional to the fraction: the slope carries them
    mean = truth * (1 + rng.normal(0, 0.2, truth.shape))
    scale, slope, floor = calibration_scale(truth, mean, np.full_like(truth, 0.001))
    assert slope > 0.1 and coverage(truth, mean, 0.001, (scale, slope, floor)) == pytest.approx(0.95, abs=0.01)
    calls = iter(range(100))
    mean, spread, thickness = mc_dropout(
        lambda batch: {"composition": batch * 0 + next(calls) % 2, "thickness": np.ones((len(batch), 1))},
        np.zeros((3, 4)), samples=10)
    np.testing.assert_allclose(mean, 0.5) and np.testing.assert_allclose(spread, 0.5)
    np.testing.assert_allclose(thickness, 1.0)


def test_simulated_prediction_overlays_the_measurement():
    from mlkit.xps.overlay import simulated_prediction

    simulator = XPSSimulator(points=600, resolution_levels=2, shift_levels=3, noise=False)
    parameters = simulator.draw_parameters(1, seed=2)
    spectrum = network_input(*resample_masked(simulator.binding_energy, simulator.render(parameters)[0],
                                              simulator.binding_energy))
    spectrum[:20] = UNMEASURED
    simulated, residual = simulated_prediction(simulator, spectrum, parameters.fractions()[0],
                                               float(parameters.thickness[0]))
    assert np.isnan(simulated[:20]).all() and np.isfinite(simulated[20:]).all()
    # the true composition explains the spectrum far better than a wrong one
    wrong = np.zeros(80, "float32")
    wrong[physics.element_index("Au")] = 1.0
    _, wrong_residual = simulated_prediction(simulator, spectrum, wrong, 0.0)
    assert np.nanstd(residual) < 0.5 * np.nanstd(wrong_residual)


def test_xray_satellites_and_plasmons_options():
    plain = XPSSimulator(resolution_levels=1, resolution_range=(1.0, 1.0), shift_levels=1)
    optioned = XPSSimulator(resolution_levels=1, resolution_range=(1.0, 1.0), shift_levels=1, xray_satellites=True,
                             plasmons=True)
    energy = plain.binding_energy
    aluminium = physics.element_index("Al")
    before, after = plain.templates[aluminium], optioned.templates[aluminium]
    below = (energy > 59) & (energy < 64)  # Al 2p (72.7 eV) − 9.8 eV: the Kα3 satellite
    main = (energy > 70) & (energy < 75)
    assert after[below].sum() / after[main].sum() > 0.04 > before[below].sum() / before[main].sum()
    # plasmons 15.3 eV above Al 2p: the metal's share (0.25 of the line; ±3 eV holds most of it), none for
    # the compound at the top of Al's shift range (Al2O3-like)
    settings = dict(resolution_levels=1, resolution_range=(1.0, 1.0), shift_levels=3)
    without = XPSSimulator(**settings).templates.reshape(3, 80, -1)[:, aluminium]
    levels = XPSSimulator(**settings, plasmons=True)
    templates = levels.templates.reshape(3, 80, -1)[:, aluminium]
    gained = []
    for level in (0, -1):
        centre = 72.7 + levels.element_shifts(aluminium)[level]
        peak, first = np.abs(energy - centre) < 3, np.abs(energy - centre - 15.3) < 3
        gained.append((templates[level][first].sum() - without[level][first].sum()) / templates[level][peak].sum())
    assert gained[0] > 0.12 and abs(gained[1]) < 0.005


def _template(simulator, symbol, level):
    """One element's template at one chemical-shift level of a one-resolution simulator."""
    return simulator.templates.reshape(1, simulator.shift_levels, 80, -1)[0, level, physics.element_index(symbol)]


def _simulator_pair(shift_levels=9, points=4000, **option):
    """One-resolution simulators (for `_template`): the defaults, and the same with `option` changed."""
    settings = dict(resolution_levels=1, resolution_range=(0.8, 0.8), shift_levels=shift_levels, points=points)
    return XPSSimulator(**settings), XPSSimulator(**settings, **option)


def test_auger_lines_follow_the_auger_parameter():
    """MgO's KLL sits ~5.5 eV above the metal's apparent BE while Mg 2p moves 1.2 eV (α' drops 4.2)."""
    def kll_peak(simulator, level):
        energy = simulator.binding_energy
        window = (energy > 295) & (energy < 315)
        template = _template(simulator, "Mg", level)
        return energy[window][np.argmax(template[window])]

    coupled, plain = _simulator_pair(auger_shifts=False)
    shifts = coupled.element_shifts(physics.element_index("Mg"))  # -0.3 … 2.0 eV
    metal, oxide = int(np.argmin(np.abs(shifts))), int(np.argmax(shifts))
    assert abs(kll_peak(coupled, metal) - 300.6) < 0.5
    assert abs(kll_peak(coupled, oxide) - (300.6 + shifts[oxide] + 4.2)) < 0.5  # MgO-like: BE ≈ 306.8
    assert abs(kll_peak(plain, oxide) - (300.6 + shifts[oxide])) < 0.5
    # the KL1L23 group 46 eV below the main line in kinetic energy
    energy = coupled.binding_energy
    template = _template(coupled, "Mg", metal)
    side = (energy > 340) & (energy < 353)
    assert abs(energy[side][np.argmax(template[side])] - 346.6) < 0.6
    assert XPSSimulator.from_config({}).auger_shifts is False  # exports from before the option
    assert XPSSimulator.from_config(coupled.get_config()).auger_shifts is True


def test_mg_oxide_shows_its_kl23v_auger_feature_near_242_ev():
    """Mg KL23V, 63 eV above KL23L23 in kinetic energy: BE ≈ 243 eV in MgO, where Ar 2p3/2 lies."""
    with_feature, without = _simulator_pair(valence_augers=False)
    energy = with_feature.binding_energy
    oxide = int(np.argmax(with_feature.element_shifts(physics.element_index("Mg"))))

    def template(simulator):
        return _template(simulator, "Mg", oxide)

    feature, kll = (energy > 232) & (energy < 254), (energy > 296) & (energy < 318)
    main = energy[kll][np.argmax(template(with_feature)[kll])]
    peak = energy[feature][np.argmax(template(with_feature)[feature])]
    assert abs(main - 306.8) < 0.5 and abs(main - peak - 63.0) < 0.5
    added = template(with_feature)[feature].sum() - template(without)[feature].sum()
    assert 0.025 < added / template(with_feature)[kll].sum() < 0.05
    assert np.allclose(template(with_feature)[kll], template(without)[kll], rtol=0.05)
    assert XPSSimulator.from_config({}).valence_augers is False  # exports from before the option
    assert XPSSimulator.from_config(with_feature.get_config()).valence_augers is True


def test_ni_metal_carries_its_loss_features_and_nio_does_not():
    """Ni metal's 2p: features 3.7 and 6.0 eV above the line (10 + 14 %), gone at NiO's shift."""
    with_features, without = _simulator_pair(points=6000, metal_satellites=False)
    energy = with_features.binding_energy
    shifts = with_features.element_shifts(physics.element_index("Ni"))
    metal, oxide = int(np.argmin(np.abs(shifts + 0.5))), int(np.argmax(shifts))

    def template(simulator, level):
        return _template(simulator, "Ni", level)

    centre = 852.7 + shifts[metal]
    region = (energy > centre - 8) & (energy < centre + 12)  # 2p3/2 with its features, below 2p1/2
    satellite = np.abs(energy - centre - 6.0) < 1.0
    gained = template(with_features, metal)[satellite].sum() - template(without, metal)[satellite].sum()
    assert gained > 0.05 * template(without, metal)[region].sum()
    # the features take their intensity from the line: the 2p3/2 region keeps its area
    assert np.isclose(template(with_features, metal)[region].sum(), template(without, metal)[region].sum(), rtol=0.03)
    assert np.allclose(template(with_features, oxide), template(without, oxide))
    assert XPSSimulator.from_config({}).metal_satellites is False  # exports from before the option


def test_auger_widths_option_broadens_3d_metal_lmm_towards_the_oxide():
    def lmm_fwhm(simulator, level):
        energy = simulator.binding_energy
        window = (energy > 615) & (energy < 665)  # Ni L3VV at KE 846 eV: BE 640.6
        template = _template(simulator, "Ni", level)[window]
        above = energy[window][template >= template.max() / 2]
        return above.max() - above.min()

    plain, broad = _simulator_pair(shift_levels=3, auger_widths=True)
    assert lmm_fwhm(plain, 0) < 5.0 and lmm_fwhm(plain, 2) < 5.0
    assert 5.0 < lmm_fwhm(broad, 0) < lmm_fwhm(broad, 2) - 3.0


def test_ensemble_averages_outputs_and_adds_the_spread_between_members():
    import dataclasses

    from mlkit.xps import XPSEnsemble, XPSModel, reported_composition
    from mlkit.xps.serving import _AveragedPredictor

    @dataclasses.dataclass
    class Fixed:  # a served model with fixed outputs and a fixed dropout spread
        composition: np.ndarray
        presence: np.ndarray
        spread: float

        def predict(self, examples):
            n = len(examples)
            return {"composition": np.tile(self.composition, (n, 1)), "presence": np.tile(self.presence, (n, 1)),
                    "thickness": np.full((n, 1), 5.0)}

        passes: int = 0

        def sample(self, examples):  # alternately +spread and −spread: standard deviation `spread` over passes
            self.passes += 1
            outputs = self.predict(examples)
            outputs["composition"] = outputs["composition"] + self.spread * (-1.0) ** self.passes
            return outputs

    simulator = XPSSimulator(points=50, resolution_levels=1, shift_levels=1)
    elements = list(simulator.element_symbols)[:3]
    presence = np.array([0.9, 0.9, 0.1])
    first = Fixed(np.array([0.6, 0.4, 0.0]), presence, 0.01)
    second = Fixed(np.array([0.4, 0.6, 0.0]), presence, 0.03)
    members = [XPSModel(served, simulator, elements, (1.0, 0.0, 0.0)) for served in (first, second)]
    ensemble = XPSEnsemble(_AveragedPredictor([first, second]), simulator, elements, (1.0, 0.0, 0.0),
                           members=members)
    spectra = np.zeros((2, 50), "float32")
    fractions, sigma, thickness = ensemble.predict_with_uncertainty(spectra, samples=4)
    np.testing.assert_allclose(fractions[0], reported_composition([[0.5, 0.5, 0.0]], [presence])[0], atol=1e-6)
    np.testing.assert_allclose(thickness, 5.0)
    # σ² = mean of the members' σ² (their dropout spreads, scale 1) + variance of their answers (0.1²)
    np.testing.assert_allclose(sigma[0, :2], np.sqrt((0.01**2 + 0.03**2) / 2 + 0.1**2), rtol=1e-5)
