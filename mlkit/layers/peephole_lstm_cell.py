import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """LSTM cell with diagonal peephole connections (Gers & Schmidhuber 2000).

    The input and forget gates also see the previous cell state c_{t−1}, the output gate the new
    one c_t, each through a per-unit weight:

        i = σ(W_i x + U_i h + p_i ⊙ c_{t−1} + b_i)      f = σ(W_f x + U_f h + p_f ⊙ c_{t−1} + b_f)
        c_t = f ⊙ c_{t−1} + i ⊙ tanh(W_c x + U_c h + b_c)
        o = σ(W_o x + U_o h + p_o ⊙ c_t + b_o)          h_t = o ⊙ tanh(c_t)

    Keras 3 has no peephole cell (`tf.keras.experimental.PeepholeLSTMCell` is gone and TF-Addons
    is unmaintained). Kernels, biases (forget-gate bias initialised to 1, as in the notes) and
    dropout are `keras.layers.LSTMCell`'s; with zero peephole weights it computes exactly that cell.
    Use it in `keras.layers.RNN` (and `Bidirectional`, stacks). Dropout masks are one per input and
    one per recurrent state, shared by the four gates.

    Args:
        units: as in LSTMCell, like every other argument.
        peephole_initializer: initializer of the three peephole weight vectors.
    """

    def __init__(self, units, peephole_initializer="glorot_uniform", **kwargs):
        super().__init__(units, **kwargs)
        self.implementation = 2
        self.dropout_mask_count = None  # one mask for all four gates
        self.peephole_initializer = keras.initializers.get(peephole_initializer)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_gate_peephole_weights, self.forget_gate_peephole_weights, self.output_gate_peephole_weights = (
            self.add_weight(shape=(self.units,), name=f"{gate}_gate_peephole_weights",
                            initializer=self.peephole_initializer) for gate in ("input", "forget", "output"))

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        z = ops.add(ops.matmul(inputs, self.kernel), ops.matmul(h_tm1, self.recurrent_kernel))
        if self.use_bias:
            z = ops.add(z, self.bias)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i + self.input_gate_peephole_weights * c_tm1)
        f = self.recurrent_activation(z_f + self.forget_gate_peephole_weights * c_tm1)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o + self.output_gate_peephole_weights * c)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.pop("implementation", None)
        return {**config, "peephole_initializer": keras.initializers.serialize(self.peephole_initializer)}
