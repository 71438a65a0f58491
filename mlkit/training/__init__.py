"""Training core: the run context, the shared fit, loops beyond fit, strategies, precision, export."""

from mlkit.plotting import plot_learning_curves, save_figure
from mlkit.training.export import export_model, sample_inputs
from mlkit.training.fit import default_verbosity, fit, set_seed, training_callbacks
from mlkit.training.greedy import greedy_pretrain
from mlkit.training.loop import TrainingLoop
from mlkit.training.lr_finder import LearningRateSearch, find_learning_rate, plot_learning_rate_finder
from mlkit.training.precision import PRECISIONS, resolve_precision, set_precision
from mlkit.training.run import COMMON_DEFAULTS, OPTIMIZER_DEFAULTS, Run, make_optimizer, merge_config, start_run
from mlkit.training.run_directory import RunDirectory
from mlkit.training.strategy import STRATEGIES, resolve_strategy

__all__ = [
    "COMMON_DEFAULTS",
    "OPTIMIZER_DEFAULTS",
    "LearningRateSearch",
    "PRECISIONS",
    "Run",
    "RunDirectory",
    "STRATEGIES",
    "TrainingLoop",
    "default_verbosity",
    "export_model",
    "find_learning_rate",
    "fit",
    "greedy_pretrain",
    "make_optimizer",
    "merge_config",
    "plot_learning_curves",
    "plot_learning_rate_finder",
    "resolve_precision",
    "resolve_strategy",
    "sample_inputs",
    "save_figure",
    "set_precision",
    "set_seed",
    "start_run",
    "training_callbacks",
]
