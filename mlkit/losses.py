"""Custom Keras losses that Keras itself does not provide."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class TargetWeightedSquaredError(keras.losses.Loss):
    """`Σ_i t_i² (t_i − y_i)²` over the last axis: the XPS quantification loss of the notes.

    Weighting by the squared target makes errors on the abundant elements count most
    and ignores absent ones directly (a sum-to-one output still penalises them).
    """

    def __init__(self, name="target_weighted_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.sum(ops.square(y_true) * ops.square(y_true - y_pred), axis=-1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="mlkit")
class PredictionWeightedSquaredError(keras.losses.Loss):
    """`Σ_i y_i² (y_i − t_i)²` over the last axis: Drera et al. (2020)'s loss, weighted by the squared
    prediction (the notes weight by the target, `TargetWeightedSquaredError`).

    Weighting by the prediction penalises confident wrong elements (false positives) hardest.
    """

    def __init__(self, name="prediction_weighted_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.sum(ops.square(y_pred) * ops.square(y_pred - y_true), axis=-1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}
