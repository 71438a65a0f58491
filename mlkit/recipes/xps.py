"""XPS survey quantification: simulate → train the 1-D CNN → compare with NNLS → report → export (SPEC §4).

The flagship recipe. Spectra come from mlkit's open simulator (`mlkit.xps`), so the
whole study reproduces offline from a seed. The default fits in 15 minutes on two CPU
cores; `full=True` (`mlkit run xps --full`) runs at paper scale (100k training spectra).
"""

import time

import keras
import numpy as np

from mlkit.losses import TargetWeightedSquaredError
from mlkit.models import xps_cnn
from mlkit.io import atomic_path
from mlkit.progress import Progress
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run
from mlkit.xps import (
    LinearCombinationFit,
    XPSSimulator,
    array_targets_dataset,
    load_shards,
    quantification_metrics,
    model_metadata,
    read_manifest,
    report,
)

DESCRIPTION = "XPS survey spectra → 80 element fractions + overlayer thickness; 1-D CNN vs NNLS baseline."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "epochs": 25,
    "batch_size": 128,  # per replica
    "train_size": 25_000,
    "validation_size": 2_500,
    "test_size": 534,  # as in Drera et al.
    "data_dir": None,  # training shards from `mlkit xps simulate` instead of simulating here
    "simulator": {},  # XPSSimulator settings over SIMULATOR_DEFAULTS, e.g. {"source": "Mg"}
    "variant": "multi_kernel",
    "filters": 8,
    "hidden_units": [512],
    "denoising_units": 0,
    "composition_activation": "softmax",
    "composition_loss": "crossentropy",  # crossentropy | target_weighted | mae
    "thickness_weight": 1.0,  # weight of the thickness MSE measured in (d / d_max)²
    "early_stopping_patience": 6,
    "baseline": True,
    "full": False,
}
# What real surveys need and the simulator's own defaults leave out: scans of any window that covers
# BE 30–1000 eV (unmeasured bins masked), and residual charging after C 1s referencing (±1.5 eV)
# plus the scatter of adventitious C 1s itself.
SIMULATOR_DEFAULTS = {"truncation_probability": 0.5, "charging_shift_max": 2.5}
FULL_SCALE = {"train_size": 100_000, "validation_size": 10_000, "epochs": 60, "early_stopping_patience": 10}
COMPOSITION_LOSSES = ("crossentropy", "target_weighted", "mae")


def composition_loss(name):
    if name not in COMPOSITION_LOSSES:
        raise ValueError(f"`composition_loss` must be one of {COMPOSITION_LOSSES}, got {name!r}.")
    return {"crossentropy": keras.losses.CategoricalCrossentropy(), "target_weighted": TargetWeightedSquaredError(),
            "mae": keras.losses.MeanAbsoluteError()}[name]


def check_config(config):
    composition_loss(config["composition_loss"])
    try:
        XPSSimulator(**{**SIMULATOR_DEFAULTS, **config["simulator"]})
    except TypeError as error:  # an unknown setting name
        raise ValueError(f"`simulator`: {str(error).replace('__init__()', 'XPSSimulator')}") from None


def run(config=None, overwrite=False):
    overrides = dict(config or {})
    defaults = {**DEFAULTS, **FULL_SCALE} if overrides.get("full") else DEFAULTS
    with start_run("xps", defaults, overrides, overwrite, check=check_config) as run:
        return _run(run)


def _run(run):
    config, seed = run.config, run.config["seed"]
    loss = composition_loss(config["composition_loss"])

    # 1. data: training shards from disk or simulated here; validation and test always here
    started = time.perf_counter()
    with Progress("simulating spectra"):
        if config["data_dir"]:
            manifest = read_manifest(config["data_dir"])
            simulator = XPSSimulator.from_config(manifest["simulator"])
            train = load_shards(config["data_dir"])
        else:
            simulator = XPSSimulator(**{**SIMULATOR_DEFAULTS, **config["simulator"]})
            train = simulator.sample(config["train_size"], seed=(seed, 0))
        validation = simulator.sample(config["validation_size"], seed=(seed, 1))
        test = simulator.sample(config["test_size"], seed=(seed, 2))
    simulated = len(train[0]) * (not config["data_dir"]) + len(validation[0]) + len(test[0])
    simulation_seconds = time.perf_counter() - started

    # 2. the CNN
    global_batch = run.global_batch_size
    thickness_max = simulator.thickness_range[1] or 1.0
    with run.strategy.scope():
        model = xps_cnn(
            points=simulator.points,
            variant=config["variant"],
            filters=config["filters"],
            hidden_units=config["hidden_units"],
            denoising_units=config["denoising_units"],
            composition_activation=config["composition_activation"],
            thickness_max=thickness_max,
        )
        model.compile(
            optimizer=run.optimizer(),
            loss={"composition": loss, "thickness": keras.losses.MeanSquaredError()},
            loss_weights={"composition": 1.0, "thickness": config["thickness_weight"] / thickness_max**2},
            metrics={"composition": [keras.metrics.MeanAbsoluteError(name="mae")],
                     "thickness": [keras.metrics.MeanAbsoluteError(name="mae")]},
        )
    run.record("simulator_settings", simulator.get_config())
    run.record_model("model", model)
    best, history = fit(
        model,
        array_targets_dataset(*train, global_batch, shuffle=True, seed=seed),
        array_targets_dataset(*validation, global_batch),
        run,
        epochs=config["epochs"],
        monitor="val_loss",
        early_stopping_patience=config["early_stopping_patience"],
    )

    # 3. evaluation, side by side with the classical baseline
    spectra, true_fractions, true_thickness = test
    best.predict(spectra[:global_batch], verbose=0)  # warm up before timing
    started = time.perf_counter()
    predicted = best.predict(spectra, batch_size=256, verbose=0)
    cnn_seconds = time.perf_counter() - started
    fractions = {"CNN": predicted["composition"]}
    thickness = {"CNN": predicted["thickness"][:, 0]}
    seconds = {"CNN": cnn_seconds}
    if config["baseline"]:
        fractions["NNLS"], thickness["NNLS"], seconds["NNLS"] = _baseline(run, simulator, spectra)
    results = {}
    for method in fractions:
        results[method] = quantification_metrics(true_fractions, fractions[method], true_thickness, thickness[method])
        results[method]["spectra_per_second"] = len(spectra) / seconds[method]

    # 4. report
    plots = run.directory.plots
    symbols = simulator.element_symbols
    report.plot_examples(simulator.binding_energy, spectra, true_fractions, fractions, symbols, plots / "examples.png")
    report.plot_parity(true_fractions, fractions, plots / "parity.png")
    report.plot_element_errors(true_fractions, fractions, symbols, plots / "element_errors.png")
    report.plot_thickness(true_thickness, thickness, plots / "thickness.png")
    notes = [
        f"Test set: {len(spectra)} simulated spectra (seed {seed}), {simulator.points} points, "
        f"{simulator.source} Kα, BE {simulator.energy_range[0]:g}–{simulator.energy_range[1]:g} eV.",
        f"Training: {len(train[0])} spectra, {len(history)} epochs, {best.count_params():,} parameters, "
        f"composition loss {config['composition_loss']}.",
        f"Simulated {simulated} spectra in {simulation_seconds:.1f} s ({simulated / simulation_seconds:.0f} spectra/s).",
        "An element counts as present at ≥ 1 at.%; quantification MAE is over the truly present elements.",
    ]
    report.write_report(
        run.path / "report.md", "XPS quantification: CNN vs linear-combination NNLS", results, notes,
        [("Example spectra", "plots/examples.png"), ("Parity of fractions", "plots/parity.png"),
         ("Error per element", "plots/element_errors.png"), ("Overlayer thickness", "plots/thickness.png"),
         ("Learning curves", "plots/learning_curves.png")],
    )
    metrics = {
        "cnn": results["CNN"],
        "baseline_nnls": results.get("NNLS"),
        "train_size": int(len(train[0])),
        "test_size": int(len(spectra)),
        "epochs_run": int(len(history)),
        "parameters": int(best.count_params()),
        "simulation_spectra_per_second": simulated / simulation_seconds,
        "report": str(run.path / "report.md"),
    }
    with Progress("exporting the SavedModel"):
        return run.finish(metrics, exports={"model": best}, sample=spectra[:8],
                          metadata={"model": model_metadata(simulator)})


def _baseline(run, simulator, spectra):
    """NNLS quantification of the test spectra, kept in the run so a resumed run does not redo it."""
    path = run.path / "baseline_nnls.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            if saved["fractions"].shape[0] == len(spectra):
                return saved["fractions"], saved["thickness"], float(saved["seconds"])
    started = time.perf_counter()
    with Progress("building NNLS references"):
        baseline = LinearCombinationFit(simulator).fit()
    fractions, thickness = baseline.quantify(spectra, progress=True)
    seconds = time.perf_counter() - started
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, fractions=fractions, thickness=thickness, seconds=seconds)
    return fractions, thickness, seconds
