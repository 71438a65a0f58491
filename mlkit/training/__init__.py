"""Training core: strategies, the shared fit loop, run directories, export."""

from mlkit.training.export import export_model, sample_inputs
from mlkit.training.fit import default_verbosity, fit, set_seed, training_callbacks
from mlkit.training.plots import plot_learning_curves, save_figure
from mlkit.training.precision import PRECISIONS, resolve_precision, set_precision
from mlkit.training.recipe import COMMON_DEFAULTS, finish_run, merge_config, start_run
from mlkit.training.run_directory import RunDirectory
from mlkit.training.strategy import STRATEGIES, resolve_strategy

__all__ = [
    "COMMON_DEFAULTS",
    "PRECISIONS",
    "finish_run",
    "merge_config",
    "start_run",
    "RunDirectory",
    "STRATEGIES",
    "default_verbosity",
    "export_model",
    "fit",
    "plot_learning_curves",
    "resolve_precision",
    "resolve_strategy",
    "sample_inputs",
    "save_figure",
    "set_precision",
    "set_seed",
    "training_callbacks",
]
