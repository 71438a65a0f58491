"""Recurrent sequence models (SPEC §7): many-to-one and many-to-many, over SimpleRNN, LSTM, the
peephole LSTM cell or GRU."""

import numbers

import keras

from mlkit.layers.peephole_lstm_cell import PeepholeLSTMCell
from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_positive_int, check_rate, check_units

CELLS = ("simple", "lstm", "peephole", "gru")


def recurrent_layer(cell, units, return_sequences, dropout=0.0, name=None):
    """One recurrent layer of the given cell kind (`keras.layers.RNN` around `PeepholeLSTMCell`)."""
    check_choice("cell", cell, CELLS)
    if cell == "simple":
        return keras.layers.SimpleRNN(units, return_sequences=return_sequences, dropout=dropout, name=name)
    if cell == "lstm":
        return keras.layers.LSTM(units, return_sequences=return_sequences, dropout=dropout, name=name)
    if cell == "gru":
        return keras.layers.GRU(units, return_sequences=return_sequences, dropout=dropout, name=name)
    return keras.layers.RNN(PeepholeLSTMCell(units, dropout=dropout), return_sequences=return_sequences, name=name)


@register_builder
def sequence_model(input_shape=(None, 1), cell="lstm", units=(32,), bidirectional=False, many_to_many=False,
                   output_units=1, output_activation=None, projection_units=None, masking=False,
                   vocabulary_size=None, embedding_dim=16, dropout=0.0, name="sequence_model"):
    """Input → (masking | embedding) → stacked recurrent layers (bidirectional if asked) → (projection)
    → Dense output, once per sequence (many-to-one) or per step (`many_to_many`).

    Args:
        input_shape: (steps, features) of real-valued input, steps may be None; with
            `vocabulary_size`, (steps,) of integer tokens.
        cell: "simple" (SimpleRNN), "lstm", "peephole" (PeepholeLSTMCell) or "gru".
        units: width of each stacked recurrent layer.
        output_units, output_activation: e.g. 1 and None (regression), C and "softmax".
        projection_units: a Dense layer (ReLU) between the recurrent stack and the output.
        masking: padded steps are skipped: all-zero feature vectors (`keras.layers.Masking`), or
            token 0 with an embedding (`mask_zero`). The padding must be zeros.
        vocabulary_size, embedding_dim: token input through an Embedding (token 0 is padding
            when `masking`).
        dropout: input dropout of every recurrent layer.
    """
    cell = check_choice("cell", cell, CELLS)
    units = check_units("units", units)
    if not units:
        raise ValueError("`units` is empty; give the width of at least one recurrent layer.")
    if not isinstance(bidirectional, bool) or not isinstance(many_to_many, bool) or not isinstance(masking, bool):
        raise ValueError("`bidirectional`, `many_to_many` and `masking` must be True or False.")
    output_units = check_positive_int("output_units", output_units)
    if projection_units is not None:
        projection_units = check_positive_int("projection_units", projection_units)
    dropout = check_rate("dropout", dropout)
    shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else None
    if vocabulary_size is not None:
        vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        if shape is None or len(shape) != 1 or not _is_steps(shape[0]):
            raise ValueError(f"`input_shape` must be (steps,) of tokens with `vocabulary_size`, got {input_shape!r}.")
    elif shape is None or len(shape) != 2 or not _is_steps(shape[0]) or not _is_positive(shape[1]):
        raise ValueError(f"`input_shape` must be (steps or None, features), got {input_shape!r}.")

    inputs = keras.Input(shape=shape, dtype="int32" if vocabulary_size else None, name="sequence")
    if vocabulary_size:
        x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=masking, name="embedding")(inputs)
    else:
        x = keras.layers.Masking(0.0, name="masking")(inputs) if masking else inputs
    for index, width in enumerate(units, start=1):
        sequences = many_to_many or index < len(units)
        layer = recurrent_layer(cell, width, sequences, dropout, name=f"{cell}_{index}")
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{index}")
        x = layer(x)
    if projection_units:
        x = keras.layers.Dense(projection_units, activation="relu", name="projection")(x)
    outputs = keras.layers.Dense(output_units, activation=output_activation, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def _is_steps(value):
    return value is None or _is_positive(value)


def _is_positive(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1
