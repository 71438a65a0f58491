"""Regularisation (SPEC §2) on a small MNIST subset where the plain network overfits.

The same 784-512-256-10 ReLU network, optimiser, data and budget, trained:
- "plain": no regularisation, the weights after the last epoch;
- "L2": weight decay λ·Σw² on every kernel;
- "dropout": dropout after each hidden layer;
- "early stopping": plain, stopped when the validation loss has not improved for `patience` epochs,
  keeping the best epoch's weights;
- "augmentation": random shifts and rotations of the digits (Keras preprocessing layers inside the
  model, active only in training);
- "ensemble": the average of `ensemble_size` plain networks from different seeds (the "plain" one
  and ensemble_size − 1 more), against the mean test accuracy of its members.
Each network trains in its own child run (resumable). Reported: test accuracy, the final training
accuracy and the gap to validation accuracy (how much it overfits), and the validation-loss curves.
"""

import keras
import numpy as np
import pandas as pd

from mlkit.data import array_dataset, mnist_arrays
from mlkit.io import markdown_table, write_text
from mlkit.models import ensemble, mnist_dnn
from mlkit.plotting import plot_curve_comparison
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run
from mlkit.validation import check_non_negative, check_positive_int, check_rate

DESCRIPTION = "Small MNIST subset: plain vs L2, dropout, early stopping, augmentation, a 5-model ensemble."

REGULARIZERS = ("L2", "dropout", "early stopping", "augmentation")
DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "train_examples": 1000,
    "hidden_units": [512, 256],
    "epochs": 60,
    "batch_size": 64,
    "l2": 1e-4,
    "dropout": 0.5,
    "patience": 5,
    "shift": 0.1,  # augmentation: up to 10 % of the width and height
    "rotation": 0.04,  # augmentation: up to 0.04 · 360° ≈ 14°
    "ensemble_size": 5,
    "regularizers": list(REGULARIZERS),  # which of them to train beside plain and the ensemble
    "source": "auto",
    "data_dir": None,
}


def check_config(config):
    check_positive_int("train_examples", config["train_examples"])
    check_non_negative("l2", config["l2"])
    check_rate("dropout", config["dropout"])
    check_positive_int("patience", config["patience"])
    unknown = sorted(set(config["regularizers"]) - set(REGULARIZERS))
    if unknown:
        raise ValueError(f"`regularizers` must list some of {', '.join(REGULARIZERS)}; unknown: {unknown}.")
    if check_positive_int("ensemble_size", config["ensemble_size"]) < 2:
        raise ValueError(f"`ensemble_size` must be at least 2, got {config['ensemble_size']}.")


def build(config, seed, l2=0.0, dropout=0.0, augment=False):
    keras.utils.set_random_seed(seed)
    network = mnist_dnn(hidden_units=config["hidden_units"], dropout=dropout, l2=l2)
    if not augment:
        return network
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.RandomTranslation(config["shift"], config["shift"], fill_mode="constant", seed=seed)(inputs)
    x = keras.layers.RandomRotation(config["rotation"], fill_mode="constant", seed=seed)(x)
    return keras.Model(inputs, network(x), name="augmented_mnist_dnn")


def run(config=None, overwrite=False):
    with start_run("regularization", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        arrays, source = mnist_arrays(source=config["source"], data_dir=config["data_dir"], seed=run.seed)
        train_x, train_y = (array[:config["train_examples"]] for array in arrays["train"])
        validation = array_dataset(*arrays["validation"], run.global_batch_size)
        test = array_dataset(*arrays["test"], run.global_batch_size)
        settings = {"L2": {"l2": config["l2"]}, "dropout": {"dropout": config["dropout"]},
                    "early stopping": {"patience": config["patience"]}, "augmentation": {"augment": True}}
        variants = {
            "plain": {},
            **{name: settings[name] for name in REGULARIZERS if name in config["regularizers"]},
            **{f"ensemble member {index}": {"seed": run.seed + index} for index in range(1, config["ensemble_size"])},
        }
        models, rows, curves = {}, [], {}
        for name, settings in variants.items():
            settings = dict(settings)
            patience, seed = settings.pop("patience", None), settings.pop("seed", run.seed)
            with run.strategy.scope():
                model = build(config, seed, **settings)
                model.compile(run.optimizer(), "sparse_categorical_crossentropy", metrics=["accuracy"])
            train = array_dataset(train_x, train_y, run.global_batch_size, shuffle=True, seed=seed)
            models[name], history = fit(model, train, validation, run.child(name.replace(" ", "_")),
                                        epochs=config["epochs"], monitor="val_loss",
                                        keep="best" if patience else "last", early_stopping_patience=patience)
            kept = int(history["val_loss"].idxmin()) if patience else len(history) - 1
            if not name.startswith("ensemble member"):
                curves[name] = history["val_loss"].tolist()
            rows.append({"model": name, "test accuracy": float(models[name].evaluate(test, verbose=0)[1]),
                         "training accuracy": float(history["accuracy"].iloc[kept]),
                         "validation accuracy": float(history["val_accuracy"].iloc[kept]),
                         "epochs": len(history)})
        members = [models["plain"]] + [models[name] for name in variants if name.startswith("ensemble member")]
        average = ensemble(members, "average")
        average.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        member_accuracies = [row["test accuracy"] for row in rows if row["model"] == "plain"
                             or row["model"].startswith("ensemble member")]
        table = pd.DataFrame(rows)
        table["overfitting gap"] = table["training accuracy"] - table["validation accuracy"]
        ensemble_accuracy = float(average.evaluate(test, verbose=0)[1])
        summary = pd.DataFrame([{"model": f"ensemble of {len(members)} (average)", "test accuracy": ensemble_accuracy},
                                {"model": "mean member", "test accuracy": float(np.mean(member_accuracies))},
                                {"model": "best member", "test accuracy": float(np.max(member_accuracies))}])
        plot_curve_comparison(curves, run.directory.plots / "validation_loss.png", ylabel="validation loss",
                              title=f"{len(train_x)} training digits: validation loss")
        report = "\n".join([
            "# regularization", "",
            f"{len(train_x)} training digits ({source}), {len(arrays['validation'][0])} validation, "
            f"{len(arrays['test'][0])} test; {config['epochs']} epochs of {config['optimizer']} "
            f"{config['learning_rate']:g}. The accuracies are those of the kept epoch.", "",
            markdown_table(table), "", markdown_table(summary), ""])
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({
            "data_source": source,
            "train_examples": len(train_x),
            "models": table.to_dict("records"),
            "ensemble_test_accuracy": ensemble_accuracy,
            "mean_member_test_accuracy": float(np.mean(member_accuracies)),
            "best_member_test_accuracy": float(np.max(member_accuracies)),
            "validation_loss": curves,
        })
