"""Prediction from exported SavedModels, with input checks for the CLI."""

import dataclasses
from pathlib import Path

import numpy as np

from mlkit.io import atomic_path


@dataclasses.dataclass
class ServedModel:
    saved_model: object  # keeps the variables alive for `serve`
    input_shape: tuple  # without the batch axis
    dtype: str

    def predict(self, examples):
        """An array, or a dict of arrays for a model with named outputs."""
        import tensorflow as tf

        outputs = self.saved_model.serve(tf.constant(examples, dtype=self.dtype))
        return tf.nest.map_structure(np.asarray, outputs)

    def predict_array(self, examples):
        """Predictions as one (n, values) array; named outputs side by side in key order."""
        outputs = self.predict(examples)
        if isinstance(outputs, dict):
            return np.concatenate([outputs[key].reshape(len(examples), -1) for key in sorted(outputs)], axis=1)
        return outputs


def load_saved_model(path):
    """Load a `model.export` SavedModel and read the shape of its `serve` input."""
    import tensorflow as tf

    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        raise ValueError(f"{path} is not a SavedModel directory (no saved_model.pb).")
    loaded = tf.saved_model.load(str(path))
    if not hasattr(loaded, "serve"):
        raise ValueError(f"{path} has no `serve` endpoint; export it with `mlkit export`.")
    specs = [spec for spec in tf.nest.flatten(loaded.serve.input_signature) if isinstance(spec, tf.TensorSpec)]
    if len(specs) != 1:
        raise ValueError(f"{path} takes {len(specs)} inputs; `mlkit predict` handles single-input models.")
    spec = specs[0]
    return ServedModel(loaded, tuple(spec.shape[1:]), spec.dtype.name)


def read_examples(path, input_shape):
    """Read a .npy or .csv of examples and shape it as `(n, *input_shape)`.

    A CSV row (or flattened .npy row) with as many values as one example is
    reshaped; a single unbatched example gets a batch axis.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise ValueError(f"cannot read {path} as .npy: {error}") from None
    elif suffix in (".csv", ".txt"):
        array = _read_numeric_csv(path)
    else:
        raise ValueError(f"unsupported input type {suffix or '(none)'}: give a .npy or .csv file")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{path} holds non-numeric data ({array.dtype}).")
    array = array.astype("float32")
    if not np.isfinite(array).all():
        raise ValueError(f"{path} contains NaN or infinite values.")
    size = int(np.prod(input_shape))
    if array.shape == tuple(input_shape):
        array = array[None]
    elif array.ndim >= 1 and array.shape[1:] != tuple(input_shape):
        if array.ndim == 1 and array.size == size:
            array = array[None]
        if array[0].size != size:
            raise ValueError(
                f"{path} has examples of shape {array.shape[1:] or array.shape}; the model expects {tuple(input_shape)} ({size} values each)."
            )
        array = array.reshape((-1,) + tuple(input_shape))
    if len(array) == 0:
        raise ValueError(f"{path} holds no examples.")
    return array


def _read_numeric_csv(path):
    import pandas as pd

    try:
        frame = pd.read_csv(path, header=None)
        if frame.empty:
            raise ValueError(f"{path} is empty.")
        if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
            frame = pd.read_csv(path)  # the first row was a header
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {path} as CSV: {error}") from None
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
        raise ValueError(f"{path} has non-numeric values.")
    return frame.to_numpy()


def write_predictions(path, predictions):
    """Write predictions as .npy or .csv, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise ValueError(f"--output must end in .npy or .csv, got {path.name}")
    with atomic_path(path) as temporary:
        if suffix == ".npy":
            with open(temporary, "wb") as handle:
                np.save(handle, predictions)
        else:
            np.savetxt(temporary, predictions.reshape(len(predictions), -1), delimiter=",", fmt="%.6g")
    return path
