"""Autoencoders (SPEC §6): dense (tied or untied, sparse, denoising, linear), convolutional, and the
stacked network that greedy layer-wise pre-training prepares.

`Autoencoder` and `ConvAutoencoder` are `ArgumentModel`s, functional models rebuilt from their
constructor arguments, which is what lets a tied decoder find its encoder after a `.keras` round trip. The encoder and
decoder are named sub-models (`model.encoder`, `model.decoder`) that can be used and exported on
their own. `model.reconstruction_loss` is the loss chosen at build time, always against the clean
input (corruption is the model's first layer, active in training only).
"""

import math
import numbers

import keras

from mlkit.layers.corruption import corruption_layer
from mlkit.layers.dense_transpose import DenseTranspose
from mlkit.layers.kl_sparsity import KLSparsity
from mlkit.models.argument_model import ArgumentModel
from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_non_negative, check_positive_int, check_shape, check_units

RECONSTRUCTION_LOSSES = ("mse", "binary_crossentropy")
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
HIDDEN_ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "linear")


class _EncoderDecoder(ArgumentModel):
    """inputs → (corruption, training only) → encoder → decoder; `reconstruction_loss` names the loss
    to compile with (`model.compile(optimizer, loss=model.reconstruction_loss)`)."""

    def _assemble(self, input_shape, encoder, decoder, corrupt, reconstruction_loss, name, kwargs):
        inputs = keras.Input(shape=input_shape, name="inputs")
        outputs = decoder(encoder(inputs if corrupt is None else corrupt(inputs)))
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.reconstruction_loss = reconstruction_loss
        # A tied part cannot be cloned layer by layer; the export of a mixed-precision model asks
        # for its float32 copy this way (set untracked: no reference cycle in Keras' layer tracking).
        object.__setattr__(encoder, "float32_copy", lambda: self.float32_copy().encoder)
        object.__setattr__(decoder, "float32_copy", lambda: self.float32_copy().decoder)


def _check_reconstruction(reconstruction_loss, output_activation):
    check_choice("reconstruction_loss", reconstruction_loss, RECONSTRUCTION_LOSSES)
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    if reconstruction_loss == "binary_crossentropy" and output_activation != "sigmoid":
        raise ValueError("`reconstruction_loss` 'binary_crossentropy' needs `output_activation='sigmoid'` "
                         "(inputs and reconstructions in [0, 1]).")


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"`seed` must be an integer or None, got {seed!r}.")
    return None if seed is None else int(seed)


@keras.saving.register_keras_serializable(package="mlkit")
class Autoencoder(_EncoderDecoder):
    """Dense autoencoder: encoder `a = f(Wᵀx + b)` layer by layer down to the code, decoder back up.

    Args:
        input_shape: shape of one example (images are flattened inside and reshaped back).
        hidden_units: encoder widths before the code (the decoder mirrors them).
        code_size: width of the code layer.
        activation: hidden layers' activation; code_activation: the code layer's ("linear" with a
            linear output and MSE is the linear autoassociator, whose code spans PCA's subspace).
        output_activation: "sigmoid" (inputs in [0, 1]) or "linear".
        tied: decoder kernels are the encoder kernels transposed (`DenseTranspose`); each decoder
            layer learns only its bias.
        sparsity, sparsity_weight: ρ and β of the KL sparsity penalty on the code (sigmoid code
            units), None for none.
        corruption, corruption_rate: None, "masking" (each input set to 0 with probability p) or
            "gaussian" (standard deviation), in training only.
        reconstruction_loss: "mse" or "binary_crossentropy" (`model.reconstruction_loss`, to compile with).
        overcomplete: allow a code wider than the input (sparse autoencoders are); otherwise a code
            at least as wide as the input is refused, since it could learn the identity.
        weight_decay: λ of an L2 penalty λ Σ w² on every kernel (the sparse autoencoder's weight
            decay; a tied kernel is penalised once).
        seed: seed of the corruption noise.
    """

    def __init__(self, input_shape, hidden_units=(), code_size=32, activation="relu", code_activation="linear",
                 output_activation="sigmoid", tied=False, sparsity=None, sparsity_weight=3.0, corruption=None,
                 corruption_rate=0.0, reconstruction_loss="mse", overcomplete=False, weight_decay=0.0, seed=None,
                 name="autoencoder", **kwargs):
        input_shape = check_shape("input_shape", input_shape)
        hidden_units = check_units("hidden_units", hidden_units)
        code_size = check_positive_int("code_size", code_size)
        activation = check_choice("activation", activation, HIDDEN_ACTIVATIONS)
        code_activation = check_choice("code_activation", code_activation, HIDDEN_ACTIVATIONS)
        _check_reconstruction(reconstruction_loss, output_activation)
        if not isinstance(tied, bool):
            raise ValueError(f"`tied` must be True or False, got {tied!r}.")
        if not isinstance(overcomplete, bool):
            raise ValueError(f"`overcomplete` must be True or False, got {overcomplete!r}.")
        input_size = math.prod(input_shape)
        if code_size >= input_size and not overcomplete:
            raise ValueError(f"`code_size` {code_size} is not smaller than the input ({input_size} values): an "
                             "undercomplete autoencoder could copy its input; pass overcomplete=True (e.g. with "
                             "sparsity) to allow it.")
        if sparsity is not None:
            if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real) or not 0 < sparsity < 1:
                raise ValueError(f"`sparsity` (ρ) must be a number in (0, 1), got {sparsity!r}.")
            if code_activation != "sigmoid":
                raise ValueError(f"`code_activation` must be 'sigmoid' with `sparsity` (ρ̂ is a mean activation in "
                                 f"(0, 1)), got {code_activation!r}.")
            sparsity = float(sparsity)
        sparsity_weight = check_non_negative("sparsity_weight", sparsity_weight)
        weight_decay = check_non_negative("weight_decay", weight_decay)
        regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
        seed = _check_seed(seed)
        corrupt = corruption_layer(corruption, corruption_rate, seed)
        self._arguments = dict(
            input_shape=list(input_shape), hidden_units=list(hidden_units), code_size=code_size,
            activation=activation, code_activation=code_activation, output_activation=output_activation, tied=tied,
            sparsity=sparsity, sparsity_weight=sparsity_weight, corruption=corruption,
            corruption_rate=corruption_rate, reconstruction_loss=reconstruction_loss, overcomplete=overcomplete,
            weight_decay=weight_decay, seed=seed)

        # encoder: the code layer computes in float32, so the code is float32 under mixed precision
        encoder_input = keras.Input(shape=input_shape, name="encoder_input")
        x = keras.layers.Flatten(name="flatten")(encoder_input) if len(input_shape) > 1 else encoder_input
        dense_layers = []
        for index, units in enumerate(hidden_units, start=1):
            dense_layers.append(keras.layers.Dense(units, activation=activation, kernel_regularizer=regularizer,
                                                   name=f"encoder_{index}"))
            x = dense_layers[-1](x)
        dense_layers.append(keras.layers.Dense(code_size, activation=code_activation, kernel_regularizer=regularizer,
                                               dtype="float32", name="code"))
        code = dense_layers[-1](x)
        if sparsity is not None:
            code = KLSparsity(sparsity, sparsity_weight, dtype="float32", name="kl_sparsity")(code)
        encoder = keras.Model(encoder_input, code, name="encoder")

        # decoder: mirrors the encoder; the last layer (float32) gives back the input's width
        code_input = keras.Input(shape=(code_size,), name="code_input")
        x = code_input
        widths = [*reversed(hidden_units), input_size]
        for depth, (units, tied_to) in enumerate(zip(widths, reversed(dense_layers)), start=1):
            last = depth == len(widths)
            layer_activation = output_activation if last else activation
            layer_name = "reconstruction" if last else f"decoder_{depth}"
            dtype = "float32" if last else None
            if tied:
                x = DenseTranspose(tied_to, activation=layer_activation, dtype=dtype, name=layer_name)(x)
            else:
                x = keras.layers.Dense(units, activation=layer_activation, kernel_regularizer=regularizer, dtype=dtype,
                                       name=layer_name)(x)
        if len(input_shape) > 1:
            x = keras.layers.Reshape(input_shape, dtype="float32", name="unflatten")(x)
        decoder = keras.Model(code_input, x, name="decoder")
        self._assemble(input_shape, encoder, decoder, corrupt, reconstruction_loss, name, kwargs)


@keras.saving.register_keras_serializable(package="mlkit")
class ConvAutoencoder(_EncoderDecoder):
    """Convolutional autoencoder: [Conv k×k ReLU → MaxPool 2] per filter count, then
    [Conv2DTranspose k×k stride 2 ReLU] in reverse, then Conv k×k to the input's channels.

    The defaults are the keras-io convolutional (denoising) autoencoder for 28×28 digits:
    28×28×1 → 7×7×32 code → 28×28×1, 28,353 parameters.
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 32), kernel_size=3, output_activation="sigmoid",
                 corruption=None, corruption_rate=0.0, reconstruction_loss="binary_crossentropy", seed=None,
                 name="conv_autoencoder", **kwargs):
        input_shape = check_shape("input_shape", input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be (height, width, channels), got {input_shape!r}.")
        filters = check_units("filters", filters)
        if not filters:
            raise ValueError("`filters` must name at least one block.")
        kernel_size = check_positive_int("kernel_size", kernel_size)
        _check_reconstruction(reconstruction_loss, output_activation)
        seed = _check_seed(seed)
        corrupt = corruption_layer(corruption, corruption_rate, seed)
        factor = 2 ** len(filters)
        if input_shape[0] % factor or input_shape[1] % factor:
            raise ValueError(f"`input_shape` {input_shape[0]}×{input_shape[1]} must be divisible by {factor} "
                             f"(one 2× pooling per entry of `filters`) to be reconstructed at its own size.")
        self._arguments = dict(input_shape=list(input_shape), filters=list(filters), kernel_size=kernel_size,
                               output_activation=output_activation, corruption=corruption,
                               corruption_rate=corruption_rate, reconstruction_loss=reconstruction_loss, seed=seed)

        encoder_input = keras.Input(shape=input_shape, name="encoder_input")
        x = encoder_input
        for index, count in enumerate(filters, start=1):
            x = keras.layers.Conv2D(count, kernel_size, activation="relu", padding="same", name=f"conv_{index}")(x)
            x = keras.layers.MaxPooling2D(2, padding="same", dtype="float32" if index == len(filters) else None,
                                          name=f"pool_{index}")(x)
        encoder = keras.Model(encoder_input, x, name="encoder")

        code_input = keras.Input(shape=tuple(encoder.output.shape[1:]), name="code_input")
        x = code_input
        for index, count in enumerate(reversed(filters), start=1):
            x = keras.layers.Conv2DTranspose(count, kernel_size, strides=2, activation="relu", padding="same",
                                             name=f"deconv_{index}")(x)
        x = keras.layers.Conv2D(input_shape[-1], kernel_size, activation=output_activation, padding="same",
                                dtype="float32", name="reconstruction")(x)
        decoder = keras.Model(code_input, x, name="decoder")
        self._assemble(input_shape, encoder, decoder, corrupt, reconstruction_loss, name, kwargs)


@register_builder
def autoencoder(input_shape, hidden_units=(), code_size=32, activation="relu", code_activation="linear",
                output_activation="sigmoid", tied=False, sparsity=None, sparsity_weight=3.0, corruption=None,
                corruption_rate=0.0, reconstruction_loss="mse", overcomplete=False, weight_decay=0.0, seed=None,
                name="autoencoder"):
    """A dense `Autoencoder` (see its docstring for every argument)."""
    return Autoencoder(input_shape, hidden_units, code_size, activation, code_activation, output_activation, tied,
                       sparsity, sparsity_weight, corruption, corruption_rate, reconstruction_loss, overcomplete,
                       weight_decay, seed, name=name)


@register_builder
def conv_autoencoder(input_shape=(28, 28, 1), filters=(32, 32), kernel_size=3, output_activation="sigmoid",
                     corruption=None, corruption_rate=0.0, reconstruction_loss="binary_crossentropy", seed=None,
                     name="conv_autoencoder"):
    """A `ConvAutoencoder`; the defaults are the keras-io MNIST autoencoder."""
    return ConvAutoencoder(input_shape, filters, kernel_size, output_activation, corruption, corruption_rate,
                           reconstruction_loss, seed, name=name)


@register_builder
def stacked_autoencoder(input_shape, hidden_units=(256, 128), num_classes=10, activation="sigmoid", dropout=0.0,
                        name="stacked_autoencoder"):
    """The network a stacked autoencoder pre-trains: Dense layers `encoder_1 … encoder_k` and a
    softmax classifier on the last code.

    `mlkit.training.greedy_pretrain` trains each `encoder_k` as the encoder of a one-layer
    autoencoder on the previous layer's codes (with corruption: a stacked denoising autoencoder);
    then the whole network is fine-tuned on labels. Without pre-training it is the randomly
    initialised baseline.
    """
    from mlkit.validation import check_rate

    input_shape = check_shape("input_shape", input_shape)
    hidden_units = check_units("hidden_units", hidden_units)
    if not hidden_units:
        raise ValueError("`hidden_units` is empty; a stacked autoencoder needs at least one layer to pre-train.")
    num_classes = check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2, got {num_classes}.")
    activation = check_choice("activation", activation, HIDDEN_ACTIVATIONS)
    dropout = check_rate("dropout", dropout)
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"encoder_{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


def encoder_layers(model):
    """The `encoder_1 … encoder_k` Dense layers of a `stacked_autoencoder`, in order."""
    layers = []
    while True:
        try:
            layers.append(model.get_layer(f"encoder_{len(layers) + 1}"))
        except ValueError:
            break
    if not layers:
        raise ValueError(f"`model` {model.name!r} has no layers named encoder_1 … (build it with stacked_autoencoder).")
    return layers
