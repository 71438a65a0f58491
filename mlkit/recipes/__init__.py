"""Recipes: one module per reproducible result, discovered automatically.

A recipe module defines DESCRIPTION (one line), DEFAULTS (its settings) and
`run(overrides=None, overwrite=False)`, which opens a run with
`mlkit.training.start_run` and returns the metrics it also writes to
metrics.json. Adding a recipe means adding its module here; nothing else lists it.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

_HERE = Path(__file__).parent


def recipe_names():
    """Every recipe module in this package, sorted."""
    return sorted(module.name for module in pkgutil.iter_modules([str(_HERE)]) if not module.name.startswith("_"))


def get_recipe(name):
    if name not in recipe_names():
        raise ValueError(f"Unknown recipe {name!r}; available: {', '.join(recipe_names())}.")
    return importlib.import_module(f"mlkit.recipes.{name}")


def list_recipes():
    """(name, one-line description) for every recipe, read without importing TensorFlow."""
    return [(name, _description(name)) for name in recipe_names()]


def _description(name):
    tree = ast.parse((_HERE / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "DESCRIPTION" for target in node.targets):
            return ast.literal_eval(node.value)
    return ""
