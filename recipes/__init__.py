"""Recipes: one module per reproducible result, each with DESCRIPTION, DEFAULTS and run(config).

`run(config)` takes a dict of overrides (unknown keys are an error) and returns
the metrics it also writes to the run directory's metrics.json.
"""

import importlib

RECIPES = (
    "xps",
    "cars",
    "xor",
    "coffee_roasting",
    "mnist_dnn",
    "mnist_cnn",
    "cats_dogs",
    "shapes_segmentation",
    "kmeans_segmentation",
    "pca_faces",
    "lda_vs_pca",
)


def get_recipe(name):
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; available: {', '.join(RECIPES)}.")
    return importlib.import_module(f"recipes.{name}")


def list_recipes():
    """(name, one-line description) for every recipe."""
    return [(name, get_recipe(name).DESCRIPTION) for name in RECIPES]
