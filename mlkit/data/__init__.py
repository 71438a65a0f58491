"""Datasets as `tf.data` pipelines: MNIST, image folders, tabular CSV, small synthetic sets."""

from mlkit.data.image_folder import check_image_folder, image_folder
from mlkit.data.mnist import MNIST_SOURCES, mnist, mnist_arrays
from mlkit.data.pipeline import DatasetSplits, array_dataset
from mlkit.data.shapes import (
    SHAPE_CLASSES,
    shapes_segmentation,
    shapes_segmentation_data,
    write_shapes_image_folder,
)
from mlkit.data.splits import SCALINGS, kfold_indices, scaling_layer, split_by_ratio
from mlkit.data.synthetic import adding_problem, coffee_roasting_data, xor_data
from mlkit.data.tabular import csv_dataset, data_path, dataframe_dataset, load_cars, read_csv

__all__ = [
    "SCALINGS",
    "kfold_indices",
    "scaling_layer",
    "split_by_ratio",
    "DatasetSplits",
    "MNIST_SOURCES",
    "SHAPE_CLASSES",
    "array_dataset",
    "check_image_folder",
    "adding_problem",
    "coffee_roasting_data",
    "csv_dataset",
    "data_path",
    "dataframe_dataset",
    "image_folder",
    "load_cars",
    "mnist",
    "mnist_arrays",
    "read_csv",
    "shapes_segmentation",
    "shapes_segmentation_data",
    "write_shapes_image_folder",
    "xor_data",
]
