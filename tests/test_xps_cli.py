"""The xps recipe end to end (tiny), `mlkit xps simulate` and `mlkit xps predict` on text and VAMAS files."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_cli
from mlkit_cli import main
from mlkit.xps import XPSSimulator, load_xps_model, physics, write_vamas
from mlkit.recipes import get_recipe

DATA = Path(__file__).parent / "data" / "xps"  # real instrument files (see its README)

# One worker builds this module's run fixture once (make test: pytest-xdist --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_xps_cli")

TINY = {
    "epochs": 2,
    "train_size": 400,
    "validation_size": 64,
    "test_size": 12,
    "filters": 2,
    "block_filters": [4, 4, 4],
    "hidden_units": [32],
    "simulator": {"points": 500, "resolution_levels": 2, "shift_levels": 3},
    "uncertainty_samples": 5,
    "baseline_size": 12,
    "refine_workers": 1,  # the process pool is covered by tests/test_xps_refinement.py
    "fresh_data": True,  # the arrays path is covered by test_recipe_trains_from_simulated_shards
}


@pytest.fixture(scope="module")
def run_directory(tmp_path_factory):
    out = tmp_path_factory.mktemp("xps") / "run"
    metrics = get_recipe("xps").run({**TINY, "out": str(out)})
    return out, metrics


@pytest.fixture(scope="module")
def measured(tmp_path_factory, run_directory):
    """A noisy survey of Fe/O as counts, saved as CSV (binding energy) and VAMAS (kinetic energy)."""
    folder = tmp_path_factory.mktemp("spectra")
    simulator = XPSSimulator(**{**TINY["simulator"], "normalization": "none"})
    spectra, fractions, _ = simulator.sample(1, seed=11)
    np.savetxt(folder / "sample.csv", np.c_[simulator.binding_energy, spectra[0]], delimiter=",",
               header="binding_energy,counts")
    write_vamas(folder / "sample.vms", simulator.binding_energy, spectra[0], simulator.photon_energy)
    return folder, simulator, fractions[0]


@pytest.mark.slow
def test_recipe_writes_metrics_report_plots_and_export(run_directory):
    out, metrics = run_directory
    for results in (metrics["cnn"], *metrics["side_by_side"].values()):
        for key in ("detection_f1", "quantification_mae_at_percent", "quantification_rms_at_percent",
                    "spectra_per_second"):
            assert np.isfinite(results[key]), key
    assert set(metrics["side_by_side"]) == {"CNN", "Peak areas", "NNLS", "CNN + fit"}
    assert metrics["refined"]["spectra"] == 12 and set(metrics["refined"]) == {"spectra", "CNN", "CNN + fit"}
    assert np.isfinite(metrics["refined"]["CNN + fit"]["quantification_rms_at_percent"])
    assert "thickness_mae_angstrom" not in metrics["side_by_side"]["Peak areas"]  # it gives none
    assert np.isfinite(metrics["side_by_side"]["NNLS"]["thickness_mae_angstrom"])
    assert {"shift +2 eV", "window 30–1000 eV"} <= set(metrics["robustness"])
    # the oracle beside the CNN and its refinement on the same test spectra; recall per evidence class
    information = metrics["information_limit"]
    assert information["spectra"] == 12 and set(information["recall"]) == {"CNN", "CNN + fit"}
    assert {"oracle, every true element", "oracle, Δχ² ≥ 25", "CNN", "CNN + fit"} <= set(information["methods"])
    recorded = json.loads((out / "config.json").read_text())
    truth = XPSSimulator.from_config(recorded["simulator_settings"]).sample_parameters(
        12, seed=(recorded["seed"], 2)).fractions()
    assert sum(row["present"] for row in information["recall"]["CNN"]) == (truth >= 0.01).sum()  # each counted once
    assert information["recall"]["CNN"][-1]["high"] is None  # the open class, as strict JSON
    scale, slope, floor = metrics["uncertainty"]["scale"]
    assert scale >= 0 and slope >= 0 and floor >= 0 and 0 <= metrics["uncertainty"]["test_coverage_2sigma"] <= 1
    # every survey block of the shipped real files is answered, with its block name
    labels = [result["label"] for result in metrics["development_files"]]
    assert len(labels) == 5 and any("[block 3/4 'Survey', sample 'NiO']" in label for label in labels)
    assert [result["label"] for result in metrics["development_files_refined"]] == labels
    # real surveys hold structure the simulator lacks: the fit leaves far more than their counting noise
    assert all(result["misfit"] > 10 for result in metrics["development_files_refined"])
    assert all(result["misfit"] is None for result in metrics["development_files"])
    assert json.loads((out / "metrics.json").read_text()) == metrics
    report = (out / "report.md").read_text()
    assert metrics["train_size"] == 2 * (400 // 128) * 128  # fresh spectra: train_size per epoch, whole batches
    for text in ("| detection F1 |", "Peak areas", "NNLS", "Robustness", "Real development files", "Monte-Carlo",
                 "fresh spectra", "refined by a full-spectrum fit", "refined by the full-spectrum fit",
                 "What the spectra allow", "| oracle, Δχ² ≥ 100 |", "fit misfit (× noise) |"):
        assert text in report, text
    for plot in ("examples", "parity", "element_errors", "thickness", "learning_curves"):
        assert (out / "plots" / f"{plot}.png").is_file(), plot
    config = json.loads((out / "config.json").read_text())
    assert config["simulator"]["points"] == 500 and config["builders"]["model"]["builder"] == "xps_cnn"


@pytest.mark.slow
def test_exported_model_reloads_with_identical_outputs(run_directory):
    import keras

    out, _ = run_directory
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    spectra = XPSSimulator(**TINY["simulator"]).sample(4, seed=5)[0]
    expected = model(spectra, training=False)
    saved_model = tf.saved_model.load(str(out / "export" / "model"))  # keep it alive: `serve` uses its variables
    served = saved_model.serve(tf.constant(spectra))
    for key in ("composition", "thickness"):
        np.testing.assert_allclose(np.asarray(served[key]), np.asarray(expected[key]), rtol=1e-5, atol=1e-6)
    xps_model = load_xps_model(out)
    fractions, thickness = xps_model.predict(spectra)
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, rtol=1e-5)
    assert thickness.shape == (4,) and np.all((thickness >= 0) & (thickness <= 40))


def _elements(table):
    """[element, at.%] rows of `mlkit xps predict` output (the ± comes from random dropout passes)."""
    return [line.split()[:2] for line in table.splitlines() if line.startswith("  ") and line.split()[0].isalpha()
            and line.split()[0] not in ("element", "energy", "note:", "carbon")]


@pytest.mark.slow
def test_predict_reads_text_and_vamas_alike(run_directory, measured, tmp_path):
    out, _ = run_directory
    folder, _, _ = measured
    result = run_cli("xps", "predict", out, folder / "sample.csv", folder / "sample.vms", "--threshold", "0",
                     "--plot", tmp_path / "plots")
    assert result.returncode == 0, result.stderr[-2000:]
    tables = result.stdout.split(str(folder / "sample.vms"))
    assert "element   at.%" in tables[0] and "carbon overlayer thickness" in tables[1]
    first, second = _elements(tables[0]), _elements(tables[1])
    assert "energy reference:" in tables[0] and len(first) >= 3
    assert first[:3] == second[:3]  # same spectrum, same answer whatever the file format
    assert (tmp_path / "plots" / "sample.csv.png").is_file() and (tmp_path / "plots" / "sample.vms.png").is_file()


@pytest.mark.slow
def test_predict_with_an_ensemble_averages_the_models(run_directory, measured):
    out, _ = run_directory
    folder, _, _ = measured
    single = run_cli("xps", "predict", out, folder / "sample.csv", "--threshold", "0")
    both = run_cli("xps", "predict", out, folder / "sample.csv", "--threshold", "0", "--ensemble", out)
    assert single.returncode == 0 and both.returncode == 0, both.stderr[-2000:]
    assert "ensemble of 2 models" in both.stdout
    assert _elements(both.stdout) == _elements(single.stdout)  # a model averaged with itself answers as itself


@pytest.mark.slow
def test_predict_refine_adds_the_fitted_answer(run_directory, measured):
    out, _ = run_directory
    folder, _, _ = measured
    result = run_cli("xps", "predict", out, folder / "sample.csv", "--refine")
    assert result.returncode == 0, result.stderr[-2000:]
    answer, refined = result.stdout.split("  refined by a full-spectrum fit")
    assert _elements(answer) and _elements(refined)
    total = sum(float(value) for _, value in _elements(refined))  # the rows at ≥ 1 at.%
    assert 90 <= total <= 100.5, result.stdout
    # a real survey holds structure the simulator lacks: the fit says so and only re-weights the answer
    real = run_cli("xps", "predict", out, DATA / "20_vamas_casaxps_IRREGULAR_specs_MgFe2O4.vms", "--refine")
    assert real.returncode == 0, real.stderr[-2000:]
    answer, refined = real.stdout.split("  refined by a full-spectrum fit")
    assert "note: the fit leaves" in refined and "× the counting noise" in refined
    assert {element for element, _ in _elements(refined)} <= {element for element, _ in _elements(answer)}


@pytest.mark.slow
def test_predict_kinetic_energy_text(run_directory, measured, tmp_path):
    out, _ = run_directory
    _, simulator, _ = measured
    counts = np.loadtxt(measured[0] / "sample.csv", delimiter=",")[:, 1]
    path = tmp_path / "kinetic.txt"
    np.savetxt(path, np.c_[simulator.photon_energy - simulator.binding_energy, counts])
    result = run_cli("xps", "predict", out, path, "--energy-scale", "kinetic")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "carbon overlayer thickness" in result.stdout
    # its kinetic energies were converted with the model's photon energy, which the user must be told
    assert f"assumed {simulator.photon_energy:g} eV" in result.stdout


def _write(path, energy, counts):
    np.savetxt(path, np.c_[energy, counts], delimiter=",")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case, message", [
    ("short", "the model needs"),
    ("nan", "NaN"),
    ("negative", "negative counts"),
    ("garbage", "a binary file this reader does not know"),
    ("bad_vamas", "the file ends early"),
    ("truncated_vamas", "the file ends early"),
    ("magnesium", "trained for 1486.6 eV"),
    ("missing", "not found"),
    ("directory", "is a directory"),
    ("overflow", "are not detector counts"),
    ("five_points", "only 5 points"),
    ("constant", "no peaks"),
    ("single_spike", "no peaks"),
    ("three_columns", "columns; expected two"),
])
@pytest.mark.slow
def test_predict_bad_inputs_fail_with_one_line_and_write_nothing(run_directory, measured, tmp_path, capsys, case,
                                                                  message):
    out, _ = run_directory
    energy = np.linspace(0, 1200, 700)
    counts = 100 + 50 * np.exp(-0.5 * ((energy - 285) / 2) ** 2) + 80 * np.exp(-0.5 * ((energy - 531) / 2) ** 2)
    good = _write(tmp_path / "good.csv", energy, counts)
    if case == "short":
        bad = _write(tmp_path / "bad.csv", energy[:300], counts[:300])
    elif case == "nan":
        bad = _write(tmp_path / "bad.csv", energy, np.where(np.arange(700) == 5, np.nan, counts))
    elif case == "negative":
        bad = _write(tmp_path / "bad.csv", energy, np.where(np.arange(700) == 5, -20.0, counts))
    elif case == "garbage":
        bad = tmp_path / "bad.csv"
        bad.write_bytes(b"\x00\x01binary junk\n")
    elif case == "bad_vamas":
        bad = tmp_path / "bad.vms"
        bad.write_text("VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4\ntruncated\n")
    elif case == "truncated_vamas":
        lines = (measured[0] / "sample.vms").read_text().splitlines()
        bad = tmp_path / "bad.vms"
        bad.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    elif case == "magnesium":
        bad = write_vamas(tmp_path / "bad.vms", energy, counts, physics.PHOTON_ENERGIES["Mg"])
    elif case == "directory":
        bad = tmp_path / "folder.csv"
        bad.mkdir()
    elif case == "overflow":
        bad = _write(tmp_path / "bad.csv", energy, counts * 1e302)
    elif case == "five_points":
        bad = _write(tmp_path / "bad.csv", np.linspace(0, 1200, 5), np.full(5, 100.0))
    elif case == "constant":
        bad = _write(tmp_path / "bad.csv", energy, np.full(700, 10.0))
    elif case == "single_spike":
        bad = _write(tmp_path / "bad.csv", energy, np.where(np.arange(700) == 350, 1e5, 10.0))
    elif case == "three_columns":
        bad = tmp_path / "bad.csv"
        np.savetxt(bad, np.c_[energy, counts, counts], delimiter=",")
    else:
        bad = tmp_path / "missing.csv"
    code = main(["xps", "predict", str(out), str(good), str(bad), "--plot", str(tmp_path / "plots")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1 and captured.err.startswith("mlkit: error:") and message in captured.err
    assert captured.out == "" and not (tmp_path / "plots").exists()


def test_predict_rejects_a_model_that_is_not_xps(tmp_path, capsys):
    assert main(["xps", "predict", str(tmp_path), str(tmp_path / "x.csv")]) == 2
    assert "is not a SavedModel" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_checks_the_plot_folder_before_printing(run_directory, measured, tmp_path, capsys):
    out, _ = run_directory
    folder, _, _ = measured
    not_a_folder = tmp_path / "plots"
    not_a_folder.write_text("mine")
    assert main(["xps", "predict", str(out), str(folder / "sample.csv"), "--plot", str(not_a_folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "is a file" in captured.err and not_a_folder.read_text() == "mine"


@pytest.mark.slow
def test_simulate_writes_shards(tmp_path):
    result = run_cli("xps", "simulate", "--n", "30", "--out", tmp_path / "data", "--shard-size", "20",
                     "--set", "points=300", "--set", "source=Mg")
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert manifest["count"] == 30 and len(manifest["shards"]) == 2
    assert manifest["simulator"]["source"] == "Mg" and manifest["binding_energy"][2] == 300
    with np.load(tmp_path / "data" / manifest["shards"][0]["file"]) as shard:
        assert shard["spectra"].shape == (20, 300) and shard["fractions"].shape == (20, 80)

def test_simulate_rejects_bad_settings(tmp_path, capsys):
    for bad in (["--set", "source=Cu"], ["--set", "colour=blue"], ["--n", "0"]):
        assert main(["xps", "simulate", "--n", "5", "--out", str(tmp_path / "bad"), *bad]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and error.startswith("mlkit: error:"), error
        assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("change, match", [({"refine_size": 0}, "`refine_size`"),
                                           ({"refine_workers": 1.5}, "`refine_workers`"),
                                           ({"refine_passes": 0}, "`refine_passes`"),
                                           ({"refine_evaluations": True}, "`refine_evaluations`")])
def test_recipe_refuses_bad_refinement_settings(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        get_recipe("xps").run({**TINY, **change, "out": str(tmp_path / "run")})
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.slow
def test_recipe_trains_from_simulated_shards(tmp_path, run_directory):
    from mlkit.xps import XPSSimulator as Simulator, load_xps_ensemble, write_shards

    write_shards(Simulator(points=300, resolution_levels=1, shift_levels=1), 100, tmp_path / "data", seed=1)
    metrics = get_recipe("xps").run({**TINY, "out": str(tmp_path / "run"), "data_dir": str(tmp_path / "data"),
                                     "epochs": 1, "baseline": False, "test_size": 8})
    assert metrics["train_size"] == 100 and metrics["side_by_side"] is None
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["simulator_settings"]["points"] == 300 and "simulator_settings" in config["recorded"]
    with pytest.raises(ValueError, match="cannot join an ensemble"):  # 300 points against the fixture's 500
        load_xps_ensemble([run_directory[0], tmp_path / "run"])


@pytest.mark.slow
def test_predict_references_a_charged_real_survey(run_directory, tmp_path):
    from pathlib import Path

    import mlkit.xps
    from mlkit.xps import read_spectrum

    out, _ = run_directory
    survey = read_spectrum(Path(mlkit.xps.__file__).parent / "development" / "01_Al-foil_kratos_survey.vms")
    charged = tmp_path / "charged.csv"  # the Kratos Al-foil survey as if charged by +6 eV
    np.savetxt(charged, np.c_[survey.binding_energy + 6.0, survey.counts], delimiter=",",
               header="binding energy,counts")
    result = run_cli("xps", "predict", out, charged)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "C 1s at 291.9 eV; shifted by -7.1 eV to 284.8 eV" in result.stdout
