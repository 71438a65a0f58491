"""Datasets as `tf.data` pipelines: MNIST, tabular CSV, small synthetic sets."""

from mlkit.data.mnist import MNIST_SOURCES, DatasetSplits, mnist
from mlkit.data.pipeline import array_dataset
from mlkit.data.synthetic import coffee_roasting_data, xor_data
from mlkit.data.tabular import csv_dataset, data_path, dataframe_dataset, load_cars, read_csv

__all__ = [
    "DatasetSplits",
    "MNIST_SOURCES",
    "array_dataset",
    "coffee_roasting_data",
    "csv_dataset",
    "data_path",
    "dataframe_dataset",
    "load_cars",
    "mnist",
    "read_csv",
    "xor_data",
]
