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
    input_range: tuple = None  # (min, max) of the training inputs (text: of their lengths), if recorded
    vocabulary: str = None  # a text model's characters
    path: Path = None

    @property
    def takes_text(self):
        return self.dtype == "string"

    def predict_texts(self, texts, source):
        """Answers (strings) of a text model, after checking every text against its vocabulary."""
        import tensorflow as tf

        from mlkit.data.text import CharacterVocabulary

        if self.vocabulary is not None:
            longest = None if self.input_range is None else int(self.input_range[1])
            CharacterVocabulary(self.vocabulary).check(texts, source, max_length=longest)
        answers = self.saved_model.serve(tf.constant(texts))
        return [answer.decode("utf-8") for answer in answers.numpy()]

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

    def check_range(self, examples, source):
        """Refuse inputs outside the range the model was trained on (e.g. 0–255 pixels for a 0–1 model)."""
        if self.input_range is None:
            return
        low, high = self.input_range
        margin = 0.05 * (high - low)
        found_low, found_high = float(examples.min()), float(examples.max())
        if found_low < low - margin or found_high > high + margin:
            raise ValueError(f"{source} holds values from {found_low:g} to {found_high:g}; the model was trained on "
                             f"{low:g} to {high:g} (scale the inputs the same way)")


def find_export(path):
    """The SavedModel directory for `path`: itself, RUN/export, or the single RUN/export/<name>."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if (path / "saved_model.pb").is_file():
        return path
    export = path / "export"
    if (export / "saved_model.pb").is_file():
        return export
    parts = sorted(child for child in export.iterdir() if (child / "saved_model.pb").is_file()) if export.is_dir() else []
    if len(parts) == 1:
        return parts[0]
    if parts:
        raise ValueError(f"{path} exports several models; name one: {', '.join(str(part) for part in parts)}")
    raise ValueError(f"{path} is not a SavedModel (no saved_model.pb) nor a run directory with an export; "
                     "run `mlkit export RUN` first")


def load_saved_model(path):
    """Load a SavedModel written by `export_model` and read its `serve` input and recorded range."""
    import tensorflow as tf

    path = find_export(path)
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as error:  # noqa: BLE001  (TF raises many kinds for truncated or corrupt files)
        raise ValueError(f"cannot load the SavedModel in {path}: {_first_line(error)}") from None
    if not hasattr(loaded, "serve"):
        raise ValueError(f"{path} has no `serve` endpoint; export it with `mlkit export`.")
    specs = [spec for spec in tf.nest.flatten(loaded.serve.input_signature) if isinstance(spec, tf.TensorSpec)]
    if len(specs) != 1:
        raise ValueError(f"{path} takes {len(specs)} inputs; `mlkit predict` handles single-input models.")
    spec = specs[0]
    input_range, vocabulary = None, None
    metadata = path / "serving.json"
    if metadata.is_file():
        from mlkit.io import read_json

        recorded = read_json(metadata)
        input_range = tuple(recorded["input_range"]) if recorded.get("input_range") else None
        vocabulary = recorded.get("vocabulary")
    return ServedModel(loaded, tuple(spec.shape[1:]), spec.dtype.name, input_range, vocabulary, path)


GENERATOR_METADATA = "generator.json"  # a GAN generator's export: latent size, image shape, output range


def generator_metadata(generator, output_range=(-1.0, 1.0), **details):
    """generator.json for a generator model (tanh images by default), written beside its export."""
    return {"latent_dim": int(generator.inputs[0].shape[-1]), "image_shape": list(generator.outputs[0].shape[1:]),
            "output_range": [float(output_range[0]), float(output_range[1])], **details}


def load_generator(path):
    """A GAN generator's SavedModel (`path` itself, or RUN/export/generator) and its generator.json."""
    served, generator = _load_export_with_metadata(
        path, "generator", GENERATOR_METADATA, "a GAN generator export",
        "`mlkit sample` draws from the generator of a GAN recipe's run")
    if served.input_shape != (generator["latent_dim"],) or served.dtype != "float32":
        raise ValueError(f"{served.path} takes {served.input_shape} {served.dtype}, not noise vectors of "
                         f"{generator['latent_dim']}")
    return served, generator


def _load_export_with_metadata(path, export_name, metadata_name, what, hint):
    """The SavedModel at `path` (or RUN/export/<export_name>) and the JSON metadata file written beside it;
    without that file, one ValueError saying it is not `what` and `hint`."""
    from mlkit.io import read_json

    path = Path(path)
    if (path / "export" / export_name / "saved_model.pb").is_file():
        path = path / "export" / export_name
    served = load_saved_model(path)
    metadata = served.path / metadata_name
    if not metadata.is_file():
        raise ValueError(f"{served.path} is not {what} (no {metadata_name}); {hint}")
    return served, read_json(metadata)


POLICY_METADATA = "policy.json"  # a Q-network's export: its gymnasium environment and actions


def policy_metadata(q_network, environment, **details):
    """policy.json for a Q-network export: observations → one Q-value per action of `environment`."""
    return {"environment": environment, "observation_shape": list(q_network.inputs[0].shape[1:]),
            "actions": int(q_network.outputs[0].shape[-1]), **details}


def load_policy(path):
    """A Q-network's SavedModel (`path` itself, or RUN/export/q_network) and its policy.json."""
    return _load_export_with_metadata(path, "q_network", POLICY_METADATA, "a Q-network export",
                                      "`mlkit rl play` plays the policy of a DQN recipe's run")


def _first_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def read_texts(argument):
    """A text model's inputs: the lines of an existing .txt/.csv file, or the argument itself ("123+456")."""
    path = Path(argument)
    if path.suffix.lower() in (".txt", ".csv") and path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise ValueError(f"cannot read {path}: not UTF-8 text") from None
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            raise ValueError(f"{path} is empty")
        for number, line in enumerate(lines, start=1):
            if not line:
                raise ValueError(f"{path} line {number} is empty")
        return lines, str(path)
    if not argument:
        raise ValueError("the input text is empty; give at least one character (or a .txt file, one text a line)")
    return [argument], "input"


def read_examples(path, input_shape):
    """Read a .npy or .csv of examples and shape it as `(n, *input_shape)`.

    A CSV row (or flattened .npy row) with as many values as one example is
    reshaped; a single unbatched example gets a batch axis. Every problem is
    one ValueError naming the file.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a .npy or .csv file")
    if not path.is_file():
        raise ValueError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise ValueError(f"cannot read {path} as .npy: {error}") from None
    elif suffix in (".csv", ".txt"):
        array = _read_numeric_csv(path)
    else:
        raise ValueError(f"unsupported input type {suffix or '(none)'}: give a .npy or .csv file")
    if np.iscomplexobj(array):
        raise ValueError(f"{path} holds complex numbers; the model takes real values")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{path} holds non-numeric data ({array.dtype}).")
    if array.ndim == 0 or array.size == 0:
        raise ValueError(f"{path} holds no examples (shape {array.shape}).")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(f"{path} contains NaN or infinite values.")
    if np.abs(array).max() > np.finfo("float32").max:
        raise ValueError(f"{path} holds values beyond the float32 range.")
    array = array.astype("float32")
    size = int(np.prod(input_shape))
    if array.shape == tuple(input_shape):
        array = array[None]
    elif array.shape[1:] != tuple(input_shape):
        if array.ndim == 1 and array.size == size:
            array = array[None]
        if array.ndim < 2 or array[0].size != size:
            shape = array.shape[1:] if array.ndim > 1 else array.shape
            raise ValueError(
                f"{path} has examples of shape {shape}; the model expects {tuple(input_shape)} ({size} values each)."
            )
        array = array.reshape((-1,) + tuple(input_shape))
    return array


def _read_numeric_csv(path):
    """Rows of numbers; an optional header row; every row the same length."""
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {path} as CSV: not text") from None
    if not lines:
        raise ValueError(f"{path} is empty.")
    rows = [line.split(",") for line in lines]
    try:
        [float(value) for value in rows[0]]
    except ValueError:
        rows = rows[1:]  # the first row was a header
        if not rows:
            raise ValueError(f"{path} has a header but no rows.") from None
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"{path} is ragged: data row {number} has {len(row)} values, the first has {width}.")
    try:
        return np.array([[float(value) for value in row] for row in rows], "float64")
    except ValueError as error:
        raise ValueError(f"{path} has non-numeric values ({error}).") from None


def check_output_type(path, texts):
    """Predictions go to .npy or .csv; a text model's answers to .txt or .csv (one a line)."""
    allowed = (".txt", ".csv") if texts else (".npy", ".csv")
    if Path(path).suffix.lower() not in allowed:
        raise ValueError(f"--output must end in {' or '.join(allowed)} for this model, got {Path(path).name}")


def write_predictions(path, predictions, replace=False):
    """Write predictions as .npy or .csv (a text model's answers: .txt or .csv, one a line), atomically;
    an existing file is kept unless `replace`."""
    path = Path(path)
    suffix = path.suffix.lower()
    texts = isinstance(predictions, list)
    check_output_type(path, texts)
    with atomic_path(path, replace=replace) as temporary:
        if texts:
            Path(temporary).write_text("".join(f"{answer}\n" for answer in predictions), encoding="utf-8")
        elif suffix == ".npy":
            with open(temporary, "wb") as handle:
                np.save(handle, predictions)
        else:
            np.savetxt(temporary, predictions.reshape(len(predictions), -1), delimiter=",", fmt="%.6g")
    return path
