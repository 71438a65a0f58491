"""Resumable training loops for code that does not call `model.fit`.

Pixel optimisation (style transfer), environment interaction (Q-learning) and
layer-wise pre-training step their own way, but their runs need what `fit`
gives: history.csv, checkpoints, resume after a kill, learning curves.

    loop = TrainingLoop(run, epochs=20, state={"model": model, "optimizer": optimizer})
    for epoch in loop:                      # starts after the last checkpointed epoch
        loss = train_one_epoch()
        loop.log(loss=float(loss))          # history row, then checkpoint
        if solved: loop.stop()              # early stop: a rerun does not train on

`state` holds trackables (Keras models, layers, optimizers, `keras.Variable` or
`tf.Variable`); `tf.train.Checkpoint` saves and restores them. The history row
of an epoch is written before its checkpoint, and rows past the restored
checkpoint are dropped on resume, so history and state always agree.
Learning curves are drawn when the loop ends and at most once a minute before:
drawing them cost more than a short epoch.
"""

import time

import pandas as pd
import tensorflow as tf

from mlkit.io import write_csv
from mlkit.plotting import plot_learning_curves
from mlkit.training.fit import run_config


class TrainingLoop:
    """Iterate over the remaining epochs of a resumable loop (see the module docstring).

    Args:
        run_directory: a RunDirectory or a Run.
        epochs: total number of epochs (or rounds, episodes …).
        state: {name: trackable} saved at every `log`.
        name: names the finished phase in state.json (several loops may share a directory).
        history: file name of the history CSV inside the run directory.
    """

    def __init__(self, run_directory, epochs, state, name="loop", history="history.csv"):
        # --tensorboard: the logged metrics also go to TensorBoard as scalars
        self._tensorboard = bool(run_config(run_directory).get("tensorboard"))
        self._summary_writer = None  # made at the first `log`, one events file per loop
        self.directory = getattr(run_directory, "directory", run_directory)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"`epochs` must be a positive integer, got {epochs!r}.")
        if not isinstance(state, dict) or not state:
            raise ValueError("`state` must be a non-empty dict of trackables (models, optimizers, variables).")
        self.epochs = epochs
        self.name = name
        self.history_path = self.directory.path / history
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="completed_epochs")
        self._checkpoint = tf.train.Checkpoint(completed_epochs=self._epoch, **state)
        self._manager = tf.train.CheckpointManager(self._checkpoint, str(self.directory.path / "checkpoints" / name),
                                                   max_to_keep=2)
        self._current = None
        self._stopped = False
        self._plotted = time.monotonic()
        self.resumed_from = 0

    @property
    def finished(self):
        return self.directory.is_done(f"loop:{self.name}")

    def __iter__(self):
        if self._manager.latest_checkpoint:
            self._checkpoint.restore(self._manager.latest_checkpoint).expect_partial()
        start = int(self._epoch.numpy())
        self.resumed_from = start
        self._truncate_history(start)
        if self.finished:  # stopped early before: nothing left to run
            return
        for epoch in range(start, self.epochs):
            self._current = epoch
            yield epoch
            if self._current is not None:
                raise RuntimeError(f"Epoch {epoch} ended without `loop.log(...)`; call it once per epoch.")
            if self._stopped:
                break
        self._plot()
        info = {"epochs": int(self._epoch.numpy())}
        if self._stopped:
            info["stopped_early"] = True
        self.directory.mark_done(f"loop:{self.name}", info)

    def log(self, **metrics):
        """End the current epoch: append its metrics to the history, then checkpoint the state."""
        if self._current is None:
            raise RuntimeError("`log` is called once per epoch, inside the loop.")
        row = {"epoch": self._current, **{key: float(value) for key, value in metrics.items()}}
        frame = self.history()
        frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True) if len(frame) else pd.DataFrame([row])
        write_csv(frame, self.history_path)
        if self._tensorboard:
            if self._summary_writer is None:
                logs = self.directory.path / "tensorboard" / self.name
                self._summary_writer = tf.summary.create_file_writer(str(logs))
            with self._summary_writer.as_default():
                for key, value in row.items():
                    if key != "epoch":
                        tf.summary.scalar(key, value, step=self._current)
        self._epoch.assign(self._current + 1)
        self._manager.save(checkpoint_number=self._current + 1)
        self._current = None
        if time.monotonic() - self._plotted > 60:
            self._plot()

    def _plot(self):
        frame = self.history()
        if len(frame):
            plot_learning_curves(frame, self.directory.plots / f"{self.history_path.stem}.png", title=self.name)
        self._plotted = time.monotonic()

    def stop(self):
        """End the loop after the epoch just logged (early stopping); a resumed run does not train on."""
        if self._current is not None:
            raise RuntimeError("`stop` comes after `loop.log(...)` of the epoch.")
        self._stopped = True

    def history(self):
        """The history so far as a DataFrame (one row per finished epoch)."""
        if not self.history_path.is_file():
            return pd.DataFrame()
        return pd.read_csv(self.history_path)

    def _truncate_history(self, completed):
        frame = self.history()
        if len(frame) and (frame["epoch"] >= completed).any():
            write_csv(frame[frame["epoch"] < completed], self.history_path)

