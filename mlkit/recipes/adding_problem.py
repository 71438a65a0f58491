"""The adding problem (Hochreiter & Schmidhuber 1997; SPEC §7): SimpleRNN, LSTM, peephole LSTM and
GRU on the same sequences with the same budget (width, epochs, optimizer, gradient clipping).

Each sequence has T steps (100 by default) of a value and a marker; the target is the sum of the
two marked values, one in each half. Predicting the constant gives MSE 1/6 ≈ 0.167. Goal: LSTM and
GRU below 0.01 test MSE. SimpleRNN was expected to stay near 0.167 at T = 100 (its gradient vanishes
over the distance between the markers and the end); with Keras' orthogonal recurrent initialisation
and gradient clipping it leaves the plateau late instead (seed 0: 18 epochs on it, test 0.0080).
"""


import matplotlib.pyplot as plt
import numpy as np

from mlkit.data import adding_problem
from mlkit.data.pipeline import array_dataset
from mlkit.models import CELLS, sequence_model
from mlkit.plotting import save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run

DESCRIPTION = "Adding problem (T=100): SimpleRNN vs LSTM vs peephole LSTM vs GRU, same data and budget."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "clipnorm": 1.0,
    "epochs": 30,
    "batch_size": 128,
    "steps": 100,
    "units": 64,
    "cells": list(CELLS),
    "train_size": 50_000,  # with 10k, LSTM and peephole LSTM were only starting to learn after 30 epochs
    "validation_size": 1000,
    "test_size": 2000,
    "goal_mse": 0.01,
    "early_stopping_patience": None,
    "jit_compile": "auto",  # XLA on a CPU-only machine: 1.4-1.8x faster recurrent training steps
}


def run(config=None, overwrite=False):
    with start_run("adding_problem", DEFAULTS, config, overwrite, check=_check) as run:
        config = run.config
        steps, seed, batch = config["steps"], config["seed"], run.global_batch_size
        train = adding_problem(config["train_size"], steps, seed=seed)
        validation = adding_problem(config["validation_size"], steps, seed=seed + 1)
        test = adding_problem(config["test_size"], steps, seed=seed + 2)
        constant_mse = float(np.mean((test[1] - 1.0) ** 2))
        results, histories, exports = {}, {}, {}
        for cell in config["cells"]:
            with run.strategy.scope():
                model = sequence_model(input_shape=(steps, 2), cell=cell, units=(config["units"],), name=cell)
                model.compile(optimizer=run.optimizer(total_steps=run.total_steps(len(train[0]))), loss="mse",
                              jit_compile=run.jit_compile)
            run.record_model(cell, model)
            best, history = fit(model, array_dataset(*train, batch, shuffle=True, seed=seed),
                                array_dataset(*validation, batch), run.child(cell), config["epochs"],
                                early_stopping_patience=config["early_stopping_patience"])
            test_mse = float(best.evaluate(*test, batch_size=512, verbose=0))
            results[cell] = {"test_mse": test_mse, "reaches_goal": test_mse < config["goal_mse"],
                             "epochs_run": int(len(history)), "parameters": int(best.count_params())}
            histories[cell], exports[cell] = history, best

        figure, axis = plt.subplots(figsize=(7, 4.5))
        for cell, history in histories.items():
            axis.plot(history["epoch"] + 1, history["val_loss"], marker=".",
                      label=f"{cell} (test {results[cell]['test_mse']:.2g})")
        axis.axhline(constant_mse, color="gray", linestyle="--", label=f"constant 1 ({constant_mse:.3f})")
        axis.axhline(config["goal_mse"], color="tab:red", linestyle=":", label=f"goal {config['goal_mse']:g}")
        axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel("validation MSE")
        axis.set_title(f"adding problem, T = {steps}, {config['units']} units")
        axis.legend(fontsize=8)
        save_figure(figure, run.path / "plots" / "learning_curves.png")

        metrics = {"steps": steps, "constant_prediction_test_mse": constant_mse, **results}
        return run.finish(metrics, exports=exports, sample=test[0][:8])


def _check(config):
    unknown = [cell for cell in config["cells"] if cell not in CELLS]
    if unknown or not config["cells"]:
        raise ValueError(f"`cells` must be a non-empty list from {list(CELLS)}, got {config['cells']!r}.")
    if config["steps"] < 2:
        raise ValueError(f"`steps` must be at least 2, got {config['steps']!r}.")
