"""Issue 12: nothing of the user's is destroyed, one writer per run, honest resume, one-line errors."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from mlkit.errors import DestinationExistsError, MlkitError, RunDirectoryBusyError
from mlkit.io import atomic_directory, atomic_path, write_marker
from mlkit.training import RunDirectory, start_run
from mlkit.training.run_directory import RunLock
from mlkit_cli import main


def tree_digest(folder):
    """{relative path: sha256} of every file under `folder`."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def user_folder(tmp_path):
    folder = tmp_path / "thesis"
    (folder / "figures").mkdir(parents=True)
    (folder / "ch1.tex").write_text("\\chapter{Introduction}\n")
    (folder / "figures" / "plot.pdf").write_bytes(os.urandom(256))
    return folder


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished two-epoch xor run (two models, two exports)."""
    out = tmp_path_factory.mktemp("reliability") / "xor"
    assert main(["run", "xor", "--epochs", "1", "--set", "steps_per_epoch=5", "--out", str(out)]) == 0
    return out


# 1. Data loss -------------------------------------------------------------------------------


def test_atomic_directory_never_replaces_a_folder_mlkit_did_not_write(user_folder):
    before = tree_digest(user_folder)
    for replace in (False, True):
        with pytest.raises(DestinationExistsError, match="did not write"):
            with atomic_directory(user_folder, "export", replace=replace) as temporary:
                (temporary / "x").write_text("new")
    assert tree_digest(user_folder) == before
    assert [path.name for path in user_folder.parent.iterdir()] == ["thesis"]  # no temporaries left


def test_atomic_directory_replaces_only_its_own_kind_and_only_when_asked(tmp_path):
    target = tmp_path / "export"
    with atomic_directory(target, "export") as temporary:
        (temporary / "a").write_text("1")
    with pytest.raises(DestinationExistsError, match="--overwrite"):
        with atomic_directory(target, "export") as temporary:
            pass
    with atomic_directory(target, "export", replace=True) as temporary:
        (temporary / "b").write_text("2")
    assert sorted(path.name for path in target.iterdir()) == [".mlkit", "b"]
    write_marker(target, "run")
    with pytest.raises(DestinationExistsError, match="mlkit run directory"):
        with atomic_directory(target, "export", replace=True) as temporary:
            pass


def test_atomic_path_refuses_to_replace_a_directory_with_a_file(user_folder):
    before = tree_digest(user_folder)
    with pytest.raises(IsADirectoryError):
        with atomic_path(user_folder) as temporary:
            temporary.write_text("x")
    assert tree_digest(user_folder) == before


@pytest.mark.slow
def test_export_into_a_user_folder_or_the_run_itself_is_refused(finished_run, user_folder, capsys):
    before, run_before = tree_digest(user_folder), tree_digest(finished_run)
    for target in (user_folder, finished_run):
        assert main(["export", str(finished_run / "mlp"), "--out", str(target), "--overwrite"]) == 2
        assert "refusing to replace" in capsys.readouterr().err
    assert tree_digest(user_folder) == before and tree_digest(finished_run) == run_before


@pytest.mark.slow
def test_export_replaces_its_own_export_only_with_overwrite(finished_run, capsys):
    assert main(["export", str(finished_run)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", str(finished_run), "--overwrite"]) == 0
    assert (finished_run / "export" / "mlp" / "saved_model.pb").is_file()


@pytest.mark.slow
def test_predict_output_never_replaces_a_folder_or_an_unnamed_file(finished_run, user_folder, tmp_path, capsys):
    inputs = tmp_path / "points.npy"
    np.save(inputs, np.array([[0, 1], [1, 0]], "float32"))
    before = tree_digest(user_folder)
    model = str(finished_run / "export" / "mlp")
    assert main(["predict", model, str(inputs), "--output", str(user_folder)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert tree_digest(user_folder) == before
    existing = tmp_path / "predictions.csv"
    existing.write_text("keep me\n")
    assert main(["predict", model, str(inputs), "--output", str(existing)]) == 2
    assert existing.read_text() == "keep me\n"
    assert main(["predict", model, str(inputs), "--output", str(existing), "--overwrite"]) == 0
    assert np.loadtxt(existing, delimiter=",").shape == (2,)
    assert main(["predict", model, str(inputs), "--output", str(existing / "p.csv")]) == 2  # under a file
    assert "does not exist (or is not a folder)" in capsys.readouterr().err


def test_a_run_never_writes_into_a_folder_mlkit_did_not_create(user_folder, capsys):
    before = tree_digest(user_folder)
    assert main(["run", "lda_vs_pca", "--out", str(user_folder)]) == 2
    assert "did not create" in capsys.readouterr().err
    assert tree_digest(user_folder) == before


# 2. Honest resume ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_finished_run_is_reported_not_retrained(finished_run, capsys):
    before = tree_digest(finished_run)
    assert main(["run", "xor", "--epochs", "1", "--set", "steps_per_epoch=5", "--out", str(finished_run)]) == 2
    assert "finished run" in capsys.readouterr().err
    assert main(["run", "xor", "--epochs", "3", "--out", str(finished_run)]) == 2  # a different config too
    assert "finished run" in capsys.readouterr().err
    assert tree_digest(finished_run) == before


@pytest.mark.slow
def test_another_recipe_is_refused_before_it_runs(finished_run, capsys):
    before = tree_digest(finished_run)
    assert main(["run", "lda_vs_pca", "--out", str(finished_run)]) == 2
    assert "holds a run of recipe 'xor'" in capsys.readouterr().err
    assert tree_digest(finished_run) == before


@pytest.mark.slow
def test_overwrite_runs_a_finished_run_again(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "lda_vs_pca", "--out", str(out)]) == 0
    first = json.loads((out / "metrics.json").read_text())
    assert main(["run", "lda_vs_pca", "--out", str(out), "--set", "test_fraction=0.5", "--overwrite"]) == 0
    second = json.loads((out / "metrics.json").read_text())
    assert first["test_size"] != second["test_size"]
    assert json.loads((out / "config.json").read_text())["test_fraction"] == 0.5


KILLABLE_RUN = """
import os, signal, sys
import keras, numpy as np
from mlkit.data import array_dataset
from mlkit.models import mlp
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run, export_model
import mlkit.training.run as run_module

out, kill_at, learning_rate = sys.argv[1], sys.argv[2], float(sys.argv[3])

def die(where):
    if kill_at == where:
        print("killed at", where, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

class Killer(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 2 and self.model.optimizer.iterations.numpy() > 8:
            die("mid-epoch")
    def on_epoch_begin(self, epoch, logs=None):
        print("epoch", epoch, flush=True)

original_export = run_module.export_model
def export_then_die(*args, **kwargs):
    import mlkit.io
    original = mlkit.io.write_marker
    def marker_then_die(directory, kind, **details):
        die("export")  # inside the export: the SavedModel is written but not moved into place
        return original(directory, kind, **details)
    mlkit.io.write_marker = marker_then_die
    try:
        return original_export(*args, **kwargs)
    finally:
        mlkit.io.write_marker = original
run_module.export_model = export_then_die

DEFAULTS = {**OPTIMIZER_DEFAULTS, "epochs": 3, "batch_size": 8}
with start_run("killable", DEFAULTS, {"out": out, "learning_rate": learning_rate}) as run:
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((64, 4)).astype("float32")
    labels = (inputs.sum(axis=1, keepdims=True) > 0).astype("float32")
    with run.strategy.scope():
        model = mlp((4,), (8,))
        model.compile(optimizer=run.optimizer(), loss="binary_crossentropy")
    run.record_model("model", model)
    best, history = fit(model, array_dataset(inputs, labels, 8), array_dataset(inputs, labels, 8), run,
                        epochs=run.config["epochs"], verbose=0, callbacks=[Killer()])
    die("after-training")
    run.finish({"epochs": len(history)}, exports={"model": best}, sample=inputs[:4])
print("finished", flush=True)
"""


def _killable(out, kill_at, learning_rate=0.01):
    return subprocess.run([sys.executable, "-c", KILLABLE_RUN, str(out), kill_at, str(learning_rate)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at, epochs_after", [
    ("mid-epoch", ["epoch", "1", "epoch", "2"]),  # killed in epoch 1: epoch 1 runs again
    ("after-training", []),  # training finished: straight to export
    ("export", []),
])
def test_a_run_killed_anywhere_resumes_where_it_stopped(tmp_path, kill_at, epochs_after):
    out = tmp_path / "run"
    killed = _killable(out, kill_at)
    assert killed.returncode == -9 and f"killed at {kill_at}" in killed.stdout, killed.stderr[-2000:]
    resumed = _killable(out, "never")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.split() == epochs_after + ["finished"]
    history = [line.split(",")[0] for line in (out / "history.csv").read_text().splitlines()[1:]]
    assert history == ["0", "1", "2"]
    assert (out / "export" / "model" / "saved_model.pb").is_file()
    assert not [path.name for path in (out / "export").iterdir() if path.name.startswith(".")]  # no debris
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3


@pytest.mark.slow
def test_resume_with_a_changed_setting_is_refused_before_anything_runs(tmp_path):
    out = tmp_path / "run"
    assert _killable(out, "mid-epoch").returncode == -9
    before = tree_digest(out)
    changed = _killable(out, "never", learning_rate=0.05)
    assert changed.returncode == 1 and "different config (learning_rate)" in changed.stderr
    assert "epoch" not in changed.stdout
    assert {key: value for key, value in tree_digest(out).items() if key != ".lock"} == {
        key: value for key, value in before.items() if key != ".lock"}


# 3. One writer -------------------------------------------------------------------------------


HOLD_THE_RUN = """
import sys, time
from mlkit.training import start_run
with start_run("lda_vs_pca", {"test_fraction": 0.3}, {"out": sys.argv[1]}) as run:
    print("holding", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
@pytest.mark.parametrize("hdf5_locking", ["TRUE", "FALSE"])
def test_a_second_process_on_the_same_run_gets_one_clear_line(tmp_path, hdf5_locking):
    out = tmp_path / "run"
    environment = {**os.environ, "HDF5_USE_FILE_LOCKING": hdf5_locking}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_RUN, str(out)], stdout=subprocess.PIPE, text=True,
                              env=environment)
    try:
        assert holder.stdout.readline().strip() == "holding"
        second = subprocess.run([sys.executable, "-m", "mlkit_cli", "run", "lda_vs_pca", "--out", str(out)],
                                capture_output=True, text=True, timeout=120, env=environment)
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            f"mlkit: error: {out} is in use by another mlkit run (pid {holder.pid}); wait for it or choose another --out"]
    finally:
        holder.kill()
        holder.wait()
    assert main(["run", "lda_vs_pca", "--out", str(out)]) == 0  # the kernel freed the dead holder's lock


def test_the_run_lock_is_exclusive_within_one_process_too(tmp_path):
    RunDirectory(tmp_path / "run")
    first = RunLock(tmp_path / "run").acquire()
    with pytest.raises(RunDirectoryBusyError, match="in use"):
        RunLock(tmp_path / "run").acquire()
    first.release()
    RunLock(tmp_path / "run").acquire().release()


# 4., 5. and 7. One line, nothing left behind ---------------------------------------------------


@pytest.mark.parametrize("settings, message", [
    (["--set", "epochs=[1,"], "not valid JSON"),
    (["--set", 'epochs="abc"'], "`epochs` must be an integer"),
    (["--set", "learning_rate=-1"], "`learning_rate` must be positive"),
    (["--set", "activation=swish"], "`activation` must be one of"),
    (["--set", "steps_per_epoch=0"], "`steps_per_epoch` must be positive"),
    (["--set", "strategy=horovod"], "`strategy` must be one of"),
])
def test_bad_settings_leave_no_run_folder(tmp_path, capsys, settings, message):
    root = tmp_path / "runs"
    assert main(["run", "xor", "--set", f"runs_root={json.dumps(str(root))}", *settings]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not root.exists()


def test_out_pointing_at_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["run", "lda_vs_pca", "--out", str(target)]) == 2
    assert capsys.readouterr().err == f"mlkit: error: {target} is a file, not a run directory\n"
    assert target.read_text() == "mine"


@pytest.mark.slow
def test_a_truncated_model_keras_is_one_line_naming_the_file(finished_run, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    write_marker(run, "run")
    with zipfile.ZipFile(finished_run / "mlp" / "model.keras") as source, \
            zipfile.ZipFile(run / "model.keras", "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith(".h5") else data)
    assert main(["export", str(run), "--out", str(tmp_path / "export")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mlkit: error: cannot load {run / 'model.keras'}")
    assert not (tmp_path / "export").exists()
    (run / "model.keras").write_bytes(b"not a zip file")
    assert main(["export", str(run), "--out", str(tmp_path / "export")]) == 2
    err = capsys.readouterr().err
    assert "cannot load" in err and "not found" not in err.lower()


@pytest.mark.slow
@pytest.mark.parametrize("damaged", ["saved_model.pb", "variables/variables.data-00000-of-00001"])
def test_a_truncated_saved_model_is_one_line(finished_run, tmp_path, capsys, damaged):
    import shutil

    export = tmp_path / "export"
    shutil.copytree(finished_run / "export" / "mlp", export)
    path = export / damaged
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    np.save(tmp_path / "points.npy", np.zeros((1, 2), "float32"))
    assert main(["predict", str(export), str(tmp_path / "points.npy")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot load the SavedModel in {export}" in err


def test_stale_export_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".export.{dead.stdout.strip()}.0123abcd.tmp"
    (stale / "variables").mkdir(parents=True)
    with atomic_directory(tmp_path / "export", "export") as temporary:
        (temporary / "saved_model.pb").write_text("x")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]


def test_internal_errors_are_one_line_without_debug_and_a_traceback_with_it(monkeypatch, capsys):
    from mlkit import cli

    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(cli, "run_command", broken)
    assert main(["recipes"]) == 1
    assert capsys.readouterr().err == "mlkit: internal error: TypeError: a bug (rerun with --debug for the traceback)\n"
    with pytest.raises(TypeError):
        main(["--debug", "recipes"])


def test_fit_names_a_zero_steps_per_epoch(tmp_path):
    from mlkit.data import array_dataset
    from mlkit.models import mlp
    from mlkit.training import fit

    model = mlp((2,), (2,))
    model.compile("sgd", "mse")
    data = array_dataset(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), 2)
    with pytest.raises(ValueError, match="`steps_per_epoch` must be a positive integer"):
        fit(model, data, data, RunDirectory(tmp_path / "run"), epochs=1, steps_per_epoch=0)


def test_plots_of_files_with_the_same_name_do_not_collide(tmp_path):
    from mlkit.cli import plot_names

    assert plot_names(["a/x.csv", "b/x.csv", "y.vms"]) == ["a_x.csv.png", "b_x.csv.png", "y.vms.png"]
    assert len(set(plot_names(["x.csv", "x.csv"]))) == 2


# 9. Start-up ---------------------------------------------------------------------------------


def test_help_and_argument_errors_do_not_import_tensorflow():
    code = textwrap.dedent("""
        import sys
        import mlkit_cli
        for argv in (["--help"], ["run", "nope"], ["run", "xor", "--epochs", "x"]):
            try:
                mlkit_cli.main(argv)
            except SystemExit:
                pass
        print("tensorflow" in sys.modules, "keras" in sys.modules, "mlkit" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "False False False"


@pytest.mark.slow
def test_tensorflow_start_up_lines_are_not_shown(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mlkit_cli", "run", "lda_vs_pca", "--out", str(tmp_path / "r")],
                            capture_output=True, text=True, timeout=300,
                            env={key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cudart_stub" not in result.stderr and "absl::InitializeLog" not in result.stderr
    assert "cuInit" not in result.stderr


def test_start_run_restores_the_precision_policy_and_releases_the_lock_on_failure(tmp_path):
    import keras

    with pytest.raises(RuntimeError, match="boom"):
        with start_run("lda_vs_pca", {"test_fraction": 0.3}, {"out": str(tmp_path / "run"),
                                                                 "precision": "mixed_bfloat16"}) as run:
            assert keras.mixed_precision.global_policy().name == run.config["precision_policy"] == "mixed_bfloat16"
            raise RuntimeError("boom")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert not (tmp_path / "run").exists()  # nothing trained: nothing kept
    with pytest.raises(MlkitError, match="did not create"):
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "file").write_text("x")
        RunDirectory(tmp_path / "other")
