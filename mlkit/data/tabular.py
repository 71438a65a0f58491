"""Tabular CSV → pandas → `tf.data`, and the bundled data files."""

from pathlib import Path

import numpy as np
import pandas as pd

from mlkit.data.pipeline import array_dataset

# Bundled files ship inside the package (package data), so they are found however mlkit is installed.
DATA_DIR = Path(__file__).resolve().parent / "files"


def data_path(name):
    path = DATA_DIR / name
    if not path.is_file():
        raise ValueError(f"Bundled data file {name!r} not found in {DATA_DIR}.")
    return path


def read_csv(path, **kwargs):
    """pandas.read_csv with one clear error for a missing, empty or unreadable file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"CSV file not found: {path}")
    try:
        frame = pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"Cannot read {path} as CSV: {error}") from None
    if frame.empty:
        raise ValueError(f"CSV file {path} has no rows.")
    return frame


def load_cars():
    """The classic 50-row cars set (R's `datasets::cars`): speed (mph), dist (ft)."""
    return read_csv(data_path("cars.csv"))


def _numeric_matrix(frame, columns, what):
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} column(s) not in the table: {', '.join(map(str, missing))}.")
    block = frame[list(columns)]
    non_numeric = [column for column in columns if not pd.api.types.is_numeric_dtype(block[column])]
    if non_numeric:
        raise ValueError(f"{what} column(s) are not numeric: {', '.join(map(str, non_numeric))}.")
    values = block.to_numpy(dtype="float32")
    if not np.isfinite(values).all():
        raise ValueError(f"{what} columns contain missing or non-finite values.")
    return values


def dataframe_dataset(frame, label_columns, feature_columns=None, batch_size=32, shuffle=False, seed=0):
    """(features, labels) float32 `tf.data.Dataset` from a DataFrame.

    `feature_columns` defaults to every column that is not a label.
    """
    label_columns = [label_columns] if isinstance(label_columns, str) else list(label_columns)
    if feature_columns is None:
        feature_columns = [column for column in frame.columns if column not in label_columns]
    features = _numeric_matrix(frame, feature_columns, "Feature")
    labels = _numeric_matrix(frame, label_columns, "Label")
    return array_dataset(features, labels, batch_size, shuffle=shuffle, seed=seed)


def csv_dataset(path, label_columns, feature_columns=None, batch_size=32, shuffle=False, seed=0):
    """A CSV file → (features, labels) `tf.data.Dataset` (see `dataframe_dataset`)."""
    return dataframe_dataset(read_csv(path), label_columns, feature_columns, batch_size, shuffle, seed)
