"""Functional Keras model builders, one per architecture of the notes."""

from mlkit.models.alexnet import alexnet
from mlkit.models.autoencoder import (
    Autoencoder,
    ConvAutoencoder,
    autoencoder,
    conv_autoencoder,
    encoder_layers,
    stacked_autoencoder,
)
from mlkit.models.conv_arithmetic import conv_output_size
from mlkit.models.ensemble import ensemble
from mlkit.models.fcn import fcn
from mlkit.models.gan import (
    GAN,
    GAN_LOSSES,
    dcgan_discriminator,
    dcgan_generator,
    gan_discriminator_mlp,
    gan_generator_mlp,
    interpolate_latents,
)
from mlkit.models.lenet import lenet5
from mlkit.models.mlp import ACTIVATIONS, coffee_roasting_net, mlp, mnist_dnn, q_network, xor_net
from mlkit.models.registry import build, get_builder, list_builders, register_builder
from mlkit.models.resnet import resnet
from mlkit.models.seq2seq import SEQ2SEQ_CELLS, Seq2Seq, seq2seq
from mlkit.models.sequence import CELLS, recurrent_layer, sequence_model
from mlkit.models.simple_cnn import simple_cnn
from mlkit.models.style import style_features
from mlkit.models.vgg import vgg
from mlkit.models.xps_cnn import xps_cnn
from mlkit.models.regression import (
    elastic_net,
    linear_regression,
    logistic_regression,
    polynomial_regression,
    raw_polynomial_coefficients,
    softmax_regression,
)

__all__ = [
    "ensemble",
    "style_features",
    "ACTIVATIONS",
    "SEQ2SEQ_CELLS",
    "Seq2Seq",
    "CELLS",
    "Autoencoder",
    "ConvAutoencoder",
    "GAN",
    "GAN_LOSSES",
    "alexnet",
    "dcgan_discriminator",
    "dcgan_generator",
    "gan_discriminator_mlp",
    "gan_generator_mlp",
    "interpolate_latents",
    "autoencoder",
    "conv_autoencoder",
    "encoder_layers",
    "stacked_autoencoder",
    "build",
    "coffee_roasting_net",
    "conv_output_size",
    "elastic_net",
    "fcn",
    "get_builder",
    "lenet5",
    "linear_regression",
    "list_builders",
    "logistic_regression",
    "mlp",
    "mnist_dnn",
    "polynomial_regression",
    "q_network",
    "raw_polynomial_coefficients",
    "register_builder",
    "recurrent_layer",
    "resnet",
    "seq2seq",
    "sequence_model",
    "simple_cnn",
    "softmax_regression",
    "vgg",
    "xor_net",
    "xps_cnn",
]
