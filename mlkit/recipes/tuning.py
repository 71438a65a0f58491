"""Random search against Bayesian optimisation (SPEC §2) on the MNIST DNN, the same budget of trials.

Both search mnist_dnn's SEARCH_SPACE (learning rate log-uniform, widths, dropout) for its best
validation accuracy with `mlkit.training.tuning.tune`: KerasTuner's RandomSearch and
BayesianOptimization oracles, `trials` complete mnist_dnn runs each, from the same seed and with the
same fixed settings (`epochs`, `source`, `data_dir`). Each search is a folder of child runs
(random_search/trial_000, …, bayesian_search/…) with its own table and plot, and resumes if killed.
The study plots the best validation accuracy so far against the trial number for both.
"""

import json

import pandas as pd

from mlkit.io import markdown_table, write_text
from mlkit.plotting import plot_curve_comparison
from mlkit.training import start_run
from mlkit.training.tuning import tune
from mlkit.validation import check_positive_int

DESCRIPTION = "Random search vs Bayesian optimisation on the MNIST DNN, same trial budget: best val accuracy by trial."

DEFAULTS = {
    "trials": 10,
    "epochs": 5,  # per trial
    "source": "auto",
    "data_dir": None,
}
SEARCHES = {"random": "random search", "bayesian": "Bayesian optimisation"}


def check_config(config):
    check_positive_int("trials", config["trials"])
    check_positive_int("epochs", config["epochs"])


def run(config=None, overwrite=False):
    with start_run("tuning", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        fixed = {"epochs": config["epochs"], "source": config["source"], "data_dir": config["data_dir"]}
        curves, rows = {}, []
        for tuner, label in SEARCHES.items():
            table = tune("mnist_dnn", tuner=tuner, trials=config["trials"], out=run.path / f"{tuner}_search",
                         overrides=fixed, seed=run.seed)
            ordered = table.sort_values("trial")
            curves[label] = ordered["best_val_accuracy"].cummax().tolist()
            best = table.iloc[0]  # tune ranks best first
            rows.append({"search": label, "trials": len(table), "best val accuracy": float(best["best_val_accuracy"]),
                         "found at trial": int(best["trial"]) + 1, "learning rate": float(best["learning_rate"]),
                         "hidden units": json.loads(best["hidden_units"]), "dropout": float(best["dropout"])})
        summary = pd.DataFrame(rows)
        plot_curve_comparison(curves, run.directory.plots / "best_so_far.png", xlabel="trial",
                              ylabel="best validation accuracy so far", title="MNIST DNN: search over the same budget")
        report = "\n".join([
            "# tuning", "",
            f"mnist_dnn, {config['trials']} trials per search, {config['epochs']} epochs per trial, seed {run.seed}.",
            "", markdown_table(summary), "",
            "Best so far after each trial:", "",
            markdown_table(_best_so_far_table(curves)), ""])
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({"searches": summary.to_dict("records"), "best_so_far": curves})


def _best_so_far_table(curves):
    frame = pd.DataFrame({label: pd.Series(values) for label, values in curves.items()})  # NaN-padded
    frame.insert(0, "trial", range(1, len(frame) + 1))
    return frame
