"""Multilayer perceptrons: the general MLP, XOR, coffee roasting, MNIST DNN (SPEC §1–2)."""

import keras

from mlkit.layers import Maxout
from mlkit.models.registry import register_builder
from mlkit.validation import (
    check_choice,
    check_non_negative,
    check_positive_int,
    check_rate,
    check_shape,
    check_units,
    check_vector,
)

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "maxout", "linear")

# Glorot for saturating units, He for the ReLU family, LeCun for SELU (self-normalising).
_AUTO_INITIALIZER = {
    "sigmoid": "glorot_uniform",
    "tanh": "glorot_uniform",
    "linear": "glorot_uniform",
    "maxout": "glorot_uniform",
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "elu": "he_normal",
    "selu": "lecun_normal",
}


def _activation_layer(activation, leaky_relu_slope, elu_alpha, name):
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=leaky_relu_slope, name=name)
    if activation == "elu":
        return keras.layers.ELU(alpha=elu_alpha, name=name)
    return keras.layers.Activation(activation, name=name)


@register_builder
def mlp(
    input_shape,
    hidden_units=(64,),
    output_units=1,
    output_activation="sigmoid",
    activation="relu",
    dropout=0.0,
    batch_norm=False,
    kernel_initializer="auto",
    leaky_relu_slope=0.1,
    elu_alpha=1.0,
    maxout_pieces=2,
    l2=0.0,
    name="mlp",
):
    """A fully connected network: [Dense → (BatchNorm) → activation → (Dropout)] × n → Dense.

    Args:
        input_shape: shape of one example; rank > 1 is flattened first.
        hidden_units: widths of the hidden layers.
        output_units: width of the output layer.
        output_activation: e.g. "sigmoid", "softmax", or None for a linear output.
        activation: one of ACTIVATIONS; "leaky_relu" is `max(slope·x, x)` (slope 0.1
            as in the notes), "maxout" uses `Maxout(units, maxout_pieces)`.
        dropout: drop rate after each hidden layer (AlphaDropout with SELU).
        batch_norm: batch normalisation between the affine map and the activation.
        kernel_initializer: "auto" picks Glorot/He/LeCun from the activation, or any
            Keras initializer name.
        l2: weight decay λ: λ·Σw² over every kernel is added to the loss (0 for none).
    """
    input_shape = check_shape("input_shape", input_shape)
    hidden_units = check_units("hidden_units", hidden_units)
    if not hidden_units:
        raise ValueError("`hidden_units` is empty; an MLP needs at least one hidden layer "
                         "(linear_regression and logistic_regression have none).")
    output_units = check_positive_int("output_units", output_units)
    activation = check_choice("activation", activation, ACTIVATIONS)
    dropout = check_rate("dropout", dropout)
    leaky_relu_slope = check_non_negative("leaky_relu_slope", leaky_relu_slope)
    elu_alpha = check_non_negative("elu_alpha", elu_alpha)
    maxout_pieces = check_positive_int("maxout_pieces", maxout_pieces)
    l2 = check_non_negative("l2", l2)
    regularizer = keras.regularizers.L2(l2) if l2 else None
    if activation == "maxout" and maxout_pieces < 2:
        raise ValueError(f"`maxout_pieces` must be at least 2, got {maxout_pieces}.")
    if kernel_initializer == "auto":
        kernel_initializer = _AUTO_INITIALIZER[activation]
    try:
        keras.initializers.get(kernel_initializer)
    except ValueError:
        raise ValueError(f"Unknown `kernel_initializer` {kernel_initializer!r}.") from None

    inputs = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for index, units in enumerate(hidden_units, start=1):
        if activation == "maxout":
            x = Maxout(units, maxout_pieces, kernel_initializer=kernel_initializer,
                       kernel_regularizer=regularizer, name=f"maxout_{index}")(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"batch_norm_{index}")(x)
        else:
            # The BatchNorm shift β replaces the Dense bias.
            x = keras.layers.Dense(
                units, use_bias=not batch_norm, kernel_initializer=kernel_initializer,
                kernel_regularizer=regularizer, name=f"dense_{index}")(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"batch_norm_{index}")(x)
            x = _activation_layer(activation, leaky_relu_slope, elu_alpha, f"{activation}_{index}")(x)
        if dropout:
            drop = keras.layers.AlphaDropout if activation == "selu" else keras.layers.Dropout
            x = drop(dropout, name=f"dropout_{index}")(x)
    # float32 even under a mixed precision policy, for a stable loss.
    outputs = keras.layers.Dense(output_units, activation=output_activation, kernel_regularizer=regularizer,
                                 dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


@register_builder
def xor_net(hidden_units=4, activation="tanh", name="xor_net"):
    """2 → hidden → 1 sigmoid: the smallest net that separates XOR.

    A hidden layer with a non-linearity is what logistic regression lacks; two
    units suffice in principle, four make gradient descent reliable.
    """
    hidden_units = check_positive_int("hidden_units", hidden_units)
    return mlp((2,), hidden_units=(hidden_units,), output_units=1, activation=activation, name=name)


@register_builder
def coffee_roasting_net(feature_mean=None, feature_variance=None, name="coffee_roasting_net"):
    """The notes' coffee-roasting net: Input(2) → Dense(3, sigmoid) → Dense(1, sigmoid).

    Inputs are (temperature °C, duration min); pass their mean and variance to
    standardise inside the model, so the exported model takes raw readings.
    Predict "good roast" where the output is ≥ 0.5.
    """
    if (feature_mean is None) != (feature_variance is None):
        raise ValueError("Give both `feature_mean` and `feature_variance`, or neither.")
    feature_mean = check_vector("feature_mean", feature_mean, 2)
    feature_variance = check_vector("feature_variance", feature_variance, 2)
    inputs = keras.Input(shape=(2,), name="features")
    x = inputs
    if feature_mean is not None:
        x = keras.layers.Normalization(mean=feature_mean, variance=feature_variance, name="standardize")(x)
    x = keras.layers.Dense(3, activation="sigmoid", name="layer1")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="layer2")(x)
    return keras.Model(inputs, outputs, name=name)


@register_builder
def mnist_dnn(
    input_shape=(28, 28, 1),
    num_classes=10,
    hidden_units=(512, 256),
    activation="relu",
    dropout=0.2,
    batch_norm=False,
    l2=0.0,
    name="mnist_dnn",
):
    """Flatten 28×28 → 784 → hidden layers → softmax over the digits."""
    num_classes = check_positive_int("num_classes", num_classes)
    return mlp(
        input_shape,
        hidden_units=hidden_units,
        output_units=num_classes,
        output_activation="softmax",
        activation=activation,
        dropout=dropout,
        batch_norm=batch_norm,
        l2=l2,
        name=name,
    )


@register_builder
def q_network(observation_shape, actions, hidden_units=(64, 64), activation="relu", name="q_network"):
    """A deep Q-network's value head: observation → [Dense → activation] × n → one linear Q-value per
    action (Mnih et al. 2015 on low-dimensional observations such as CartPole's four numbers)."""
    actions = check_positive_int("actions", actions)
    if not check_units("hidden_units", hidden_units):
        raise ValueError("`hidden_units` must name at least one hidden layer.")
    return mlp(observation_shape, hidden_units=hidden_units, output_units=actions, output_activation="linear",
               activation=activation, name=name)
