import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class SumNormalization(keras.layers.Layer):
    """Divide non-negative inputs by their sum over the last axis, so they sum to 1.

    Turns independent sigmoid scores into fractions (the XPS quantification head of
    Drera et al.); Keras has no such layer, and a Lambda would not load in safe mode.

    Args:
        epsilon: added to the sum so an all-zero row stays finite.
    """

    def __init__(self, epsilon=1e-7, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive, got {epsilon!r}.")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        return inputs / (ops.sum(inputs, axis=-1, keepdims=True) + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
