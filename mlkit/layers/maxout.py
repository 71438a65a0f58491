import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class Maxout(keras.layers.Layer):
    """Maxout unit: `max_j (W_jᵀx + b_j)` over `num_pieces` affine pieces.

    Keras has no Maxout layer (tf-addons had one, now unmaintained), so it is
    written here as a Dense layer with `units * num_pieces` outputs followed by
    a max over the pieces.

    Args:
        units: number of output units.
        num_pieces: affine pieces per unit (k in Goodfellow et al. 2013), ≥ 2.
        kernel_initializer, bias_initializer, kernel_regularizer: as in Dense.
    """

    def __init__(
        self,
        units,
        num_pieces=2,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive integer, got {units!r}.")
        if not isinstance(num_pieces, int) or num_pieces < 2:
            raise ValueError(f"`num_pieces` must be an integer ≥ 2, got {num_pieces!r}.")
        self.units = units
        self.num_pieces = num_pieces
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units * self.num_pieces),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.units * self.num_pieces,), initializer=self.bias_initializer
        )

    def call(self, inputs):
        pieces = ops.matmul(inputs, self.kernel) + self.bias
        pieces = ops.reshape(pieces, (-1, self.units, self.num_pieces))
        return ops.max(pieces, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            num_pieces=self.num_pieces,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
