import keras
from keras import ops

from mlkit.validation import check_rate


@keras.saving.register_keras_serializable(package="mlkit")
class MaskingNoise(keras.layers.Layer):
    """Denoising-autoencoder corruption: each input set to 0 with probability `rate`, in training only.

    Unlike `keras.layers.Dropout`, the kept inputs are not rescaled by 1/(1 − rate): the notes'
    corruption destroys values, it does not regularise activations. Evaluation, predict and
    exports see the clean input.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


CORRUPTIONS = (None, "masking", "gaussian")


def corruption_layer(kind, rate, seed=None, name="corruption"):
    """MaskingNoise(rate) or keras.layers.GaussianNoise(stddev=rate); None for no corruption."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"`corruption` must be one of {CORRUPTIONS}, got {kind!r}.")
    if kind is None:
        return None
    if kind == "masking":
        return MaskingNoise(check_rate("corruption_rate", rate), seed=seed, name=name)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
        raise ValueError(f"`corruption_rate` (the Gaussian noise's standard deviation) must be positive, got {rate!r}.")
    return keras.layers.GaussianNoise(float(rate), seed=seed, name=name)
