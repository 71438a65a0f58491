"""Learning-rate range test (Smith 2017): train briefly while the rate grows exponentially, and plot the
loss against the rate. The useful rates lie where the loss falls fastest, before it blows up.

    result = find_learning_rate(model, train_dataset)      # a compiled model; weights restored after
    plot_learning_rate_finder(result, "plots/lr_finder.png")
    result.suggestion                                       # the rate of the steepest fall of the loss
"""

import dataclasses

import keras
import numpy as np
import pandas as pd

from mlkit.validation import check_positive_int


@dataclasses.dataclass
class LearningRateSearch:
    """The range test's record: one row per batch (learning_rate, loss, smoothed_loss)."""

    history: pd.DataFrame
    suggestion: float


class _RangeTest(keras.callbacks.Callback):
    def __init__(self, start, end, steps, stop_factor, smoothing):
        super().__init__()
        self.rates = np.geomspace(start, end, steps)
        self.stop_factor, self.smoothing = stop_factor, smoothing
        self.rows, self.average, self.best = [], 0.0, np.inf

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rates[len(self.rows)])

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])
        step = len(self.rows) + 1
        self.average = self.smoothing * self.average + (1 - self.smoothing) * loss
        smoothed = self.average / (1 - self.smoothing ** step)  # bias-corrected moving average
        self.rows.append({"learning_rate": float(self.rates[step - 1]), "loss": loss, "smoothed_loss": smoothed})
        self.best = min(self.best, smoothed)
        if not np.isfinite(loss) or smoothed > self.stop_factor * self.best or step == len(self.rates):
            self.model.stop_training = True


def find_learning_rate(model, dataset, start=1e-7, end=10.0, steps=100, stop_factor=4.0, smoothing=0.9):
    """Run the range test on a compiled `model` over batches of `dataset` (a tf.data.Dataset of
    (inputs, targets) batches, repeated as needed), then restore its weights and optimizer state.

    The rate goes from `start` to `end` over `steps` batches (geometrically) and the test stops early
    once the smoothed loss exceeds `stop_factor` × its minimum. The optimizer's learning rate must be
    a number, not a schedule.
    """
    steps = check_positive_int("steps", steps)
    if not 0 < start < end:
        raise ValueError(f"`start` and `end` must satisfy 0 < start < end, got {start!r}, {end!r}.")
    if not hasattr(model, "optimizer") or model.optimizer is None:
        raise ValueError("`model` must be compiled with an optimizer.")
    if isinstance(model.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        raise ValueError("The optimizer's learning rate is a schedule; compile with a number for the range test.")
    weights = model.get_weights()
    optimizer_variables = [variable.numpy() for variable in model.optimizer.variables]
    rate = float(model.optimizer.learning_rate)
    test = _RangeTest(start, end, steps, stop_factor, smoothing)
    model.fit(dataset.repeat(), epochs=1, steps_per_epoch=steps, callbacks=[test], verbose=0)
    model.set_weights(weights)
    for variable, value in zip(model.optimizer.variables, optimizer_variables):
        if tuple(variable.shape) == value.shape:
            variable.assign(value)
    model.optimizer.learning_rate.assign(rate)
    history = pd.DataFrame(test.rows)
    if len(history) < 3:
        raise ValueError("The loss diverged within the first batches; lower `start`.")
    slopes = np.gradient(history["smoothed_loss"].to_numpy(), np.log10(history["learning_rate"].to_numpy()))
    return LearningRateSearch(history, float(history["learning_rate"].iloc[int(np.argmin(slopes))]))


def plot_learning_rate_finder(search, path, title=None):
    """Loss (raw and smoothed) against the learning rate on a log axis, the suggestion marked."""
    from mlkit.plotting import plt, save_figure

    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    frame = search.history
    axis.plot(frame["learning_rate"], frame["loss"], alpha=0.35, label="loss")
    axis.plot(frame["learning_rate"], frame["smoothed_loss"], label="smoothed")
    axis.axvline(search.suggestion, color="grey", linestyle="--", label=f"steepest fall {search.suggestion:.2g}")
    axis.set_xscale("log")
    axis.set_xlabel("learning rate")
    axis.set_ylabel("training loss")
    axis.legend()
    axis.set_title(title or "learning-rate range test")
    save_figure(figure, path)
    return path
