"""Pick a `tf.distribute` strategy by name; build and compile models in its scope."""

import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "tpu", "multi_worker")


def resolve_strategy(name="auto"):
    """Return a `tf.distribute.Strategy`.

    - "default": the no-op default strategy (one device).
    - "mirrored": synchronous data parallelism over all GPUs, or over all logical
      CPU devices when there is no GPU (useful for tests on a CPU machine).
    - "tpu": a TPU cluster (`TPU_NAME` names it; empty means the local TPU VM).
    - "multi_worker": MultiWorkerMirroredStrategy over the cluster in TF_CONFIG or Slurm's
      environment (`mlkit.training.distributed`); create it before any other TensorFlow work.
    - "auto": TPU if one is configured, MirroredStrategy if there are ≥ 2 GPUs,
      otherwise the default strategy.

    Batch sizes in mlkit are per replica: multiply by
    `strategy.num_replicas_in_sync` for the global batch.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")
    if name == "auto":
        if os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR") or tf.config.list_logical_devices("TPU"):
            return resolve_strategy("tpu")
        if len(tf.config.list_logical_devices("GPU")) > 1:
            return resolve_strategy("mirrored")
        return tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multi_worker":
        from mlkit.training.distributed import multi_worker_strategy

        return multi_worker_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise ValueError(f"No TPU could be reached: {error}") from None
    return tf.distribute.TPUStrategy(resolver)
