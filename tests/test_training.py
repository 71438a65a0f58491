import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from mlkit.data import array_dataset
from mlkit.errors import MlkitError
from mlkit.io import atomic_path, write_json
from mlkit.models import mlp
from mlkit.training import RunDirectory, export_model, fit, merge_config, resolve_strategy, set_seed


def _tiny_problem():
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((64, 4)).astype("float32")
    labels = (inputs.sum(axis=1, keepdims=True) > 0).astype("float32")
    return array_dataset(inputs, labels, 16, shuffle=True), array_dataset(inputs, labels, 16)


@pytest.mark.slow
def test_fit_writes_the_run_directory(tmp_path):
    set_seed(0)
    train, validation = _tiny_problem()
    model = mlp((4,), (8,))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    run_directory = RunDirectory(tmp_path / "run")
    best, history = fit(model, train, validation, run_directory, epochs=3, verbose=0)
    assert list(history["epoch"]) == [0, 1, 2]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history.columns)
    assert run_directory.model.is_file() and (run_directory.plots / "learning_curves.png").is_file()
    assert not run_directory.is_resuming  # backup removed after a finished run
    expected = min(history["val_loss"])
    assert best.evaluate(validation, verbose=0)[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_fit_without_validation_monitors_the_training_loss_or_keeps_the_last_epoch(tmp_path):
    set_seed(0)
    train, _ = _tiny_problem()
    for keep in ("best", "last"):
        model = mlp((4,), (8,))
        model.compile(optimizer="adam", loss="binary_crossentropy")
        run_directory = RunDirectory(tmp_path / keep)
        kept, history = fit(model, train, None, run_directory, epochs=3, keep=keep, verbose=0)
        assert list(history.columns) == ["epoch", "loss"] and len(history) == 3
        np.testing.assert_allclose(kept.get_weights()[0], model.get_weights()[0])  # loss falls: best is last
        assert run_directory.done_info("fit") == {"epochs": 3, "monitor": "loss", "keep": keep}
    with pytest.raises(ValueError, match="`monitor` 'val_accuracy' needs validation data"):
        fit(model, train, None, RunDirectory(tmp_path / "x"), epochs=1, monitor="val_accuracy")
    with pytest.raises(ValueError, match="`epochs` must be a positive integer"):
        fit(model, train, train, RunDirectory(tmp_path / "y"), epochs=0)
    with pytest.raises(ValueError, match="`keep` must be 'best' or 'last'"):
        fit(model, train, train, RunDirectory(tmp_path / "z"), epochs=1, keep="first")


@pytest.mark.slow
def test_a_finished_fit_is_not_trained_again(tmp_path):
    set_seed(0)
    train, validation = _tiny_problem()
    model = mlp((4,), (8,))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    run_directory = RunDirectory(tmp_path / "run")
    first, _ = fit(model, train, validation, run_directory, epochs=2, verbose=0)
    fresh = mlp((4,), (8,))
    fresh.compile(optimizer="adam", loss="binary_crossentropy")
    again, history = fit(fresh, train, validation, run_directory, epochs=2, verbose=0)
    assert len(history) == 2 and int(fresh.optimizer.iterations.numpy()) == 0  # not a single step taken
    np.testing.assert_allclose(again.get_weights()[0], first.get_weights()[0])


def test_run_directory_refuses_a_different_config(tmp_path):
    run_directory = RunDirectory(tmp_path / "run")
    run_directory.write_config({"epochs": 2, "hidden": (1, 2)})
    run_directory.write_config({"epochs": 2, "hidden": [1, 2]})  # the same config: fine (resume)
    with pytest.raises(MlkitError, match="different config"):
        run_directory.write_config({"epochs": 3, "hidden": [1, 2]})


def test_timestamped_run_directories_do_not_collide(tmp_path):
    first = RunDirectory.create("recipe", root=tmp_path)
    second = RunDirectory.create("recipe", root=tmp_path)
    assert first.path != second.path and first.path.parent == tmp_path / "recipe"


def test_atomic_writes_leave_nothing_half_written(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError, match="crash while writing"):
        with atomic_path(target) as temporary:
            temporary.write_text("{half")
            raise RuntimeError("crash while writing")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["metrics.json"]


def test_merge_config_rejects_unknown_keys():
    assert merge_config({"epochs": 3}, {"epochs": None})["epochs"] == 3
    assert merge_config({"epochs": 3}, {"epochs": 5})["epochs"] == 5
    with pytest.raises(ValueError, match="Unknown config key"):
        merge_config({"epochs": 3}, {"epoch": 5})


def test_resolve_strategy():
    import tensorflow as tf

    assert resolve_strategy("default") is tf.distribute.get_strategy()
    assert resolve_strategy("auto").num_replicas_in_sync == 1  # no GPU or TPU here
    with pytest.raises(ValueError, match="Unknown strategy"):
        resolve_strategy("horovod")


def test_set_seed_rejects_bad_seed():
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
        set_seed(-1)
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
        set_seed("zero")


RESUMABLE_RUN = """
import os, signal, sys
import keras, numpy as np
from mlkit.data import array_dataset
from mlkit.models import mlp
from mlkit.training import RunDirectory, fit, set_seed

run_directory, kill = RunDirectory(sys.argv[1]), sys.argv[2] == "kill"
set_seed(0)
rng = np.random.default_rng(0)
inputs = rng.standard_normal((64, 4)).astype("float32")
labels = (inputs.sum(axis=1, keepdims=True) > 0).astype("float32")
model = mlp((4,), (8,))
model.compile(optimizer="adam", loss="binary_crossentropy")

class Report(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        print("epoch", epoch, flush=True)
        if kill and epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # a hard crash: no cleanup runs

fit(model, array_dataset(inputs, labels, 16), array_dataset(inputs, labels, 16), run_directory,
    epochs=3, verbose=0, callbacks=[Report()])
print("finished", flush=True)
"""


@pytest.mark.slow
def test_a_killed_run_resumes_from_the_next_epoch(tmp_path, fresh_python):
    run = tmp_path / "run"
    killed = fresh_python(RESUMABLE_RUN, run, "kill")
    assert killed.returncode != 0 and "finished" not in killed.stdout
    assert killed.stdout.split() == ["epoch", "0", "epoch", "1"]
    assert RunDirectory(run).is_resuming

    resumed = fresh_python(RESUMABLE_RUN, run, "resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.split() == ["epoch", "1", "epoch", "2", "finished"]
    history = pd.read_csv(run / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2]
    assert not RunDirectory(run).is_resuming


MIRRORED_STEP = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json, keras, numpy as np
from mlkit.models import mnist_dnn
from mlkit.training import resolve_strategy

rng = np.random.default_rng(0)
images = rng.random((64, 28, 28, 1)).astype("float32")
labels = rng.integers(0, 10, 64)
results = {}
for name in ("default", "mirrored"):
    keras.utils.set_random_seed(0)
    strategy = resolve_strategy(name)
    per_replica = 64 // strategy.num_replicas_in_sync  # the same global batch for both
    with strategy.scope():
        model = mnist_dnn(hidden_units=(32,), dropout=0.0)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(per_replica * strategy.num_replicas_in_sync)
    history = model.fit(dataset, epochs=1, verbose=0)
    results[name] = {
        "replicas": strategy.num_replicas_in_sync,
        "step_loss": history.history["loss"][0],
        "loss_after": model.evaluate(dataset, verbose=0),
    }
print(json.dumps(results))
"""


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpus_matches_the_default_strategy(fresh_python):
    result = fresh_python(MIRRORED_STEP)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert results["default"]["replicas"] == 1 and results["mirrored"]["replicas"] == 2
    for key in ("step_loss", "loss_after"):
        assert results["mirrored"][key] == pytest.approx(results["default"][key], rel=1e-4), key
    assert results["default"]["loss_after"] < results["default"]["step_loss"]


def test_mixed_precision_models_export_in_float32(tmp_path):

    from mlkit.models import simple_cnn
    from mlkit.training import set_precision
    from mlkit.training.export import float32_model

    assert set_precision("mixed_bfloat16") == "mixed_bfloat16"
    keras.utils.set_random_seed(0)
    model = simple_cnn(input_shape=(12, 12, 1), filters=(4,), dense_units=(8,), num_classes=3)
    set_precision("float32")
    assert model.layers[1].compute_dtype == "bfloat16" and model.output.dtype == "float32"
    images = np.random.default_rng(0).random((4, 12, 12, 1)).astype("float32")
    clone = float32_model(model)
    assert all(layer.compute_dtype == "float32" for layer in clone.layers)
    assert clone.builder_config == model.builder_config
    path = export_model(model, tmp_path / "export", images)
    reloaded = tf.saved_model.load(str(path))  # keep a reference: its variables die with it
    served = reloaded.serve(tf.constant(images)).numpy()
    np.testing.assert_allclose(served, clone(images).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(served, model(images).numpy(), atol=0.02)  # bfloat16 keeps ~3 digits


def test_precision_names():
    from mlkit.training import resolve_precision

    assert resolve_precision("float32") == "float32"
    assert resolve_precision("auto") in ("float32", "mixed_bfloat16", "mixed_float16")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("int8")
