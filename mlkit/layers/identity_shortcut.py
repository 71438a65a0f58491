import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class IdentityShortcut(keras.layers.Layer):
    """ResNet's parameter-free shortcut (He et al. 2016, option A).

    Subsamples by `strides` (every s-th pixel) and zero-pads the channels up to
    `filters`, so a block that halves the map and widens the channels can still add
    its input without a 1×1 projection. Keras has no such layer; a Lambda would not
    load in safe mode.
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError(f"`filters` must be a positive integer, got {filters!r}.")
        if isinstance(strides, bool) or not isinstance(strides, int) or strides < 1:
            raise ValueError(f"`strides` must be a positive integer, got {strides!r}.")
        self.filters = filters
        self.strides = strides

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] > self.filters:
            raise ValueError(f"IdentityShortcut cannot shrink {input_shape[-1]} channels to {self.filters}.")

    def call(self, inputs):
        if self.strides > 1:
            inputs = inputs[:, :: self.strides, :: self.strides, :]
        missing = self.filters - ops.shape(inputs)[-1]
        return ops.pad(inputs, [[0, 0], [0, 0], [0, 0], [0, missing]])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape

        def subsample(size):
            return None if size is None else -(-size // self.strides)

        return (batch, subsample(height), subsample(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}
