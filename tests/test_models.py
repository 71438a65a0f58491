"""Every builder: shape, parameters, round trips, one step, .keras in a fresh process, SavedModel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlkit import models
from mlkit.training import export_model
from mlkit.losses import TargetWeightedSquaredError
from model_testing import assert_outputs_equal, flat_outputs, run_model_test, run_precision_test

rng = np.random.default_rng(0)


def _regression(shape):
    return rng.standard_normal(shape).astype("float32"), rng.standard_normal((shape[0], 1)).astype("float32")


def _classes(shape, num_classes):
    return rng.random(shape).astype("float32"), rng.integers(0, num_classes, shape[0])


def _spectra(batch, points, presence=False, nuisances=0):
    fractions = rng.dirichlet(np.ones(80), batch).astype("float32")
    targets = {"composition": fractions, "thickness": rng.uniform(0, 1, (batch, 1)).astype("float32")}
    if presence:
        targets["presence"] = (fractions >= 0.01).astype("float32")
    if nuisances:
        targets["nuisances"] = rng.uniform(0, 1, (batch, nuisances)).astype("float32")
    return rng.random((batch, points)).astype("float32"), targets


def _masks(batch, size, num_classes):
    return rng.random((batch, size, size, 3)).astype("float32"), rng.integers(0, num_classes, (batch, size, size))


def _reconstruction(shape):
    inputs = rng.random(shape).astype("float32")
    return inputs, inputs


def _binary(shape):
    return rng.standard_normal(shape).astype("float32"), rng.integers(0, 2, (shape[0], 1)).astype("float32")


# name -> (builder, kwargs, (inputs, targets), loss, output shape, trainable parameters or None)
CASES = {
    "linear_regression": (models.linear_regression, {"input_dim": 5}, _regression((16, 5)), "mse", (16, 1), 6),
    "linear_regression_elastic_net": (
        models.linear_regression, {"input_dim": 5, "output_dim": 2, "alpha": 0.1, "l1_ratio": 0.5},
        (rng.standard_normal((16, 5)).astype("float32"), rng.standard_normal((16, 2)).astype("float32")),
        "mse", (16, 2), 12,
    ),
    "polynomial_regression": (
        models.polynomial_regression,
        {"degree": 3, "feature_mean": [0.0, 1.0, 0.0], "feature_variance": [1.0, 2.0, 15.0]},
        _regression((16, 1)), "mse", (16, 1), 4,
    ),
    "logistic_regression": (models.logistic_regression, {"input_dim": 3, "alpha": 0.01}, _binary((16, 3)),
                            "binary_crossentropy", (16, 1), 4),
    "softmax_regression": (models.softmax_regression, {"input_shape": (28, 28, 1), "num_classes": 10},
                           _classes((16, 28, 28, 1), 10), "sparse_categorical_crossentropy", (16, 10), 7850),
    "mlp_leaky_relu_batch_norm": (
        models.mlp, {"input_shape": (8,), "hidden_units": (16, 8), "activation": "leaky_relu", "batch_norm": True,
                     "dropout": 0.1, "output_units": 3, "output_activation": "softmax"},
        _classes((16, 8), 3), "sparse_categorical_crossentropy", (16, 3), None,
    ),
    "mlp_maxout": (
        models.mlp, {"input_shape": (8,), "hidden_units": (6,), "activation": "maxout", "maxout_pieces": 3},
        _binary((16, 8)), "binary_crossentropy", (16, 1), 8 * 18 + 18 + 6 + 1,
    ),
    "mlp_selu": (models.mlp, {"input_shape": (4, 2), "hidden_units": (8, 8), "activation": "selu", "dropout": 0.1},
                 _binary((16, 4, 2)), "binary_crossentropy", (16, 1), 8 * 8 + 8 + 8 * 8 + 8 + 9),
    "mlp_elu_linear_output": (
        models.mlp, {"input_shape": (4,), "hidden_units": (5,), "activation": "elu", "elu_alpha": 0.5,
                     "output_activation": None},
        _regression((16, 4)), "mse", (16, 1), 4 * 5 + 5 + 6,
    ),
    "xor_net": (models.xor_net, {}, _binary((4, 2)), "binary_crossentropy", (4, 1), 2 * 4 + 4 + 4 + 1),
    "coffee_roasting_net": (
        models.coffee_roasting_net, {"feature_mean": [200.0, 13.5], "feature_variance": [1500.0, 1.3]},
        (np.array([[200.0, 13.9], [180.0, 12.5], [250.0, 14.0], [160.0, 12.0]], "float32"),
         np.array([[1.0], [1.0], [0.0], [0.0]], "float32")),
        "binary_crossentropy", (4, 1), 13,  # the notes' 2→3→1 net: 2·3+3 + 3+1
    ),
    "mnist_dnn": (models.mnist_dnn, {}, _classes((8, 28, 28, 1), 10), "sparse_categorical_crossentropy",
                  (8, 10), 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10),
    # The notes' layout: Conv1D(1, 41) → AvgPool 4 → Dropout → Dense → 80.
    "xps_cnn_seeded": (
        models.xps_cnn, {"points": 64, "variant": "seeded", "hidden_units": (16,), "predict_thickness": False,
                         "mask_channel": False},
        (_spectra(8, 64)[0], {"composition": _spectra(8, 64)[1]["composition"]}),
        {"composition": "categorical_crossentropy"}, {"composition": (8, 80)},
        41 + 1 + 16 * 16 + 16 + 16 * 80 + 80,
    ),
    # The classic LeNet-5 on MNIST: C1 6·26 + C3 16·151 + C5 120·401 + F6 84·121 + 10·85.
    "lenet5_classic": (models.lenet5, {}, _classes((8, 28, 28, 1), 10), "sparse_categorical_crossentropy",
                       (8, 10), 156 + 2416 + 48120 + 10164 + 850),
    "lenet5_modern_augmented": (
        models.lenet5, {"input_shape": (32, 32, 3), "num_classes": 4, "variant": "modern",
                        "augmentation": {"flip": "horizontal", "rotation": 0.05, "zoom": 0.1}},
        _classes((8, 32, 32, 3), 4), "sparse_categorical_crossentropy", (8, 4), None,
    ),
    "alexnet_small": (
        models.alexnet, {"input_shape": (32, 32, 3), "num_classes": 3, "filters": (8, 8, 8, 8, 8),
                         "dense_units": (16, 16), "batch_norm": True},
        _classes((8, 32, 32, 3), 3), "sparse_categorical_crossentropy", (8, 3), None,
    ),
    "vgg11_global_average": (
        models.vgg, {"depth": 11, "input_shape": (28, 28, 1), "num_classes": 10, "base_filters": 4,
                     "dense_units": (8,), "head": "global_average", "batch_norm": True},
        _classes((8, 28, 28, 1), 10), "sparse_categorical_crossentropy", (8, 10), None,
    ),
    "resnet18_identity_shortcuts": (
        models.resnet, {"depth": 18, "input_shape": (16, 16, 3), "num_classes": 5, "base_filters": 4,
                        "shortcut": "identity", "use_bias": False},
        _classes((8, 16, 16, 3), 5), "sparse_categorical_crossentropy", (8, 5), None,
    ),
    "resnet50_imagenet_stem": (
        models.resnet, {"depth": 50, "input_shape": (64, 64, 3), "num_classes": 3, "base_filters": 2,
                        "stem": "imagenet"},
        _classes((4, 64, 64, 3), 3), "sparse_categorical_crossentropy", (4, 3), None,
    ),
    # The keras-io mnist_convnet: 32·(9+1) + 64·(9·32+1) + 10·(1600+1).
    "simple_cnn_mnist_convnet": (
        models.simple_cnn, {"filters": (32, 64), "convs_per_block": 1, "padding": "valid", "dense_units": (),
                            "dropout": 0.5},
        _classes((8, 28, 28, 1), 10), "sparse_categorical_crossentropy", (8, 10), 320 + 18496 + 16010,
    ),
    "simple_cnn_global_average": (
        models.simple_cnn, {"input_shape": (16, 16, 3), "num_classes": 4, "filters": (4, 8), "head": "global_average",
                            "dense_units": ()},
        _classes((8, 16, 16, 3), 4), "sparse_categorical_crossentropy", (8, 4),
        (27 * 4 + 4) + (36 * 4 + 4) + (36 * 8 + 8) + (72 * 8 + 8) + (8 * 4 + 4),
    ),
    "simple_cnn_binary_cropped": (
        models.simple_cnn, {"input_shape": (20, 20, 3), "num_classes": 1, "filters": (4, 8),
                            "block_dropout": 0.1, "dense_units": (8,),
                            "augmentation": {"crop": [16, 16], "contrast": 0.2, "brightness": 0.1}},
        _binary((8, 20, 20, 3)), "binary_crossentropy", (8, 1), None,
    ),
    # Encoder 3→4→4, bottleneck 4→8→8, decoder upsample 8→4, concat 8→4→4, 1×1 → 3 classes.
    "fcn": (
        models.fcn, {"input_shape": (16, 16, 3), "num_classes": 3, "filters": (4, 8), "batch_norm": False},
        _masks(4, 16, 3), "sparse_categorical_crossentropy", (4, 16, 16, 3),
        (27 * 4 + 4) + (36 * 4 + 4) + (36 * 8 + 8) + (72 * 8 + 8) + (32 * 4 + 4) + (72 * 4 + 4) + (36 * 4 + 4)
        + (4 * 3 + 3),
    ),
    # Drera et al.'s layout (tiny): kernels 11/21/41 over counts and mask, merge → pool, thickness fed
    # into the composition branch; with the presence head, as the xps recipe trains it.
    "xps_cnn_drera": (
        models.xps_cnn,
        {"points": 64, "variant": "drera", "filters": 2, "hidden_units": (16,), "thickness_units": 4,
         "composition_activation": "normalized_softplus", "head_dropout": 0.15, "thickness_max": 1.0,
         "predict_presence": True, "element_sensitivities": np.linspace(0.01, 1.0, 80)},
        _spectra(8, 64, presence=True),
        {"composition": TargetWeightedSquaredError(), "thickness": "mse", "presence": "binary_crossentropy"},
        {"composition": (8, 80), "thickness": (8, 1), "presence": (8, 80)},
        (11 * 2 * 2 + 2) + (21 * 2 * 2 + 2) + (41 * 2 * 2 + 2) + (5 * 6 * 4 + 4) + (64 * 4 + 4) + (4 + 1)
        + ((64 + 1) * 16 + 16) + (16 * 80 + 80) + (16 * 80 + 80),
    ),
    # Stacked convolutions (tiny): 9-wide over counts and mask, two halving levels of 4 filters, a final
    # halving to 8 positions; thickness fed into the composition branch; with the presence head and
    # five nuisances on their own branch.
    "xps_cnn_deep": (
        models.xps_cnn,
        {"points": 64, "variant": "deep", "filters": 2, "block_filters": (4, 4), "hidden_units": (16,),
         "thickness_units": 4, "composition_activation": "normalized_softplus", "head_dropout": 0.15,
         "thickness_max": 1.0, "predict_presence": True, "nuisances": 5},
        _spectra(8, 64, presence=True, nuisances=5),
        {"composition": "categorical_crossentropy", "thickness": "mse", "presence": "binary_crossentropy",
         "nuisances": "mse"},
        {"composition": (8, 80), "thickness": (8, 1), "presence": (8, 80), "nuisances": (8, 5)},
        (9 * 2 * 2 + 2) + (5 * 2 * 4 + 4) + (5 * 4 * 4 + 4) + (32 * 4 + 4) + (4 + 1) + (32 * 4 + 4) + (4 * 5 + 5)
        + ((32 + 1) * 16 + 16) + (16 * 80 + 80) + (16 * 80 + 80),
    ),
    "xps_cnn_multi_kernel": (
        models.xps_cnn,
        {"points": 64, "filters": 2, "kernel_sizes": (3, 5), "denoising_units": 32, "hidden_units": (8,),
         "thickness_units": 4, "composition_activation": "normalized_sigmoid", "thickness_max": 1.0},
        _spectra(8, 64), {"composition": TargetWeightedSquaredError(), "thickness": "mse"},
        {"composition": (8, 80), "thickness": (8, 1)},
        # the denoising layer reads counts and mask: 64 · 2 inputs
        (64 * 2 * 32 + 32) + (3 * 2 + 2) + (5 * 2 + 2) + (5 * 4 * 4 + 4) + (32 * 8 + 8) + (8 * 80 + 80)
        + (32 * 4 + 4) + (4 + 1),
    ),
    # 10 → code 16 (overcomplete, sparse) → 10, tied: the code kernel and two biases.
    "autoencoder_tied_sparse": (
        models.autoencoder, {"input_shape": (10,), "code_size": 16, "code_activation": "sigmoid",
                             "output_activation": "linear", "tied": True, "sparsity": 0.1, "sparsity_weight": 0.1,
                             "overcomplete": True},
        _reconstruction((8, 10)), "mse", (8, 10), 10 * 16 + 16 + 10,
    ),
    "autoencoder_denoising_images": (
        models.autoencoder, {"input_shape": (6, 6, 1), "hidden_units": (8,), "code_size": 4, "corruption": "masking",
                             "corruption_rate": 0.3, "reconstruction_loss": "binary_crossentropy", "seed": 3},
        _reconstruction((8, 6, 6, 1)), "binary_crossentropy", (8, 6, 6, 1),
        (36 * 8 + 8) + (8 * 4 + 4) + (4 * 8 + 8) + (8 * 36 + 36),
    ),
    # The keras-io layout, narrow: conv 1→2, 2→3, transposed 3→3, 3→2, conv 2→1 (3×3 kernels).
    "conv_autoencoder_gaussian": (
        models.conv_autoencoder, {"input_shape": (8, 8, 1), "filters": (2, 3), "corruption": "gaussian",
                                  "corruption_rate": 0.1},
        _reconstruction((8, 8, 8, 1)), "binary_crossentropy", (8, 8, 8, 1),
        (9 * 2 + 2) + (18 * 3 + 3) + (27 * 3 + 3) + (27 * 2 + 2) + (18 * 1 + 1),
    ),
    "stacked_autoencoder": (
        models.stacked_autoencoder, {"input_shape": (6, 6, 1), "hidden_units": (8, 4), "num_classes": 3},
        _classes((8, 6, 6, 1), 3), "sparse_categorical_crossentropy", (8, 3), (36 * 8 + 8) + (8 * 4 + 4) + (4 * 3 + 3),
    ),
    # 4·(5·(2+5+1)) LSTM, then 5+1 output
    "sequence_model_lstm": (models.sequence_model, {"input_shape": (7, 2), "units": (5,)}, _regression((8, 7, 2)),
                            "mse", (8, 1), 4 * 5 * (2 + 5 + 1) + 6),
    # peephole LSTM: the LSTM's weights plus three peephole vectors per layer; stacked, many-to-many, masked
    "sequence_model_peephole_stacked": (
        models.sequence_model, {"input_shape": (None, 2), "cell": "peephole", "units": (4, 3), "many_to_many": True,
                                "masking": True, "projection_units": 6, "output_units": 2},
        (rng.standard_normal((8, 7, 2)).astype("float32"), rng.standard_normal((8, 7, 2)).astype("float32")),
        "mse", (8, 7, 2), (4 * 4 * (2 + 4 + 1) + 12) + (4 * 3 * (4 + 3 + 1) + 9) + (3 * 6 + 6) + (6 * 2 + 2),
    ),
    "sequence_model_bidirectional_gru_tokens": (
        models.sequence_model, {"input_shape": (6,), "cell": "gru", "units": (4,), "bidirectional": True,
                                "vocabulary_size": 12, "embedding_dim": 3, "masking": True, "output_units": 3,
                                "output_activation": "softmax"},
        (rng.integers(1, 12, (8, 6)).astype("int32"), rng.integers(0, 3, 8)), "sparse_categorical_crossentropy",
        (8, 3), 12 * 3 + 2 * (3 * 4 * (3 + 4 + 2)) + (8 * 3 + 3),
    ),
    # embeddings 9·3 and 7·3, encoder and decoder LSTMs 4·5·(3+5+1), attention: Dense(5) on [h; context], 7 outputs
    "seq2seq_lstm_attention": (
        models.seq2seq, {"source_vocabulary_size": 9, "target_vocabulary_size": 7, "units": 5, "embedding_dim": 3,
                         "attention": True},
        ([rng.integers(1, 9, (8, 4)).astype("int32"), rng.integers(1, 7, (8, 4)).astype("int32")],
         rng.integers(1, 7, (8, 4))), "sparse_categorical_crossentropy", (8, 4, 7),
        9 * 3 + 7 * 3 + 2 * (4 * 5 * (3 + 5 + 1)) + (10 * 5 + 5) + (5 * 7 + 7),
    ),
    "seq2seq_peephole": (
        models.seq2seq, {"source_vocabulary_size": 6, "target_vocabulary_size": 5, "units": 3, "embedding_dim": 2,
                         "cell": "peephole"},
        ([rng.integers(1, 6, (8, 5)).astype("int32"), rng.integers(1, 5, (8, 3)).astype("int32")],
         rng.integers(1, 5, (8, 3))), "sparse_categorical_crossentropy", (8, 3, 5),
        6 * 2 + 5 * 2 + 2 * (4 * 3 * (2 + 3 + 1) + 9) + (3 * 5 + 5),
    ),
    # a text model: 4 characters + padding, start, end = 7 tokens on both sides; GRU 3·3·(2+3) + 2·3·3 biases
    "seq2seq_gru_text": (
        models.seq2seq, {"vocabulary": "abcd", "units": 3, "embedding_dim": 2, "cell": "gru", "reverse_source": True,
                         "max_output_length": 4},
        ([rng.integers(3, 7, (8, 4)).astype("int32"), rng.integers(1, 7, (8, 3)).astype("int32")],
         rng.integers(1, 7, (8, 3))), "sparse_categorical_crossentropy", (8, 3, 7),
        2 * 7 * 2 + 2 * (3 * 3 * (2 + 3) + 2 * 3 * 3) + (3 * 7 + 7),
    ),
    "gan_generator_mlp": (models.gan_generator_mlp,
                          {"latent_dim": 8, "hidden_units": (16,), "image_shape": (8, 8, 1), "batch_norm": True},
                          (rng.standard_normal((16, 8)).astype("float32"),
                           rng.uniform(-1, 1, (16, 8, 8, 1)).astype("float32")), "mse", (16, 8, 8, 1),
                          8 * 16 + 16 * 2 + 16 * 64 + 64),
    "gan_discriminator_mlp_maxout": (
        models.gan_discriminator_mlp, {"image_shape": (8, 8, 1), "hidden_units": (16,), "activation": "maxout",
                                       "maxout_pieces": 3, "dropout": 0.0},
        (rng.uniform(-1, 1, (16, 8, 8, 1)).astype("float32"), rng.integers(0, 2, (16, 1)).astype("float32")),
        keras.losses.BinaryCrossentropy(from_logits=True), (16, 1), 64 * 48 + 48 + 17),
    "dcgan_generator": (models.dcgan_generator, {"latent_dim": 8, "image_shape": (28, 28, 1), "filters": 4},
                        (rng.standard_normal((8, 8)).astype("float32"),
                         rng.uniform(-1, 1, (8, 28, 28, 1)).astype("float32")), "mse", (8, 28, 28, 1), None),
    "dcgan_discriminator_rgb": (
        models.dcgan_discriminator, {"image_shape": (32, 32, 3), "filters": 4, "normalization": "layer"},
        (rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32"), rng.integers(0, 2, (8, 1)).astype("float32")),
        keras.losses.BinaryCrossentropy(from_logits=True), (8, 1), None),
    "q_network": (models.q_network, {"observation_shape": (4,), "actions": 2, "hidden_units": (8, 8)},
                  (rng.standard_normal((16, 4)).astype("float32"), rng.standard_normal((16, 2)).astype("float32")),
                  "mse", (16, 2), 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2),
    "sequence_model_simple_rnn": (models.sequence_model, {"input_shape": (5, 1), "cell": "simple", "units": (3,)},
                                  _regression((8, 5, 1)), "mse", (8, 1), 3 * (1 + 3 + 1) + 4),
}


# Deep image nets take seconds to train a few steps on the CPU: only `make test` runs them.
HEAVY_CASES = {"resnet50_imagenet_stem", "resnet18_identity_shortcuts", "vgg11_global_average", "alexnet_small"}
# Tracing ResNet-50's training step takes 36 s on this CPU, its three eager steps 8 s.
EAGER_TRAINING = {"resnet50_imagenet_stem"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY_CASES else name
                                  for name in CASES])
def test_builder(name):
    builder, kwargs, (inputs, targets), loss, output_shape, parameters = CASES[name]
    keras.utils.set_random_seed(0)
    run_model_test(builder(**kwargs), inputs, targets, loss, output_shape, parameters,
                   run_eagerly=name in EAGER_TRAINING)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_builder_outputs_are_float32_under_mixed_precision(name, policy):
    builder, kwargs, (inputs, _), *_rest = CASES[name]
    run_precision_test(lambda: builder(**kwargs), inputs, policy)


def test_every_registered_builder_is_covered():
    covered = {CASES[name][0].__name__ for name in CASES}
    assert covered == set(models.list_builders())


@pytest.mark.parametrize(
    "builder, kwargs, argument",
    [
        (models.linear_regression, {"input_dim": 0}, "input_dim"),
        (models.linear_regression, {"alpha": -1.0}, "alpha"),
        (models.linear_regression, {"l1_ratio": 1.5}, "l1_ratio"),
        (models.polynomial_regression, {"degree": 0}, "degree"),
        (models.polynomial_regression, {"degree": 2, "feature_mean": [0.0, 0.0]}, "feature_mean"),
        (models.polynomial_regression, {"degree": 2, "feature_mean": [0.0], "feature_variance": [1.0]}, "feature_mean"),
        (models.softmax_regression, {"num_classes": 1}, "num_classes"),
        (models.softmax_regression, {"input_shape": (28, -1)}, "input_shape"),
        (models.mlp, {"input_shape": (4,), "activation": "swishy"}, "activation"),
        (models.mlp, {"input_shape": (4,), "dropout": 1.0}, "dropout"),
        (models.mlp, {"input_shape": (4,), "hidden_units": (4, 0)}, "hidden_units"),
        (models.mlp, {"input_shape": (4,), "kernel_initializer": "nonsense"}, "kernel_initializer"),
        (models.mlp, {"input_shape": (4,), "activation": "maxout", "maxout_pieces": 1}, "maxout_pieces"),
        (models.mlp, {"input_shape": (4,), "unknown_argument": 1}, "unknown_argument"),
        (models.xor_net, {"hidden_units": 0}, "hidden_units"),
        (models.coffee_roasting_net, {"feature_mean": [1.0, 2.0, 3.0], "feature_variance": [1.0, 1.0, 1.0]}, "feature_mean"),
        (models.mnist_dnn, {"num_classes": 0}, "num_classes"),
        (models.lenet5, {"input_shape": (20, 20, 1)}, "input_shape"),
        (models.lenet5, {"variant": "antique"}, "variant"),
        (models.lenet5, {"num_classes": 0}, "num_classes"),
        (models.lenet5, {"classifier_activation": "relu"}, "classifier_activation"),
        (models.lenet5, {"augmentation": {"flip": "diagonal"}}, "flip"),
        (models.lenet5, {"augmentation": {"rotation": 1.5}}, "rotation"),
        (models.lenet5, {"augmentation": {"blur": 0.1}}, "augmentation"),
        (models.lenet5, {"augmentation": {"crop": [0, 10]}}, "crop"),
        (models.lenet5, {"input_shape": (28, 28)}, "input_shape"),
        (models.alexnet, {"input_shape": (60, 60, 3), "stem": "imagenet"}, "input_shape"),
        (models.alexnet, {"input_shape": (12, 12, 3)}, "input_shape"),
        (models.alexnet, {"filters": (96, 256)}, "filters"),
        (models.vgg, {"depth": 17}, "depth"),
        (models.vgg, {"head": "attention"}, "head"),
        (models.resnet, {"depth": 20}, "depth"),
        (models.resnet, {"shortcut": "dense"}, "shortcut"),
        (models.resnet, {"use_bias": "yes"}, "use_bias"),
        (models.simple_cnn, {"filters": ()}, "filters"),
        (models.simple_cnn, {"input_shape": (8, 8, 1), "filters": (4, 4, 4, 4), "padding": "valid"}, "input_shape"),
        (models.simple_cnn, {"padding": "full"}, "padding"),
        (models.simple_cnn, {"head": "attention"}, "head"),
        (models.fcn, {"input_shape": (18, 18, 3), "filters": (4, 8, 16)}, "input_shape"),
        (models.fcn, {"filters": (4,)}, "filters"),
        (models.fcn, {"num_classes": 1}, "num_classes"),
        (models.gan_generator_mlp, {"latent_dim": 0}, "latent_dim"),
        (models.gan_generator_mlp, {"image_shape": (28, 28)}, "image_shape"),
        (models.gan_discriminator_mlp, {"activation": "sigmoid"}, "activation"),
        (models.gan_discriminator_mlp, {"activation": "maxout", "maxout_pieces": 1}, "maxout_pieces"),
        (models.gan_discriminator_mlp, {"dropout": 1.0}, "dropout"),
        (models.dcgan_generator, {"image_shape": (30, 30, 1)}, "image_shape"),
        (models.dcgan_generator, {"image_shape": (28, 32, 1)}, "image_shape"),
        (models.dcgan_generator, {"filters": 0}, "filters"),
        (models.dcgan_discriminator, {"normalization": "group"}, "normalization"),
        (models.q_network, {"observation_shape": (4,), "actions": 0}, "actions"),
        (models.q_network, {"observation_shape": (4,), "actions": 2, "hidden_units": ()}, "hidden_units"),
        (models.xps_cnn, {"variant": "lstm"}, "variant"),
        (models.xps_cnn, {"kernel_sizes": ()}, "kernel_sizes"),
        (models.xps_cnn, {"points": 2, "pool_size": 4}, "pool_size"),
        (models.xps_cnn, {"variant": "deep", "points": 16, "block_filters": (4, 4, 4, 4)}, "block_filters"),
        (models.xps_cnn, {"variant": "deep", "block_filters": (4, 0)}, "block_filters"),
        (models.xps_cnn, {"thickness_max": 0}, "thickness_max"),
        (models.xps_cnn, {"predict_presence": "yes"}, "predict_presence"),
        (models.xps_cnn, {"nuisances": -1}, "nuisances"),
        (models.xps_cnn, {"nuisances": 2.5}, "nuisances"),
        (models.xps_cnn, {"composition_activation": "relu"}, "composition_activation"),
        (models.xps_cnn, {"element_sensitivities": [1.0] * 79}, "element_sensitivities"),
        (models.xps_cnn, {"element_sensitivities": [0.0] * 80}, "element_sensitivities"),
        (models.xps_cnn, {"element_sensitivities": [1.0] * 80, "composition_activation": "softmax"},
         "element_sensitivities"),
        (models.mlp, {"input_shape": (4,), "hidden_units": []}, "hidden_units"),
        (models.resnet, {"depth": 50, "input_shape": (8, 8, 3)}, "input_shape"),
        (models.vgg, {"depth": 16, "input_shape": (8, 8, 3)}, "input_shape"),
        (models.resnet, {"depth": 18, "input_shape": (32, 32, 3), "stem": "imagenet"}, "input_shape"),
        (models.autoencoder, {"input_shape": (10,), "code_activation": "sigmoid", "code_size": 4, "sparsity": 1.5},
         "sparsity"),
        (models.autoencoder, {"input_shape": (10,), "code_activation": "sigmoid", "code_size": 4, "sparsity": 0.0},
         "sparsity"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 4, "sparsity": 0.1}, "code_activation"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 4, "corruption": "masking", "corruption_rate": 1.0},
         "corruption_rate"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 4, "corruption": "masking", "corruption_rate": -0.1},
         "corruption_rate"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 4, "corruption": "salt"}, "corruption"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 10}, "code_size"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 4, "output_activation": "linear",
                              "reconstruction_loss": "binary_crossentropy"}, "reconstruction_loss"),
        (models.autoencoder, {"input_shape": (10,), "code_size": 4, "tied": "yes"}, "tied"),
        (models.conv_autoencoder, {"input_shape": (30, 30, 1)}, "input_shape"),
        (models.conv_autoencoder, {"filters": ()}, "filters"),
        (models.stacked_autoencoder, {"input_shape": (10,), "hidden_units": ()}, "hidden_units"),
        (models.stacked_autoencoder, {"input_shape": (10,), "num_classes": 1}, "num_classes"),
        (models.sequence_model, {"cell": "transformer"}, "cell"),
        (models.sequence_model, {"units": ()}, "units"),
        (models.sequence_model, {"input_shape": (5,)}, "input_shape"),
        (models.sequence_model, {"input_shape": (0, 2)}, "input_shape"),
        (models.sequence_model, {"input_shape": (5, 2), "vocabulary_size": 10}, "input_shape"),
        (models.sequence_model, {"dropout": 1.0}, "dropout"),
        (models.seq2seq, {"source_vocabulary_size": 5, "target_vocabulary_size": 5, "cell": "simple"}, "cell"),
        (models.seq2seq, {"source_vocabulary_size": 5, "target_vocabulary_size": 5, "end_token": 5}, "end_token"),
        (models.seq2seq, {"source_vocabulary_size": 0, "target_vocabulary_size": 5}, "source_vocabulary_size"),
    ],
)
def test_builders_reject_bad_arguments_naming_them(builder, kwargs, argument):
    with pytest.raises(ValueError, match=argument if argument == "unknown_argument" else f"`{argument}`"):
        builder(**kwargs)


def _trainable_parameters(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


# Published sizes at 224×224×3 (AlexNet 227×227×3) with 1000 classes.
@pytest.mark.parametrize(
    "builder, kwargs, total, trainable",
    [
        (models.vgg, {"depth": 16}, 138_357_544, None),
        (models.vgg, {"depth": 11}, 132_863_336, None),
        (models.vgg, {"depth": 19}, 143_667_240, None),
        (models.resnet, {"depth": 50}, 25_636_712, None),  # the Caffe release / keras.applications
        (models.resnet, {"depth": 50, "use_bias": False}, None, 25_557_032),  # torchvision
        (models.resnet, {"depth": 18, "use_bias": False}, None, 11_689_512),
        (models.resnet, {"depth": 34, "use_bias": False}, None, 21_797_672),
        (models.alexnet, {}, 62_378_344, None),
    ],
)
@pytest.mark.slow
def test_published_parameter_counts(builder, kwargs, total, trainable):
    model = builder(**kwargs)
    if total is not None:
        assert model.count_params() == total
    if trainable is not None:
        assert _trainable_parameters(model) == trainable


def test_image_builders_fit_small_inputs():
    for shape in ((28, 28, 1), (32, 32, 3), (64, 64, 3)):
        for builder, kwargs in ((models.vgg, {"depth": 11, "base_filters": 2, "dense_units": (4,)}),
                                (models.resnet, {"depth": 18, "base_filters": 2}),
                                (models.alexnet, {"filters": (2, 2, 2, 2, 2), "dense_units": (4,)}),
                                (models.lenet5, {}), (models.simple_cnn, {"filters": (2, 2, 2)})):
            model = builder(input_shape=shape, num_classes=10, **kwargs)
            assert model.output_shape == (None, 10), (builder.__name__, shape)


def test_fcn_takes_any_divisible_size():
    model = models.fcn(num_classes=3, filters=(2, 4, 8))
    for size in ((8, 8), (16, 24)):
        outputs = model(np.zeros((1, *size, 3), "float32"))
        assert outputs.shape == (1, *size, 3)
        np.testing.assert_allclose(np.asarray(outputs).sum(-1), 1.0, rtol=1e-5)


def test_build_rejects_unknown_builder():
    with pytest.raises(ValueError, match="Unknown builder"):
        models.build({"builder": "nope", "arguments": {}})


def test_builders_have_no_lambda_layers():
    for name, (builder, kwargs, *_rest) in CASES.items():
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in builder(**kwargs).layers), name


@pytest.mark.slow
def test_keras_files_load_in_a_fresh_process_with_safe_mode(tmp_path, fresh_python):
    for name, (builder, kwargs, (inputs, _), *_rest) in CASES.items():
        keras.utils.set_random_seed(1)
        model = builder(**kwargs)
        model.save(tmp_path / f"{name}.keras")
        if isinstance(inputs, list):  # one array per input, in order (arr_0, arr_1, …)
            np.savez(tmp_path / f"{name}.inputs.npz", *inputs)
        else:
            np.save(tmp_path / f"{name}.inputs.npy", inputs)
        np.save(tmp_path / f"{name}.expected.npy", flat_outputs(model(inputs, training=False)))
    result = fresh_python(
        """
        import sys, pathlib
        import numpy as np, keras
        import mlkit  # registers the custom layers, nothing else is needed
        for path in sorted(pathlib.Path(sys.argv[1]).glob("*.keras")):
            stem = str(path)[: -len(".keras")]
            model = keras.saving.load_model(path, safe_mode=True)
            if pathlib.Path(stem + ".inputs.npz").is_file():
                stored = np.load(stem + ".inputs.npz")
                inputs = [stored[key] for key in stored.files]
            else:
                inputs = np.load(stem + ".inputs.npy")
            outputs = model(inputs, training=False)
            if isinstance(outputs, dict):  # named outputs side by side, as flat_outputs does
                outputs = np.concatenate([np.asarray(outputs[k]).reshape(len(outputs[k]), -1) for k in sorted(outputs)], 1)
            outputs = np.asarray(outputs)
            np.testing.assert_array_equal(outputs, np.load(stem + ".expected.npy"), err_msg=path.name)
            print("loaded", path.name)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("loaded") == len(CASES)


# ResNet-50's export is the resnet builder's export again (resnet18 covers it) and takes 20 s.
@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in CASES if name != "resnet50_imagenet_stem"])
def test_saved_model_export_round_trip(name, tmp_path):
    builder, kwargs, (inputs, _), *_rest = CASES[name]
    model = builder(**kwargs)
    if getattr(model, "characters", None) is not None:  # a text model: strings in, strings out
        texts = model.characters.decode(inputs[0])
        path = export_model(model, tmp_path / "export", texts)
        reloaded = tf.saved_model.load(str(path))
        assert [answer.decode() for answer in reloaded.serve(tf.constant(texts)).numpy()] == model.translate(texts)
        return
    path = export_model(model, tmp_path / "export", inputs)
    reloaded = tf.saved_model.load(str(path))
    arguments = [tf.constant(part) for part in inputs] if isinstance(inputs, list) else [tf.constant(inputs)]
    assert_outputs_equal(reloaded.serve(*arguments), model(inputs, training=False))
