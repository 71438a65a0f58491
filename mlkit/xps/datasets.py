"""Simulated spectra on disk (.npz shards + manifest.json) and as `tf.data` pipelines.

Targets are a dict {"composition": (80,) atomic fractions, "thickness": (1,) Å}, plus with
`presence=True` "presence": (80,) 0/1 (present at ≥ 1 at.%) and with nuisances "nuisances": (5,)
(`XPSSimulator.nuisance_targets`), matching the output names of `mlkit.models.xps_cnn`.
"""

import time
from pathlib import Path

import numpy as np

from mlkit.io import atomic_directory, read_json, write_json
from mlkit.progress import Progress
from mlkit.xps.metrics import DETECTION_THRESHOLD
from mlkit.xps.simulator import NUISANCES, XPSSimulator

MANIFEST = "manifest.json"


def write_shards(simulator, n, directory, seed=0, shard_size=10_000, dtype="float32"):
    """Simulate n spectra into `directory` as shard-NNNNN.npz files plus a manifest.

    Shard i is drawn from seed (seed, i), so any shard can be regenerated alone. The
    directory appears complete or not at all (written beside it, then renamed).
    """
    if int(n) != n or n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}.")
    if int(shard_size) != shard_size or shard_size < 1:
        raise ValueError(f"`shard_size` must be a positive integer, got {shard_size!r}.")
    if dtype not in ("float32", "float16"):
        raise ValueError(f"`dtype` must be 'float32' or 'float16', got {dtype!r}.")
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory} exists and is not an empty folder; choose a new --out.")
    if directory.is_dir():
        directory.rmdir()  # empty: the finished shards take its place
    started = time.perf_counter()
    shards = []
    with atomic_directory(directory, "shards") as temporary, Progress(f"simulating {int(n)} spectra") as progress:
        for index, start in enumerate(range(0, int(n), int(shard_size))):
            count = min(int(shard_size), int(n) - start)
            spectra, fractions, thickness, nuisances = simulator.sample(count, seed=(seed, index), nuisances=True)
            name = f"shard-{index:05d}.npz"
            np.savez(temporary / name, spectra=spectra.astype(dtype), fractions=fractions, thickness=thickness,
                     nuisances=nuisances)
            shards.append({"file": name, "count": count, "seed": [seed, index]})
            progress.update(count)
        seconds = time.perf_counter() - started
        write_json(temporary / MANIFEST, {
            "simulator": simulator.get_config(),
            "elements": list(simulator.element_symbols),
            "binding_energy": [float(simulator.energy_range[0]), float(simulator.energy_range[1]), simulator.points],
            "count": int(n),
            "seed": seed,
            "dtype": dtype,
            "shards": shards,
            "seconds": round(seconds, 3),
        })
    return read_manifest(directory)


def read_manifest(directory):
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ValueError(f"{directory} has no {MANIFEST}; create it with `mlkit xps simulate`.")
    manifest = read_json(path)
    manifest["directory"] = str(directory)
    return manifest


def load_shards(directory, nuisances=False):
    """All shards of a directory in memory: (spectra, fractions, thickness), with `nuisances` also
    their nuisance targets (`XPSSimulator.nuisance_targets`; shards written before they were kept
    raise a ValueError)."""
    manifest = read_manifest(directory)
    parts = [np.load(Path(directory) / shard["file"], allow_pickle=False) for shard in manifest["shards"]]
    names = ("spectra", "fractions", "thickness") + (("nuisances",) if nuisances else ())
    if nuisances and not all("nuisances" in part.files for part in parts):
        raise ValueError(f"{directory} holds no nuisance targets (written by an older mlkit); simulate it again "
                         "with `mlkit xps simulate` or train with nuisances=false.")
    arrays = tuple(np.concatenate([part[name] for part in parts]) for name in names)
    return (arrays[0].astype("float32"), *arrays[1:])


def _targets(presence=False):
    """(spectra, fractions, thickness[, nuisances]) → (spectra, targets); with `presence`, also 1 where
    an element is present at ≥ DETECTION_THRESHOLD (the target of xps_cnn's presence head)."""
    def targets(spectra, fractions, thickness, nuisances=None):
        import tensorflow as tf

        result = {"composition": fractions, "thickness": thickness[..., None]}
        if presence:
            result["presence"] = tf.cast(fractions >= DETECTION_THRESHOLD, fractions.dtype)
        if nuisances is not None:
            result["nuisances"] = nuisances
        return spectra, result

    return targets


def shard_dataset(directory, batch_size, shuffle=True, seed=0, repeat=False, input_context=None, presence=False):
    """A `tf.data` pipeline over the shards of `directory` (shards interleaved, then shuffled).

    With a `tf.distribute.InputContext` (`strategy.distribute_datasets_from_function(lambda context:
    shard_dataset(directory, global_batch, input_context=context))`) the pipeline is sharded by FILE:
    input pipeline i reads every n-th shard file and batches at the per-replica size, so the workers
    read disjoint files. (tf.data's own FILE auto-sharding needs a reader dataset; the .npz shards
    are read through NumPy.)
    """
    import tensorflow as tf

    manifest = read_manifest(directory)
    points = manifest["binding_energy"][2]
    n_classes = len(manifest["elements"])
    files = [str(Path(directory) / shard["file"]) for shard in manifest["shards"]]
    if input_context is not None:
        pipelines, index = input_context.num_input_pipelines, input_context.input_pipeline_id
        if len(files) < pipelines:
            raise ValueError(f"{directory} has {len(files)} shard files for {pipelines} workers; FILE sharding "
                             "needs at least one file per worker.")
        files = files[index::pipelines]
        batch_size = input_context.get_per_replica_batch_size(batch_size)

    def load(path):
        with np.load(path.decode() if isinstance(path, bytes) else path) as shard:
            return shard["spectra"].astype("float32"), shard["fractions"], shard["thickness"]

    def shard(path):
        spectra, fractions, thickness = tf.numpy_function(load, [path], [tf.float32, tf.float32, tf.float32])
        spectra.set_shape([None, points])
        fractions.set_shape([None, n_classes])
        thickness.set_shape([None])
        return tf.data.Dataset.from_tensor_slices((spectra, fractions, thickness))

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(shard, cycle_length=min(2, len(files)), num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(min(manifest["count"], 20_000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size).map(_targets(presence), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    if input_context is not None:  # sharded here; the strategy must not shard again
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        dataset = dataset.with_options(options)
    return dataset


def simulated_dataset(simulator, batch_size, seed=0, batches=None, presence=False, nuisances=False):
    """Spectra generated on the fly: batch i is `simulator.sample(batch_size, seed=(seed, i))`.

    Endless when `batches` is None; reproducible either way. `nuisances` adds their targets.
    """
    import tensorflow as tf

    if not isinstance(simulator, XPSSimulator):
        raise ValueError("`simulator` must be an XPSSimulator.")
    simulator.templates  # noqa: B018  (build the bank once, not in every worker)

    def generate(index):
        return simulator.sample(batch_size, seed=(seed, int(index)), nuisances=nuisances)

    def batch(index):
        arrays = tf.numpy_function(generate, [index], [tf.float32] * (4 if nuisances else 3))
        shapes = [[batch_size, simulator.points], [batch_size, len(simulator.element_symbols)], [batch_size],
                  [batch_size, len(NUISANCES)]]
        for array, shape in zip(arrays, shapes):
            array.set_shape(shape)
        return _targets(presence)(*arrays)

    indices = tf.data.Dataset.range(batches) if batches is not None else tf.data.Dataset.range(2**62)
    return indices.map(batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def array_targets_dataset(spectra, fractions, thickness, batch_size, shuffle=False, seed=0, presence=False,
                          nuisances=None):
    """In-memory arrays as the same (spectrum, {composition, thickness[, presence][, nuisances]}) pipeline;
    `nuisances`: their (n, 5) targets."""
    import tensorflow as tf

    arrays = (spectra, fractions, thickness) + (() if nuisances is None else (nuisances,))
    dataset = tf.data.Dataset.from_tensor_slices(tuple(np.asarray(a, "float32") for a in arrays))
    if shuffle:
        dataset = dataset.shuffle(len(spectra), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).map(_targets(presence), num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE)
