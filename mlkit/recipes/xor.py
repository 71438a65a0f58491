"""XOR: a hidden layer solves it, logistic regression cannot (SPEC §1).

XOR is not linearly separable, so any linear decision boundary gets at most
3 of the 4 points right (75 %). The four points are also the validation set:
there is nothing else to validate on.
"""

import numpy as np

from mlkit.data import array_dataset, xor_data
from mlkit.metrics import evaluate_classifier
from mlkit.models import logistic_regression, xor_net
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run

DESCRIPTION = "XOR: a small MLP reaches 100 % where logistic regression stays at ≤ 75 %."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "learning_rate": 0.05,
    "epochs": 20,
    "steps_per_epoch": 50,
    "hidden_units": 4,
    "activation": "tanh",
}


def run(config=None, overwrite=False):
    with start_run("xor", DEFAULTS, config, overwrite) as run:
        inputs, labels = xor_data()
        train = array_dataset(inputs, labels, batch_size=4, repeat=True)
        validation = array_dataset(inputs, labels, batch_size=4)
        builders = {
            "mlp": lambda: xor_net(run.config["hidden_units"], run.config["activation"]),
            "logistic_regression": lambda: logistic_regression(input_dim=2),
        }
        metrics, models = {}, {}
        for name, builder in builders.items():
            with run.strategy.scope():
                model = builder()
                model.compile(optimizer=run.optimizer(), loss="binary_crossentropy", metrics=["accuracy"],
                              steps_per_execution=run.config["steps_per_epoch"])
            run.record_model(name, model)
            best, _ = fit(model, train, validation, run.child(name), epochs=run.config["epochs"],
                          steps_per_epoch=run.config["steps_per_epoch"])
            probabilities = best.predict(inputs, verbose=0)[:, 0]
            predictions = (probabilities >= 0.5).astype("float32")
            metrics[name] = {
                "accuracy": float(np.mean(predictions == labels[:, 0])),
                "probabilities": probabilities.round(4).tolist(),
                "classification": evaluate_classifier(best, (inputs, labels[:, 0]), run.directory.plots, name),
            }
            models[name] = best
        return run.finish(metrics, exports=models, sample=inputs)
