"""Hyperparameter search over a recipe's settings with KerasTuner's oracles (`mlkit tune`).

A recipe declares what may be searched and what to maximise or minimise:

    SEARCH_SPACE = {
        "learning_rate": {"type": "log_uniform", "min": 1e-4, "max": 1e-2},
        "dropout": {"type": "uniform", "min": 0.0, "max": 0.5},
        "hidden_units": {"type": "choice", "values": [[256], [512, 256]]},
        "batch_size": {"type": "int", "min": 32, "max": 256, "step": 32},
    }
    TUNE_OBJECTIVE = ("best_val_accuracy", "max")   # a key of the recipe's metrics.json

Each trial is a complete run of the recipe in its own child directory (trial_000, trial_001, …) with
the sampled settings on top of the fixed ones, so every trial can be inspected, and the best
configuration is rerun with plain `mlkit run`. KerasTuner's oracle (random search, Bayesian
optimisation, Hyperband) proposes the settings and keeps its own state under keras_tuner/, so a
killed search resumes: finished trials are read back from their metrics.json, not trained again.
Hyperband also sets each trial's `epochs`.
"""

import json
import math
from pathlib import Path

import pandas as pd

from mlkit.io import markdown_table, read_json, write_csv, write_json, write_text
from mlkit.training.run_directory import RunDirectory

TUNERS = ("random", "bayesian", "hyperband")
PARAMETER_TYPES = ("log_uniform", "uniform", "int", "choice")


def check_search_space(space):
    """The recipe's SEARCH_SPACE, checked: one ValueError naming the parameter."""
    if not isinstance(space, dict) or not space:
        raise ValueError("The search space is empty: a recipe declares SEARCH_SPACE = {setting: {...}} to be tuned.")
    for name, spec in space.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in PARAMETER_TYPES:
            raise ValueError(f"Search parameter {name!r} needs a type among {', '.join(PARAMETER_TYPES)}; "
                             f"got {spec!r}.")
        if kind == "choice":
            if not isinstance(spec.get("values"), list) or not spec["values"]:
                raise ValueError(f"Search parameter {name!r}: 'values' must be a non-empty list.")
        elif not (isinstance(spec.get("min"), (int, float)) and isinstance(spec.get("max"), (int, float))
                  and spec["min"] < spec["max"] and (kind != "log_uniform" or spec["min"] > 0)):
            raise ValueError(f"Search parameter {name!r}: needs numbers min < max (min > 0 for log_uniform); "
                             f"got {spec!r}.")
    return space


def _hyperparameters(space):
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for name, spec in space.items():
        if spec["type"] == "log_uniform":
            hp.Float(name, spec["min"], spec["max"], sampling="log")
        elif spec["type"] == "uniform":
            hp.Float(name, spec["min"], spec["max"])
        elif spec["type"] == "int":
            hp.Int(name, spec["min"], spec["max"], step=spec.get("step", 1))
        else:  # KerasTuner's choices are scalars: lists (layer widths) travel as JSON text
            hp.Choice(name, [json.dumps(value) for value in spec["values"]])
    return hp


def _settings(space, values):
    settings = {}
    for name, spec in space.items():
        value = values[name]
        settings[name] = json.loads(value) if spec["type"] == "choice" else value
    if "tuner/epochs" in values:  # Hyperband's budget for this trial
        settings["epochs"] = int(values["tuner/epochs"])
    return settings


def tune(recipe_name, tuner="random", trials=10, out=None, overrides=None, seed=0, progress=print):
    """Search a recipe's SEARCH_SPACE; returns the table of trials (a DataFrame, best first) and writes
    trials.csv, best_config.json, report.md and plots/trials.png into the tuning directory."""
    import keras_tuner

    from mlkit.recipes import get_recipe

    recipe = get_recipe(recipe_name)
    space = check_search_space(getattr(recipe, "SEARCH_SPACE", None))
    if tuner not in TUNERS:
        raise ValueError(f"`tuner` must be one of {', '.join(TUNERS)}; got {tuner!r}.")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"`trials` must be a positive integer, got {trials!r}.")
    objective_key, direction = getattr(recipe, "TUNE_OBJECTIVE", ("best_val_accuracy", "max"))
    overrides = dict(overrides or {})
    fixed = sorted(set(overrides) & set(space))
    if fixed:
        raise ValueError(f"{', '.join(fixed)} are searched; do not also set them.")
    directory = RunDirectory(Path(out) if out else RunDirectory.new_path(f"tune_{recipe_name}", "runs"))
    write_json(directory.path / "tune_config.json", {"recipe": recipe_name, "tuner": tuner, "trials": trials,
                                                     "seed": seed, "fixed": overrides, "search_space": space,
                                                     "objective": [objective_key, direction]})
    objective = keras_tuner.Objective(objective_key, direction)
    hp = _hyperparameters(space)
    if tuner == "random":
        oracle = keras_tuner.oracles.RandomSearchOracle(objective, trials, hyperparameters=hp, seed=seed)
    elif tuner == "bayesian":
        oracle = keras_tuner.oracles.BayesianOptimizationOracle(objective, trials, hyperparameters=hp, seed=seed,
                                                               num_initial_points=max(2, min(trials // 3, 5)))
    else:
        maximum = int(overrides.get("epochs", getattr(recipe, "DEFAULTS", {}).get("epochs", 9)))
        oracle = keras_tuner.oracles.HyperbandOracle(objective, max_epochs=maximum, hyperparameters=hp, seed=seed,
                                                     max_retries_per_trial=0)
    table_path = directory.path / "trials.csv"
    rows = pd.read_csv(table_path).to_dict("records") if table_path.is_file() else []  # a resumed search

    class RecipeTuner(keras_tuner.engine.base_tuner.BaseTuner):
        def run_trial(self, trial, **_):
            done = [row for row in rows if row["trial_id"] == trial.trial_id]
            number = int(done[0]["trial"]) if done else len(rows)
            child = directory.path / f"trial_{number:03d}"
            settings = _settings(space, trial.hyperparameters.values)
            config = {**overrides, **settings, "seed": seed, "out": str(child)}
            if (child / "metrics.json").is_file():
                metrics = read_json(child / "metrics.json")
            else:
                metrics = recipe.run(config)
            value = _metric(metrics, objective_key)
            if not done:
                choices = {name for name, spec in space.items() if spec["type"] == "choice"}
                rows.append({"trial": number, "trial_id": trial.trial_id,
                             **{k: json.dumps(v) if k in choices else v for k, v in settings.items()},
                             objective_key: value, "run_directory": str(child)})
                write_csv(pd.DataFrame(rows), table_path)  # before the oracle records the trial
            if progress:
                of = "" if tuner == "hyperband" else f"/{trials}"  # Hyperband decides its number of trials
                progress(f"trial {number + 1}{of}: {objective_key} = {value:.4g} with "
                         + ", ".join(f"{k}={v}" for k, v in settings.items()))
            return {objective_key: value}

    # verbose=0: KerasTuner's own report lines; the progress lines above say the same per trial
    RecipeTuner(oracle, directory=str(directory.path), project_name="keras_tuner", overwrite=False).search(verbose=0)
    table = pd.DataFrame(rows).sort_values(objective_key, ascending=direction == "min").reset_index(drop=True)
    best_row = table.iloc[0]  # the table is ranked, best first
    best = {**overrides, **{name: json.loads(str(best_row[name])) if space[name]["type"] == "choice"
                            else best_row[name] for name in space}}
    if tuner == "hyperband":
        best["epochs"] = int(best_row["epochs"])
    write_json(directory.path / "best_config.json", _plain(best))
    _plot_trials(table, objective_key, direction, directory.plots / "trials.png", f"{recipe_name}: {tuner} search")
    command = "mlkit run " + recipe_name + "".join(f" --set '{key}={json.dumps(value)}'"
                                                   for key, value in _plain(best).items())
    write_text(directory.path / "report.md", "\n".join([
        f"# {tuner} search over {recipe_name} ({len(table)} trials)", "",
        markdown_table(table.drop(columns=["trial_id"])), "",
        f"Best {objective_key}: {best_row[objective_key]:.4g} (trial {int(best_row['trial'])}).", "",
        f"Run it again: `{command}`", ""]))
    return table


def _metric(metrics, key):
    value = metrics
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"The recipe's metrics have no {key!r} to tune for.")
        value = value[part]
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"The trial's {key} is {value}.")
    return value


def _plain(values):
    return {key: (value.item() if hasattr(value, "item") else value) for key, value in values.items()}


def _plot_trials(table, key, direction, path, title):
    from mlkit.plotting import plt, save_figure

    ordered = table.sort_values("trial")
    best = ordered[key].cummax() if direction == "max" else ordered[key].cummin()
    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    axis.plot(ordered["trial"] + 1, ordered[key], "o", label="trial")
    axis.plot(ordered["trial"] + 1, best, "-", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel(key)
    axis.set_title(title)
    axis.legend()
    save_figure(figure, path)
