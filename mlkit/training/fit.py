"""One `fit` for every recipe: seeds, callbacks, resumable runs, run-directory output."""

import sys

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from mlkit.training.plots import plot_learning_curves


def set_seed(seed, deterministic=False):
    """Seed Python, NumPy and TensorFlow; optionally make TF ops deterministic
    (slower, but bit-for-bit repeatable on the same machine)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def default_verbosity():
    """Progress bars on a terminal, one line per epoch in logs and CI."""
    return 1 if sys.stdout.isatty() else 2


def training_callbacks(
    run_directory,
    monitor="val_loss",
    mode="auto",
    early_stopping_patience=None,
    tensorboard=False,
):
    """The standard callbacks, writing into `run_directory` (a RunDirectory)."""
    resuming = run_directory.is_resuming
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(str(run_directory.backup)),
        keras.callbacks.ModelCheckpoint(
            str(run_directory.model),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            initial_value_threshold=_best_so_far(run_directory, monitor, mode) if resuming else None,
        ),
        keras.callbacks.CSVLogger(str(run_directory.history), append=resuming),
    ]
    if early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=early_stopping_patience, restore_best_weights=True
            )
        )
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_directory.path / "tensorboard")))
    return callbacks


def fit(
    model,
    train,
    validation,
    run_directory,
    epochs,
    monitor="val_loss",
    mode="auto",
    early_stopping_patience=None,
    tensorboard=False,
    callbacks=(),
    verbose=None,
    **fit_kwargs,
):
    """Train a compiled model with the standard callbacks and learning-curve plot.

    An interrupted run resumes where it stopped when called again with the same
    run directory (BackupAndRestore). After training the best checkpoint
    (`model.keras`) is loaded back and returned with the History.

    Returns:
        (best_model, history_frame) where history_frame has one row per epoch
        over the whole run, resumed epochs included.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}.")
    if validation is None:
        raise ValueError("`validation` data is required: checkpoints and curves monitor it.")
    all_callbacks = training_callbacks(run_directory, monitor, mode, early_stopping_patience, tensorboard)
    if isinstance(train, tf.data.Dataset):
        fit_kwargs.setdefault("shuffle", False)  # the pipeline shuffles itself
    model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        callbacks=all_callbacks + list(callbacks),
        verbose=default_verbosity() if verbose is None else verbose,
        **fit_kwargs,
    )
    if model.stop_training and not run_directory.model.exists():
        raise RuntimeError("Training stopped before any checkpoint was written (NaN loss?).")
    history = pd.read_csv(run_directory.history)
    plot_learning_curves(history, run_directory.plots / "learning_curves.png", title=model.name)
    best = keras.saving.load_model(run_directory.model, safe_mode=True)
    return best, history


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
