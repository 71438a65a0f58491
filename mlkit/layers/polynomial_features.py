import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class PolynomialFeatures(keras.layers.Layer):
    """Powers `x, x², …, x^degree` of every input feature (no cross terms).

    Output features are ordered by power, then by input feature:
    `[x_1 … x_n, x_1² … x_n², …]`. The constant term is left to the next
    Dense layer's bias.
    """

    def __init__(self, degree, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(degree, int) or isinstance(degree, bool) or degree < 1:
            raise ValueError(f"`degree` must be a positive integer, got {degree!r}.")
        self.degree = degree

    def call(self, inputs):
        return ops.concatenate([inputs**power for power in range(1, self.degree + 1)], axis=-1)

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        return tuple(input_shape[:-1]) + (None if features is None else features * self.degree,)

    def get_config(self):
        config = super().get_config()
        config.update(degree=self.degree)
        return config
