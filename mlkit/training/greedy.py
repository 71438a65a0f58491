"""Greedy layer-wise pre-training of a stacked autoencoder (SPEC §6; Bengio et al. 2007, Vincent et al. 2010).

Layer k of a `stacked_autoencoder` is trained as the code layer of a one-hidden-layer `Autoencoder`
on the codes of layers 1 … k−1 (frozen), and its weights are copied into the stack. With
corruption the layer autoencoders are denoising ones, corrupting their own input at every layer
(a stacked denoising autoencoder). Each layer trains through `fit` in its own child run
directory, so a killed pre-training resumes at the layer and epoch it reached.
"""

import numpy as np
import pandas as pd

from mlkit.data.pipeline import array_dataset
from mlkit.io import write_csv
from mlkit.models.autoencoder import Autoencoder, encoder_layers
from mlkit.training.fit import fit


def greedy_pretrain(model, inputs, run, epochs, validation_inputs=None, batch_size=128, tied=True, corruption=None,
                    corruption_rate=0.0, first_output_activation="sigmoid", seed=0, verbose=None):
    """Pre-train the `encoder_k` layers of `model` one after another (see the module docstring).

    Args:
        model: a `stacked_autoencoder` network; its encoder layers are overwritten.
        inputs, validation_inputs: training (and validation) examples, NumPy arrays.
        run: the `Run` whose child directories `pretrain_layer_k` hold each layer's training.
        epochs: epochs per layer.
        tied, corruption, corruption_rate: as in `Autoencoder`.
        first_output_activation: the first layer's reconstruction of the raw inputs ("sigmoid"
            with cross-entropy for inputs in [0, 1], "linear" with MSE otherwise). Deeper layers
            reconstruct codes: sigmoid codes with cross-entropy, other codes linearly with MSE.

    Returns:
        (history, summary): every layer's epochs (columns layer, epoch, loss, val_loss), also
        written to `pretraining.csv`; and per layer its width, reconstruction loss before
        training and after the last epoch.
    """
    layers = encoder_layers(model)
    codes = np.asarray(inputs, "float32").reshape(len(inputs), -1)
    validation = None if validation_inputs is None else np.asarray(validation_inputs, "float32").reshape(
        len(validation_inputs), -1)
    frames, summary = [], []
    for number, layer in enumerate(layers, start=1):
        activation = layer.get_config()["activation"]
        output_activation = first_output_activation if number == 1 else (
            "sigmoid" if activation == "sigmoid" else "linear")
        loss = "binary_crossentropy" if output_activation == "sigmoid" else "mse"
        layer_autoencoder = Autoencoder(
            input_shape=(codes.shape[1],), code_size=layer.units, code_activation=activation,
            output_activation=output_activation, tied=tied, corruption=corruption, corruption_rate=corruption_rate,
            reconstruction_loss=loss, overcomplete=True, seed=seed + number, name=f"layer_{number}_autoencoder")
        child = run.child(f"pretrain_layer_{number}")
        with run.strategy.scope():
            layer_autoencoder.compile(optimizer=run.optimizer(), loss=loss)
        train = array_dataset(codes, codes, batch_size, shuffle=True, seed=seed + number)
        held_out = None if validation is None else array_dataset(validation, validation, batch_size)
        before = child.directory.done_info("initial_loss")
        if before is None:  # measured once, before the first epoch, and kept for a resumed run
            before = {"loss": float(layer_autoencoder.evaluate(train, verbose=0))}
            child.directory.mark_done("initial_loss", before)
        trained, history = fit(layer_autoencoder, train, held_out, child, epochs, verbose=verbose)
        layer.set_weights(trained.encoder.get_layer("code").get_weights())
        frames.append(history.assign(layer=number))
        summary.append({"layer": number, "units": int(layer.units), "loss_before": before["loss"],
                        "loss_after": float(history["loss"].iloc[-1])})
        codes = _apply(layer, codes, batch_size)
        validation = None if validation is None else _apply(layer, validation, batch_size)
    history = pd.concat(frames, ignore_index=True)
    history = history[["layer", *[column for column in history.columns if column != "layer"]]]
    write_csv(history, run.path / "pretraining.csv")
    return history, summary


def _apply(layer, values, batch_size):
    """The layer's codes for every example, in batches."""
    return np.concatenate([np.asarray(layer(values[start:start + batch_size]), "float32")
                           for start in range(0, len(values), batch_size)])
