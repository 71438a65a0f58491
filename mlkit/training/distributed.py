"""Training on several machines with `tf.distribute.MultiWorkerMirroredStrategy`.

- `multi_worker_strategy()`: the cluster from TF_CONFIG (hand-written, Kubernetes operators, `mlkit
  launch`) or from Slurm's environment, checked first so that a bad TF_CONFIG is one clear error.
- `distributed_fit()`: the training loop `fit` runs under this strategy. Keras 3's `model.fit` fails
  under MultiWorkerMirroredStrategy (keras-team/keras#20585; reproduced with TensorFlow 2.21 and
  Keras 3.15: "Attempt to convert a value (PerReplica…) to a Tensor"), so this loop calls the model's
  own `train_step`/`test_step` through `strategy.run` and reduces the logs with `strategy.reduce`,
  driving the same Keras callbacks as `fit` (history.csv, checkpoints, BackupAndRestore, early
  stopping, NaN stop, plateau schedule). Only the chief writes the run directory; the other workers
  write into temporary directories (see `start_run`). On a resumed run the chief restores the backup
  and broadcasts weights, optimizer state and epoch to every worker, so the workers need no shared
  file system.
- Sharding: in-memory pipelines are split by DATA (each worker takes its part of every global batch),
  pipelines that read files keep their FILE policy; either way every example is used once per epoch.
"""

import json
import os
import time

import keras
import tensorflow as tf

from mlkit.io import read_json, write_json

# A collective that waits longer than this for a peer fails instead of hanging (a worker died).
COLLECTIVE_TIMEOUT_SECONDS = float(os.environ.get("MLKIT_COLLECTIVE_TIMEOUT", 600))


def check_tf_config(text):
    """TF_CONFIG parsed and checked: {"cluster": {type: ["host:port", …]}, "task": {"type", "index"}}."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not JSON ({error.msg} at character {error.pos}).") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster or not all(
            isinstance(hosts, list) and hosts and all(isinstance(h, str) and ":" in h for h in hosts)
            for hosts in cluster.values()):
        raise ValueError('TF_CONFIG needs "cluster": {"worker": ["host:port", ...]} (non-empty lists of host:port).')
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError('TF_CONFIG needs "task": {"type": "worker", "index": N} naming this process.')
    if task["type"] not in cluster:
        raise ValueError(f"TF_CONFIG task type {task['type']!r} is not in the cluster ({', '.join(cluster)}).")
    index = task["index"]
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise ValueError(f"TF_CONFIG task index {index!r} is out of range: the cluster has "
                         f"{len(cluster[task['type']])} {task['type']} task(s).")
    return config


def cluster_resolver():
    """TF_CONFIG's cluster, else Slurm's (one task per node or per GPU), else a ValueError."""
    text = os.environ.get("TF_CONFIG")
    if text is not None:
        check_tf_config(text)
        return tf.distribute.cluster_resolver.TFConfigClusterResolver()
    if os.environ.get("SLURM_JOB_ID") and int(os.environ.get("SLURM_NTASKS", "1")) > 1:
        port = int(os.environ.get("MLKIT_SLURM_PORT", 8888))
        return tf.distribute.cluster_resolver.SlurmClusterResolver(port_base=port)
    raise ValueError("--strategy multi_worker needs the cluster: set TF_CONFIG (see README), run under Slurm "
                     "with several tasks, or use `mlkit launch --workers N` on one machine.")


def multi_worker_strategy():
    """MultiWorkerMirroredStrategy over the resolved cluster (call before any other TensorFlow work)."""
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=COLLECTIVE_TIMEOUT_SECONDS)
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=cluster_resolver(),
                                                     communication_options=options)


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """True for the task that writes results: "chief", or worker 0 when the cluster has no chief."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def worker_count(strategy):
    return strategy.extended._num_workers if is_multi_worker(strategy) else 1  # noqa: SLF001 (no public name)


def shard(dataset):
    """DATA sharding for in-memory pipelines; a pipeline that chose a policy (FILE for shard files) keeps it."""
    policy = dataset.options().experimental_distribute.auto_shard_policy
    if policy != tf.data.experimental.AutoShardPolicy.AUTO:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def broadcast_from_chief(strategy, variables, chief):
    """Every worker's `variables` set to the chief's (a sum in which the others add zeros)."""
    if not variables:
        return
    scale = 1.0 if chief else 0.0

    @tf.function
    def gather():
        def replica():
            context = tf.distribute.get_replica_context()
            values = [tf.cast(tf.convert_to_tensor(variable), tf.float64) * scale for variable in variables]
            return context.all_reduce("SUM", values)
        return strategy.run(replica)

    summed = [strategy.experimental_local_results(value)[0] for value in gather()]
    for variable, value in zip(variables, summed):
        variable.assign(tf.cast(value, variable.dtype))


def distribute(strategy, dataset):
    """A `tf.data.Dataset` batched at the global batch size, distributed (sharded, then split into the
    per-replica batches); a dataset already distributed (`strategy.distribute_datasets_from_function`,
    e.g. over `mlkit.xps.shard_dataset(..., input_context=...)`) is returned as it is."""
    if not isinstance(dataset, tf.data.Dataset):  # None, or distributed already
        return dataset
    return strategy.experimental_distribute_dataset(shard(dataset))


def distributed_fit(model, train, validation, callbacks, epochs, strategy, verbose=2, steps_per_epoch=None,
                    record=None):
    """Train `model` (built in `strategy.scope()`) for `epochs` with the given Keras callbacks.

    `steps_per_epoch` is for endless pipelines: one iterator then runs across the epochs, as in `fit`.
    `record` (a JSON path) gets the cluster (workers, replicas) and the first step's logs once that step
    is done, and on a resumed run the epoch it resumed at ("resumed_at_epochs").
    Returns the history of the epochs run now as {metric: [values]}; the CSVLogger callback keeps the
    whole run's.
    """
    chief = is_chief(strategy)
    train_data, validation_data = distribute(strategy, train), distribute(strategy, validation)
    endless = iter(train_data) if steps_per_epoch else None
    if steps_per_epoch is None:
        steps_per_epoch = _batches(train)
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs, verbose=0)

    # The steps return nothing: the logs are the metrics' running means, reduced across the workers
    # only when they are read (first step, end of epoch), which saves two collectives a step.
    # The batch is taken inside the compiled step: a distributed iterator's `next` in Python costs
    # tens of milliseconds a batch (measured: 2 workers ran at half the speed of one that way).
    # With a known number of batches the step takes the next one; otherwise an optional, whose
    # "has a value" the workers agree on.
    @tf.function
    def train_step(iterator):
        strategy.run(model.train_step, args=(next(iterator),))

    def if_any(step):
        @tf.function
        def run(iterator):
            batch = iterator.get_next_as_optional()
            if batch.has_value():
                strategy.run(step, args=(batch.get_value(),))
            return batch.has_value()
        return run

    train_step_if_any, test_step_if_any = if_any(model.train_step), if_any(model.test_step)

    @tf.function
    def reduced_logs():
        logs = strategy.run(model.get_metrics_result)
        return {name: strategy.reduce("MEAN", value, axis=None) for name, value in logs.items()}

    _build(model, train, strategy)
    model.stop_training = False
    callback_list.on_train_begin()
    restored = float(getattr(model, "_initial_epoch", None) or 0)
    model._initial_epoch = None  # noqa: SLF001 (BackupAndRestore's way of telling fit where to resume)
    # The chief restored the backup (if any); every worker continues from the chief's state.
    epoch_variable = tf.Variable(restored, dtype=tf.float64, trainable=False)
    broadcast_from_chief(strategy, [*model.variables, *model.optimizer.variables, epoch_variable], chief)
    initial_epoch = int(epoch_variable.numpy())
    history, first_step = {}, None
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        started, steps = time.perf_counter(), 0
        iterator = endless if endless is not None else iter(train_data)
        while steps_per_epoch is None or steps < steps_per_epoch:
            callback_list.on_train_batch_begin(steps)
            if steps_per_epoch is not None:
                train_step(iterator)
            elif not train_step_if_any(iterator):
                break
            if first_step is None:
                first_step = {name: float(value) for name, value in reduced_logs().items()}
                if record is not None:
                    _record(record, strategy, initial_epoch, first_step)
            callback_list.on_train_batch_end(steps)
            steps += 1
        logs = {name: float(value) for name, value in reduced_logs().items()}
        if validation_data is not None:
            model.reset_metrics()
            iterator = iter(validation_data)
            while test_step_if_any(iterator):
                pass
            logs.update({f"val_{name}": float(value) for name, value in reduced_logs().items()})
        callback_list.on_epoch_end(epoch, logs)
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if verbose and chief:
            print(f"Epoch {epoch + 1}/{epochs} ({steps} steps, {time.perf_counter() - started:.1f} s): "
                  + " - ".join(f"{name}: {value:.4f}" for name, value in logs.items()), flush=True)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history


def _record(path, strategy, initial_epoch, first_step):
    details = {"workers": worker_count(strategy), "replicas": strategy.num_replicas_in_sync, "first_step": first_step}
    if initial_epoch and path.is_file():  # resumed: the run's first step was in an earlier attempt
        earlier = read_json(path)
        details = {**earlier, "resumed_at_epochs": [*earlier.get("resumed_at_epochs", []), initial_epoch]}
    write_json(path, details)


def _batches(dataset):
    """Global batches per epoch of a finite tf.data pipeline, or None when tf.data cannot tell."""
    if not isinstance(dataset, tf.data.Dataset):
        return None
    count = int(dataset.cardinality())
    return count if count >= 0 else None


def _build(model, train, strategy):
    """Build the compiled metrics and the optimizer's slots before the first step, as `fit` does
    (Keras' private `_symbolic_build`, from the data's shapes: taking a batch would start a second
    pass over a reshuffling pipeline). BackupAndRestore restores only built optimizers, and
    variables must not be created inside `strategy.run`."""
    with strategy.scope():
        model._symbolic_build(data_batch=train.element_spec)  # noqa: SLF001 (builds only what is unbuilt)
