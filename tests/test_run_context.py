"""The run context (`start_run`), config checks, and the loops beyond `model.fit`."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from conftest import KILL_AT_EPOCH, kill_then_resume
from mlkit.errors import MlkitError
from mlkit.models import mlp
from mlkit.training import OPTIMIZER_DEFAULTS, TrainingLoop, RunDirectory, make_optimizer, merge_config, start_run

DEFAULTS = {**OPTIMIZER_DEFAULTS, "epochs": 2, "batch_size": 8, "hidden_units": [4], "activation": "relu",
            "dropout": 0.0, "flag": False, "settings": {}}


def test_merge_config_checks_types_and_signs_against_the_defaults():
    assert merge_config(DEFAULTS, {"epochs": 5, "learning_rate": 1})["learning_rate"] == 1
    for key, value, message in [
        ("epochs", "abc", "`epochs` must be an integer"),
        ("epochs", 2.5, "`epochs` must be an integer"),
        ("epochs", True, "`epochs` must be an integer"),
        ("batch_size", 0, "`batch_size` must be positive"),
        ("learning_rate", float("nan"), "`learning_rate` must be a finite number"),
        ("dropout", -0.1, "`dropout` must be non-negative"),
        ("hidden_units", "[4, 8", "`hidden_units` must be a list"),
        ("activation", 3, "`activation` must be a string"),
        ("flag", "yes", "`flag` must be true or false"),
        ("settings", [1], "`settings` must be a JSON object"),
        ("precision", "int8", "`precision` must be one of"),
        ("seed", -1, "`seed` must be non-negative"),
        ("clipnorm", "big", "`clipnorm` must be a finite number"),
        ("schedule", "linear", "`schedule` must be one of cosine, cosine_warmup"),
        ("jit_compile", "yes", "`jit_compile` must be true, false or \"auto\""),
        ("jit_compile", 1, "`jit_compile` must be true, false or \"auto\""),
        ("epoch", 3, "Unknown config key"),
    ]:
        with pytest.raises(ValueError, match=message):
            merge_config({**DEFAULTS, "jit_compile": "auto"}, {key: value})


def test_jit_compile_auto_means_xla_on_a_cpu_only_machine(tmp_path):
    import tensorflow as tf

    defaults = {**DEFAULTS, "jit_compile": "auto"}
    cpu_only = not tf.config.list_logical_devices("GPU") and not tf.config.list_logical_devices("TPU")
    for setting, expected in (("auto", True if cpu_only else "auto"), (False, False), (True, True)):
        with start_run("demo", defaults, {"out": str(tmp_path / str(setting)), "jit_compile": setting,
                                           "strategy": "default"}) as run:
            assert run.jit_compile == expected
    with start_run("demo", DEFAULTS, {"out": str(tmp_path / "none")}) as run:
        assert run.jit_compile is False  # recipes without the setting compile as Keras does by default


def test_start_run_gives_config_batch_optimizer_and_records_models(tmp_path):
    out = tmp_path / "run"
    with start_run("demo", DEFAULTS, {"out": str(out), "optimizer": "sgd", "learning_rate": 0.5,
                                       "clipnorm": 1.0}) as run:
        assert json.loads((out / "config.json").read_text())["learning_rate"] == 0.5  # written before training
        assert run.global_batch_size == 8 * run.strategy.num_replicas_in_sync
        optimizer = run.optimizer(momentum=0.9)
        assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.clipnorm == 1.0
        assert float(optimizer.learning_rate) == pytest.approx(0.5) and optimizer.momentum == 0.9
        model = mlp((3,), (4,))
        run.record_model("encoder", model)
        run.record_model("decoder", mlp((4,), (3,)))
        child = run.child("encoder")
        assert child.path == out / "encoder" and child.config is run.config
        metrics = run.finish({"score": 1.0}, exports={"encoder": model}, input_range=(0.0, 1.0))
    config = json.loads((out / "config.json").read_text())
    assert set(config["builders"]) == {"encoder", "decoder"} and config["builders"]["encoder"]["builder"] == "mlp"
    assert metrics["exports"] == {"encoder": str(out / "export" / "encoder")}
    serving = json.loads((out / "export" / "encoder" / "serving.json").read_text())
    assert serving["input_range"] == [0.0, 1.0] and serving["input_shapes"] == [[3]]
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_optimizer_schedules_from_config():
    optimizer = make_optimizer("adam", 0.1, schedule={"class_name": "CosineDecay", "config": {"decay_steps": 10}})
    schedule = optimizer._learning_rate  # `learning_rate` itself reads the schedule's current value
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(0)) == pytest.approx(0.1) and float(schedule(10)) == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="`schedule`"):
        make_optimizer("adam", 0.1, schedule={"class_name": "NoSuchDecay"})
    with pytest.raises(ValueError, match="`optimizer` 'adamm'"):
        make_optimizer("adamm", 0.1)


def test_a_record_is_not_a_setting_and_does_not_break_resume(tmp_path):
    out = tmp_path / "run"
    with start_run("demo", DEFAULTS, {"out": str(out)}) as run:
        run.record("data_found", {"rows": 10})
        with pytest.raises(ValueError, match="`epochs` is a setting"):
            run.record("epochs", 3)
        (out / "history.csv").write_text("epoch,loss\n0,1.0\n")  # as if training had started
    with start_run("demo", DEFAULTS, {"out": str(out)}) as run:  # same settings: resumes
        assert json.loads((out / "config.json").read_text())["data_found"] == {"rows": 10}
    with pytest.raises(MlkitError, match=r"different config \(epochs\)"):
        with start_run("demo", DEFAULTS, {"out": str(out), "epochs": 3}):
            pass


def test_a_run_resumes_after_its_recipe_gains_a_setting(tmp_path):
    out = tmp_path / "run"
    with start_run("demo", DEFAULTS, {"out": str(out)}):
        (out / "history.csv").write_text("epoch,loss\n0,1.0\n")  # killed during training, by an older version
    newer = {**DEFAULTS, "margin": 0.5}
    with pytest.raises(MlkitError, match=r"different config \(margin\)"):  # unknown what the old code did
        with start_run("demo", newer, {"out": str(out)}):
            pass
    with pytest.raises(MlkitError, match=r"different config \(margin\)"):  # the old code did something else
        with start_run("demo", newer, {"out": str(out)}, added={"margin": 0.0}):
            pass
    with start_run("demo", newer, {"out": str(out)}, added={"margin": 0.5}) as run:  # the old code did this
        assert run.config["margin"] == 0.5
    assert json.loads((out / "config.json").read_text())["margin"] == 0.5
    with start_run("demo", newer, {"out": str(out)}):  # recorded now: no `added` needed any more
        pass


# A loop that does not call fit: plain gradient steps on a model through a custom loop.
LOOP_RUN = """
import os, signal, sys
import keras, numpy as np, tensorflow as tf
from mlkit.models import mlp
from mlkit.training import RunDirectory, TrainingLoop, set_seed

set_seed(0)
directory, kill_at = RunDirectory(sys.argv[1]), int(sys.argv[2])
model = mlp((2,), (4,), output_activation=None)
optimizer = keras.optimizers.SGD(0.1)
inputs = tf.constant(np.random.default_rng(0).standard_normal((32, 2)), tf.float32)
targets = tf.reduce_sum(inputs, axis=1, keepdims=True)
loop = TrainingLoop(directory, epochs=4, state={"model": model, "optimizer": optimizer})
for epoch in loop:
    print("epoch", epoch, flush=True)
    for _ in range(5):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(inputs) - targets) ** 2)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    loop.log(loss=float(loss), step=int(optimizer.iterations.numpy()))
    if epoch == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
print("weights", float(np.sum(model.get_weights()[0])), flush=True)
"""


@pytest.mark.slow
def test_a_custom_loop_resumes_after_sigkill_with_the_same_result(tmp_path, fresh_python):
    killed = fresh_python(LOOP_RUN, tmp_path / "killed", 1)
    assert killed.returncode == -9 and killed.stdout.split() == ["epoch", "0", "epoch", "1"]
    resumed = fresh_python(LOOP_RUN, tmp_path / "killed", -1)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.split()[:4] == ["epoch", "2", "epoch", "3"]
    straight = fresh_python(LOOP_RUN, tmp_path / "straight", -1)
    assert resumed.stdout.split()[-1] == straight.stdout.split()[-1]  # the same weights as without the kill
    history = pd.read_csv(tmp_path / "killed" / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2, 3] and list(history["step"]) == [5, 10, 15, 20]
    assert (tmp_path / "killed" / "plots" / "history.png").is_file()
    assert RunDirectory(tmp_path / "killed").is_done("loop:loop")


def test_training_loop_drops_history_rows_past_the_checkpoint(tmp_path):
    directory = RunDirectory(tmp_path / "run")
    variable = keras.Variable(0.0)
    loop = TrainingLoop(directory, epochs=3, state={"value": variable})
    for epoch in loop:
        variable.assign(variable + 1)
        loop.log(value=float(variable))
    # a kill between a history row and its checkpoint leaves one row too many
    pd.DataFrame({"epoch": [0, 1, 2, 3], "value": [1, 2, 3, 4]}).to_csv(directory.history, index=False)
    again = TrainingLoop(directory, epochs=3, state={"value": keras.Variable(0.0)})
    assert list(again) == [] and list(again.history()["epoch"]) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without `loop.log"):
        for _ in TrainingLoop(RunDirectory(tmp_path / "other"), epochs=2, state={"value": keras.Variable(0.0)}):
            pass
    with pytest.raises(ValueError, match="`epochs` must be a positive integer"):
        TrainingLoop(directory, epochs=0, state={"value": variable})


# A Model subclass with its own train_step (the GAN shape: two sub-models, two optimizers).
SUBCLASS_RUN = """
import os, signal, sys
import keras, numpy as np, tensorflow as tf
from mlkit.data import array_dataset
from mlkit.models import mlp
from mlkit.training import RunDirectory, fit, set_seed


@keras.saving.register_keras_serializable(package="tests")
class TwoPlayer(keras.Model):
    def __init__(self, width=4, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.first = keras.layers.Dense(width, name="first")
        self.second = keras.layers.Dense(1, name="second")

    def call(self, inputs):
        return self.second(self.first(inputs))

    def compile(self, first_optimizer, second_optimizer, **kwargs):
        super().compile(**kwargs)
        self.first_optimizer, self.second_optimizer = first_optimizer, second_optimizer
        if sys.argv[3] == "build":  # built optimizers have state for BackupAndRestore to restore
            first_optimizer.build(self.first.trainable_variables)
            second_optimizer.build(self.second.trainable_variables)

    def train_step(self, data):
        inputs, targets = data
        with tf.GradientTape(persistent=True) as tape:
            loss = tf.reduce_mean((self(inputs) - targets) ** 2)
        self.first_optimizer.apply_gradients(
            zip(tape.gradient(loss, self.first.trainable_variables), self.first.trainable_variables))
        self.second_optimizer.apply_gradients(
            zip(tape.gradient(loss, self.second.trainable_variables), self.second.trainable_variables))
        return {"loss": loss}

    def get_config(self):
        return {**super().get_config(), "width": self.width}

""" + KILL_AT_EPOCH + """

set_seed(0)
rng = np.random.default_rng(0)
inputs = rng.standard_normal((32, 3)).astype("float32")
targets = inputs.sum(axis=1, keepdims=True)
model = TwoPlayer()
model(inputs[:1])  # creates the layers' variables, which the optimizers are built for
model.compile(keras.optimizers.SGD(0.05), keras.optimizers.Adam(0.01))
fit(model, array_dataset(inputs, targets, 8), None, RunDirectory(sys.argv[1]), epochs=4,
    keep="last", verbose=0, callbacks=[Kill()])
print("iterations", int(model.first_optimizer.iterations.numpy()), int(model.second_optimizer.iterations.numpy()))
"""


@pytest.mark.slow
def test_a_custom_train_step_model_goes_through_fit_and_resumes_after_sigkill(tmp_path, fresh_python):
    lines = kill_then_resume(SUBCLASS_RUN, tmp_path / "killed", 2, "build")
    assert lines[0].split() + lines[1].split() == ["epoch", "2", "epoch", "3"]
    # both optimizers were restored: 2 epochs × 4 steps before the kill, 2 × 4 after
    assert lines[2].split() == ["iterations", "16", "16"]
    # (that the final weights equal an uninterrupted run's is checked for the GAN, in test_gan.py)
    assert list(pd.read_csv(tmp_path / "killed" / "history.csv")["epoch"]) == [0, 1, 2, 3]
    # Unbuilt extra optimizers would silently restart from scratch on resume: fit refuses them.
    unbuilt = fresh_python(SUBCLASS_RUN, tmp_path / "unbuilt", -1, "lazy")
    assert unbuilt.returncode == 1 and "`first_optimizer` is not built" in unbuilt.stderr


def test_a_subclassed_model_exports_with_a_sample(tmp_path):
    import tensorflow as tf

    from mlkit.training import export_model

    class Doubler(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return 2 * self.dense(inputs)

    model = Doubler()
    inputs = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    model(inputs)
    with pytest.raises(ValueError, match="pass `sample`"):
        export_model(model, tmp_path / "no_sample")
    path = export_model(model, tmp_path / "export", inputs)
    served = tf.saved_model.load(str(path))
    np.testing.assert_allclose(served.serve(tf.constant(inputs)), model(inputs), rtol=1e-6)
    assert json.loads((path / "serving.json").read_text())["input_shapes"] == [[4]]


def test_overwrite_starts_an_unfinished_run_afresh_but_never_another_recipes(tmp_path):
    out = tmp_path / "run"
    with start_run("demo", DEFAULTS, {"out": str(out)}):
        (out / "history.csv").write_text("epoch,loss\n0,1.0\n")  # as if killed during training
    with start_run("demo", DEFAULTS, {"out": str(out), "epochs": 3}, overwrite=True) as run:
        assert not (out / "history.csv").exists() and run.config["epochs"] == 3
        assert json.loads((out / "config.json").read_text())["epochs"] == 3
    with pytest.raises(MlkitError, match="holds a run of recipe 'demo'"):
        with start_run("other", DEFAULTS, {"out": str(out)}, overwrite=True):
            pass
    assert json.loads((out / "config.json").read_text())["recipe"] == "demo"


def test_cosine_schedule_decays_over_the_run():
    optimizer = make_optimizer("adam", 0.01, schedule="cosine", total_steps=100)
    schedule = optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(0.01) and float(schedule(50)) == pytest.approx(0.005, rel=1e-4)
    with pytest.raises(ValueError, match="total number of steps"):
        make_optimizer("adam", 0.01, schedule="cosine")
