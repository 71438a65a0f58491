"""XOR: a hidden layer solves it, logistic regression cannot (SPEC §1).

XOR is not linearly separable, so any linear decision boundary gets at most
3 of the 4 points right (75 %). The four points are also the validation set:
there is nothing else to validate on.
"""

import keras
import numpy as np

from mlkit.data import array_dataset, xor_data
from mlkit.models import logistic_regression, xor_net
from mlkit.training import RunDirectory, export_model, finish_run, fit, start_run

DESCRIPTION = "XOR: a small MLP reaches 100 % where logistic regression stays at ≤ 75 %."

DEFAULTS = {
    "epochs": 20,
    "steps_per_epoch": 50,
    "learning_rate": 0.05,
    "hidden_units": 4,
    "activation": "tanh",
}


def run(config=None):
    config, run_directory, strategy = start_run("xor", DEFAULTS, config)
    inputs, labels = xor_data()
    train = array_dataset(inputs, labels, batch_size=4, repeat=True)
    validation = array_dataset(inputs, labels, batch_size=4)

    metrics, builder_configs = {}, {}
    builders = {
        "mlp": lambda: xor_net(config["hidden_units"], config["activation"]),
        "logistic_regression": lambda: logistic_regression(input_dim=2),
    }
    for name, builder in builders.items():
        with strategy.scope():
            model = builder()
            model.compile(
                optimizer=keras.optimizers.Adam(config["learning_rate"]),
                loss="binary_crossentropy",
                metrics=["accuracy"],
                steps_per_execution=config["steps_per_epoch"],
            )
        builder_configs[name] = model.builder_config
        model_directory = RunDirectory(run_directory.path / name)
        best, _ = fit(
            model, train, validation, model_directory, epochs=config["epochs"], steps_per_epoch=config["steps_per_epoch"]
        )
        probabilities = best.predict(inputs, verbose=0)[:, 0]
        predictions = (probabilities >= 0.5).astype("float32")
        metrics[name] = {
            "accuracy": float(np.mean(predictions == labels[:, 0])),
            "probabilities": probabilities.round(4).tolist(),
        }
        export_model(best, model_directory.export, inputs)

    run_directory.write_config({**config, "models": builder_configs})
    return finish_run(run_directory, metrics)
