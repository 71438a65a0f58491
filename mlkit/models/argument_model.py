"""The base of functional models that are rebuilt from their constructor arguments (keras-hub style).

A subclass validates its arguments, stores them in `self._arguments`, builds its functional graph
and calls `keras.Model.__init__(inputs, outputs)`. `get_config` returns those arguments and
`from_config` builds the graph again. Layers that refer to other layers (a tied decoder) therefore
survive a `.keras` round trip, and so do the Python attributes that reach the parts
(`model.encoder`, …). The same reconstruction gives the float32 copy that an export of a
mixed-precision model needs, where cloning layer by layer cannot rebuild such layers.
"""

import keras


class ArgumentModel(keras.Model):
    def get_config(self):
        return {**self._arguments, "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def float32_copy(self):
        """The same model with float32 layers and these weights (for exporting a mixed-precision model)."""
        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("float32")
        try:
            copy = type(self).from_config(self.get_config())
        finally:
            keras.mixed_precision.set_global_policy(previous)
        copy.set_weights(self.get_weights())
        return copy
