import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class MeasuredMask(keras.layers.Layer):
    """(batch, points) spectrum with unmeasured bins set to a negative sentinel →
    (batch, points, 2): the measured values (sentinels as 0) and a 0/1 "measured" mask.

    Keeps one plain array as the model's input (so shards, exports and serving stay as they
    are) while the network still learns which part of the window a scan covered. Keras has no
    such layer and a Lambda would not load in safe mode.

    Args:
        threshold: values below it are unmeasured (normalised counts are ≥ 0; the sentinel is −1).
    """

    def __init__(self, threshold=-0.5, **kwargs):
        super().__init__(**kwargs)
        self.threshold = float(threshold)

    def call(self, inputs):
        measured = ops.cast(inputs > self.threshold, inputs.dtype)
        return ops.stack([ops.relu(inputs) * measured, measured], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape, 2)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}
