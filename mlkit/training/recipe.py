"""Plumbing every recipe shares: config merging, seeding, run directory, strategy, export."""

from mlkit.training.export import export_model
from mlkit.training.fit import set_seed
from mlkit.training.precision import set_precision
from mlkit.training.run_directory import RunDirectory
from mlkit.training.strategy import resolve_strategy

COMMON_DEFAULTS = {
    "seed": 0,
    "out": None,  # the run directory; default runs/<recipe>/<timestamp>
    "runs_root": "runs",
    "strategy": "auto",
    "deterministic": False,
    "precision": "float32",  # float32 | mixed_bfloat16 | mixed_float16 | auto (see resolve_precision)
}


def merge_config(defaults, overrides=None):
    """Recipe defaults updated by `overrides`; unknown keys are an error, None means unset."""
    config = {**COMMON_DEFAULTS, **defaults}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"Unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(config))}.")
    config.update({key: value for key, value in overrides.items() if value is not None})
    return config


def start_run(recipe, defaults, overrides=None):
    """Merge the config, seed everything, open the run directory, pick the strategy.

    Returns (config, run_directory, strategy). Passing an existing run directory
    as `out` resumes an interrupted run there.
    """
    config = merge_config(defaults, overrides)
    set_seed(config["seed"], config["deterministic"])
    strategy = resolve_strategy(config["strategy"])
    config["precision_policy"] = set_precision(config["precision"])
    if config["out"]:
        run_directory = RunDirectory(config["out"])
    else:
        run_directory = RunDirectory.create(recipe, config["runs_root"])
    config["out"] = str(run_directory.path)
    config["recipe"] = recipe
    return config, run_directory, strategy


def finish_run(run_directory, metrics, model=None, sample=None):
    """Export the model (verified SavedModel) and write metrics.json; returns metrics.

    Resets the global dtype policy to float32, so models built after a mixed
    precision run in the same process are float32 again.
    """
    if model is not None:
        export_model(model, run_directory.export, sample)
        metrics = {**metrics, "export": str(run_directory.export)}
    metrics = {**metrics, "run_directory": str(run_directory.path)}
    run_directory.write_metrics(metrics)
    set_precision("float32")
    return metrics
