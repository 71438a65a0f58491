"""One `fit` for every recipe: seeds, callbacks, resumable runs, run-directory output."""

import sys

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from mlkit.plotting import plot_learning_curves
from mlkit.training.distributed import distributed_fit, is_multi_worker


def set_seed(seed, deterministic=False):
    """Seed Python, NumPy and TensorFlow; optionally make TF ops deterministic
    (slower, but bit-for-bit repeatable on the same machine)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def run_config(run_or_directory):
    """The settings of a Run ({} for a bare RunDirectory, whose `config` is the path of config.json)."""
    config = getattr(run_or_directory, "config", None)
    return config if isinstance(config, dict) else {}


def default_verbosity():
    """Progress bars on a terminal, one line per epoch in logs and CI."""
    return 1 if sys.stdout.isatty() else 2


def training_callbacks(
    run_directory,
    monitor="val_loss",
    mode="auto",
    early_stopping_patience=None,
    tensorboard=False,
    keep="best",
):
    """The standard callbacks, writing into `run_directory` (a RunDirectory).

    `keep="best"` checkpoints the model whenever `monitor` improves; `keep="last"`
    after every epoch.
    """
    resuming = run_directory.is_resuming
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(str(run_directory.backup)),
        keras.callbacks.ModelCheckpoint(
            str(run_directory.model),
            monitor=monitor,
            mode=mode,
            save_best_only=keep == "best",
            initial_value_threshold=_best_so_far(run_directory, monitor, mode) if resuming and keep == "best" else None,
        ),
        keras.callbacks.CSVLogger(str(run_directory.history), append=resuming),
    ]
    if early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=early_stopping_patience, restore_best_weights=True
            )
        )
    if tensorboard:  # scalars every epoch, weight histograms every epoch, the graph once
        callbacks.append(keras.callbacks.TensorBoard(str(run_directory.path / "tensorboard"), histogram_freq=1,
                                                     write_graph=True))
    return callbacks


def fit(
    model,
    train,
    validation,
    run_directory,
    epochs,
    monitor=None,
    mode="auto",
    keep="best",
    early_stopping_patience=None,
    tensorboard=False,
    callbacks=(),
    verbose=None,
    **fit_kwargs,
):
    """Train a compiled model with the standard callbacks and learning-curve plot.

    `run_directory` is a RunDirectory or a Run. `validation` may be None: then
    `monitor` defaults to the training "loss" (else "val_loss"). `keep="best"`
    returns the checkpoint with the best `monitor`; `keep="last"` the model after
    the last epoch. Works for any compiled `keras.Model`, including subclasses
    with their own `train_step` (their `.keras` files need `get_config` and
    registration, as for any saved model).

    An interrupted run resumes where it stopped when called again with the same
    run directory (BackupAndRestore). A run whose training already finished is
    not trained again: the saved model and history are returned at once, so a
    rerun after a kill during evaluation or export goes straight there.

    Returns:
        (model, history_frame) where history_frame has one row per epoch
        over the whole run, resumed epochs included.
    """
    config = run_config(run_directory)  # a Run's: --tensorboard, schedule "plateau"
    tensorboard, schedule = tensorboard or bool(config.get("tensorboard")), config.get("schedule")
    run_directory = getattr(run_directory, "directory", run_directory)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}.")
    steps = fit_kwargs.get("steps_per_epoch")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"`steps_per_epoch` must be a positive integer, got {steps!r}.")
    if keep not in ("best", "last"):
        raise ValueError(f"`keep` must be 'best' or 'last', got {keep!r}.")
    if monitor is None:
        monitor = "loss" if validation is None else "val_loss"
    if validation is None and monitor.startswith("val_"):
        raise ValueError(f"`monitor` {monitor!r} needs validation data; monitor a training metric or pass `validation`.")
    if run_directory.is_done("fit"):
        return _finished_training(run_directory)
    _check_optimizers_built(model)
    all_callbacks = training_callbacks(run_directory, monitor, mode, early_stopping_patience, tensorboard, keep)
    if schedule == "plateau":  # the config's `schedule: plateau`: lower a constant rate when progress stalls
        # first, so that the rate it logs reaches history.csv
        all_callbacks.insert(0, keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode=mode, factor=0.5, patience=2))
    verbose = default_verbosity() if verbose is None else verbose
    if is_multi_worker(model.distribute_strategy):  # Keras' own fit fails there (keras#20585)
        unsupported = sorted(set(fit_kwargs) - {"shuffle", "steps_per_epoch"})
        unsupported += ["tensorboard"] if tensorboard else []
        if unsupported:
            raise ValueError(f"{', '.join(unsupported)} cannot be used with --strategy multi_worker.")
        distributed_fit(model, train, validation, all_callbacks + list(callbacks), epochs, model.distribute_strategy,
                        verbose, steps_per_epoch=steps, record=run_directory.path / "distributed.json")
    else:
        if isinstance(train, tf.data.Dataset):
            fit_kwargs.setdefault("shuffle", False)  # the pipeline shuffles itself
        model.fit(train, validation_data=validation, epochs=epochs, callbacks=all_callbacks + list(callbacks),
                  verbose=verbose, **fit_kwargs)
    if model.stop_training and not run_directory.model.exists():
        raise RuntimeError("Training stopped before any checkpoint was written (NaN loss?).")
    if keep == "last" and not model.stop_training:
        model.save(run_directory.model)  # the final weights, also after early stopping restored them
    history = read_history(run_directory.history)
    plot_learning_curves(history, run_directory.plots / "learning_curves.png", title=model.name)
    run_directory.mark_done("fit", {"epochs": int(len(history)), "monitor": monitor, "keep": keep})
    return _finished_training(run_directory)


def _check_optimizers_built(model):
    """Optimizers a custom `train_step` keeps as attributes (a GAN's two) must be built before fit:
    BackupAndRestore restores the state of built optimizers only, so an unbuilt one would restart
    from scratch after a resume without a word (Keras skips it with a warning)."""
    for name, value in vars(model).items():
        if isinstance(value, keras.optimizers.Optimizer) and value is not model.optimizer and not value.built:
            raise ValueError(f"`{name}` is not built; call `{name}.build(variables)` in compile() so that a resumed "
                             "run restores its state.")


def _finished_training(run_directory):
    best = keras.saving.load_model(run_directory.model, safe_mode=True)
    return best, read_history(run_directory.history)


def read_history(path):
    """history.csv without the empty val_* columns Keras' CSVLogger adds when there is no validation."""
    frame = pd.read_csv(path)
    empty = [column for column in frame.columns if column.startswith("val_") and frame[column].isna().all()]
    return frame.drop(columns=empty)


def _best_so_far(run_directory, monitor, mode):
    """Best monitored value of the epochs already run, so a resumed checkpoint
    does not overwrite a better model from before the interruption."""
    if not run_directory.history.exists():
        return None
    history = pd.read_csv(run_directory.history)
    if monitor not in history or history[monitor].dropna().empty:
        return None
    maximise = mode == "max" or (mode == "auto" and ("acc" in monitor or monitor.endswith("auc")))
    return float(history[monitor].max() if maximise else history[monitor].min())
