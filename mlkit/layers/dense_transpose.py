import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class DenseTranspose(keras.layers.Layer):
    """The decoder half of a tied pair: `activation(x Wᵀ + b')`, W the kernel of an encoder `Dense`.

    Keras has no tied layer. Only the bias b' is this layer's own weight; W is read from the encoder
    layer at every call, so the tie holds through training and through any assignment to either
    side. A layer's config cannot hold another layer, so `get_config` records the encoder's name
    and width only, and `from_config` refuses to build an untied copy: models that contain this
    layer (`mlkit.models.Autoencoder`) rebuild the tie from their own constructor arguments.

    Args:
        tied_to: the encoder `keras.layers.Dense` (built or not) whose kernel is transposed.
        activation, use_bias, bias_initializer: as in Dense.
    """

    def __init__(self, tied_to, activation=None, use_bias=True, bias_initializer="zeros", **kwargs):
        if not isinstance(tied_to, keras.layers.Dense):
            raise ValueError(
                f"`tied_to` must be the encoder's keras.layers.Dense layer, got {tied_to!r}; a DenseTranspose "
                "is rebuilt by the model that owns both layers (e.g. mlkit.models.Autoencoder), not on its own.")
        super().__init__(**kwargs)
        # Not tracked as a sub-layer: the kernel belongs to (and is trained and saved with) the encoder.
        object.__setattr__(self, "_tied_to", tied_to)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.bias = None

    @property
    def tied_to(self):
        return self._tied_to

    @property
    def kernel(self):
        """Wᵀ, shape (encoder units, encoder input width): a view of the encoder's kernel."""
        return ops.transpose(self._tied_to.kernel)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self._tied_to.units:
            raise ValueError(f"DenseTranspose input width {input_shape[-1]} does not match the tied encoder "
                             f"{self._tied_to.name!r} with {self._tied_to.units} units.")
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self._output_units(),), initializer=self.bias_initializer)

    def _output_units(self):
        if not self._tied_to.built:
            raise ValueError(f"The tied encoder {self._tied_to.name!r} must be called before its DenseTranspose.")
        return int(self._tied_to.kernel.shape[0])

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.transpose(self._tied_to.kernel))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self._output_units(),)

    def get_config(self):
        return {**super().get_config(), "tied_to": self._tied_to.name,
                "activation": keras.activations.serialize(self.activation), "use_bias": self.use_bias,
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}

    @classmethod
    def from_config(cls, config):
        raise ValueError(
            f"DenseTranspose {config.get('name')!r} is tied to the layer {config.get('tied_to')!r} and cannot be "
            "rebuilt on its own; save and load the model that owns both (mlkit.models.Autoencoder).")
