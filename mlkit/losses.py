"""Custom Keras losses that Keras itself does not provide."""

import keras
from keras import ops


class _WeightedSquaredError(keras.losses.Loss):
    """`Σ_i w_i² (t_i − y_i)²` over the last axis, w the target or the prediction (subclasses say which)."""

    weight_by_prediction = False

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        weight = y_pred if self.weight_by_prediction else y_true
        return ops.sum(ops.square(weight) * ops.square(y_true - y_pred), axis=-1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="mlkit")
class TargetWeightedSquaredError(_WeightedSquaredError):
    """`Σ_i t_i² (t_i − y_i)²` over the last axis: the XPS quantification loss of the notes.

    Weighting by the squared target makes errors on the abundant elements count most
    and ignores absent ones directly (a sum-to-one output still penalises them).
    """

    def __init__(self, name="target_weighted_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@keras.saving.register_keras_serializable(package="mlkit")
class PredictionWeightedSquaredError(_WeightedSquaredError):
    """`Σ_i y_i² (y_i − t_i)²` over the last axis: Drera et al. (2020)'s loss, weighted by the squared
    prediction (the notes weight by the target, `TargetWeightedSquaredError`).

    Weighting by the prediction penalises confident wrong elements (false positives) hardest.
    """

    weight_by_prediction = True

    def __init__(self, name="prediction_weighted_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
