"""MNIST DCGAN (Radford et al. 2015; SPEC §9): transposed-convolution generator with batch norm and
ReLU, strided-convolution discriminator with LeakyReLU 0.2, no pooling, no batch norm on its first
layer. The same variants, evaluation and outputs as `mnist_gan` (see there); the goal is a lower FID
than the MLP GAN's with every digit present and none above 20 % of the samples.
"""

from mlkit.models import dcgan_discriminator, dcgan_generator
from mlkit.recipes.mnist_gan import GAN_DEFAULTS, run_gan_recipe

DESCRIPTION = ("MNIST DCGAN (Radford et al.): FID on mlkit's own MNIST features with floor and ceiling, mode "
               "coverage, k=1 vs k=5, non-saturating vs minimax.")

DEFAULTS = {
    **GAN_DEFAULTS,
    "epochs": 25,
    "generator": {"image_shape": [28, 28, 1], "filters": 64},  # 7×7×128 → 14×14×64 → 28×28×1
    "discriminator": {"image_shape": [28, 28, 1], "filters": 64},  # 28 → 14×14×64 → 7×7×128 → logit
}


def run(config=None, overwrite=False):
    return run_gan_recipe("mnist_dcgan", DEFAULTS, dcgan_generator, dcgan_discriminator, config, overwrite)
