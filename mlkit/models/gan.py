"""Generative adversarial networks (SPEC §9; Goodfellow et al. 2014, Radford et al. 2015, Gulrajani et al. 2017).

`GAN` holds a generator (noise → image) and a discriminator (image → one logit) and overrides
`train_step` with Goodfellow's Algorithm 1: `discriminator_steps` (k) discriminator updates, each on
fresh noise and its own real sub-batch, then one generator update. Keras has no adversarial trainer,
so the step is written here; everything else (callbacks, checkpoints, resume, distribution) is `fit`.

The builders make the two nets: `gan_generator_mlp` / `gan_discriminator_mlp` (Goodfellow's MLPs,
Maxout discriminator as an option) and `dcgan_generator` / `dcgan_discriminator` (Radford's layout).
Discriminators return logits in float32; generators return tanh images in [-1, 1], float32.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from mlkit.layers import Maxout
from mlkit.models.registry import register_builder
from mlkit.validation import (check_choice, check_image_shape, check_non_negative, check_positive_int, check_rate,
                              check_units)

GAN_LOSSES = ("non_saturating", "minimax", "wasserstein_gp")


@keras.saving.register_keras_serializable(package="mlkit")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other by `fit`.

    Args:
        generator: a model from noise (batch, latent_dim) to images.
        discriminator: a model from those images to one logit per image (batch, 1).
        loss: "non_saturating" (the generator maximises log D(G(z)), the notes' default),
            "minimax" (it minimises log(1 − D(G(z))), which saturates while D wins easily) or
            "wasserstein_gp" (a critic with gradient penalty; Gulrajani et al. use k = 5).
        discriminator_steps: k discriminator updates per generator update. Each batch `fit` hands
            the step is split into k equal sub-batches, one per update, so batch the data k × m
            for sub-batches of m (the generator step uses m noise vectors too).
        gradient_penalty_weight: λ of the Wasserstein gradient penalty (10 in the paper).
        label_smoothing: one-sided smoothing s: real images get the target 1 − s (Salimans et al.
            2016); not for "wasserstein_gp".
        seed: seeds the noise (a `keras.random.SeedGenerator`), so a seed reproduces a run.

    `model(noise)` returns the generator's images. Compile with
    `compile(d_optimizer=..., g_optimizer=...)`; the defaults are Adam(2e-4, β1 = 0.5) as in
    DCGAN, or Adam(1e-4, β = (0.5, 0.9)) for "wasserstein_gp".
    """

    def __init__(self, generator, discriminator, loss="non_saturating", discriminator_steps=1,
                 gradient_penalty_weight=10.0, label_smoothing=0.0, seed=None, **kwargs):
        _check_nets(generator, discriminator)
        check_choice("loss", loss, GAN_LOSSES)
        discriminator_steps = check_positive_int("discriminator_steps", discriminator_steps)
        gradient_penalty_weight = check_non_negative("gradient_penalty_weight", gradient_penalty_weight)
        label_smoothing = check_rate("label_smoothing", label_smoothing)
        if label_smoothing and loss == "wasserstein_gp":
            raise ValueError("`label_smoothing` applies to the 'non_saturating' and 'minimax' losses, not to "
                             "'wasserstein_gp' (a critic has no labels).")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"`seed` must be None or a non-negative integer, got {seed!r}.")
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.loss_name = loss
        self.discriminator_steps = discriminator_steps
        self.gradient_penalty_weight = gradient_penalty_weight
        self.label_smoothing = label_smoothing
        self.seed = seed
        self.noise_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.penalty_tracker = keras.metrics.Mean(name="gradient_penalty")
        self.d_optimizer = self.g_optimizer = None
        self.built = True  # both nets are functional models, built already

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def sample_noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_generator)

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        return trackers + [self.penalty_tracker] if self.loss_name == "wasserstein_gp" else trackers

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """`d_optimizer` and `g_optimizer` update the discriminator and the generator; other keyword
        arguments (`jit_compile`, `run_eagerly`, `steps_per_execution`) go to `keras.Model.compile`."""
        for argument in ("optimizer", "loss", "metrics"):
            if kwargs.get(argument) is not None:
                raise ValueError(f"`{argument}` does not apply to a GAN: pass `d_optimizer` and `g_optimizer`.")
            kwargs.pop(argument, None)
        super().compile(optimizer=None, **kwargs)
        wasserstein = self.loss_name == "wasserstein_gp"
        defaults = dict(learning_rate=1e-4, beta_1=0.5, beta_2=0.9) if wasserstein else dict(learning_rate=2e-4,
                                                                                           beta_1=0.5)
        self.d_optimizer = _optimizer("d_optimizer", d_optimizer, defaults)
        self.g_optimizer = _optimizer("g_optimizer", g_optimizer, defaults)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("`d_optimizer` and `g_optimizer` must be two optimizer instances.")
        if keras.mixed_precision.global_policy().name == "mixed_float16":  # float16 gradients need loss scaling
            self.d_optimizer = keras.optimizers.LossScaleOptimizer(self.d_optimizer)
            self.g_optimizer = keras.optimizers.LossScaleOptimizer(self.g_optimizer)
        # Built now, so that BackupAndRestore restores their state when a killed run resumes.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        if not self.compiled or self.d_optimizer is None:
            return {}
        return {"d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer)}

    def compile_from_config(self, config):
        if config:
            self.compile(d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
                         g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]))

    # --- losses on logits (float32) ---
    def discriminator_loss(self, real_logits, fake_logits):
        real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
        if self.loss_name == "wasserstein_gp":
            return ops.mean(fake_logits) - ops.mean(real_logits)
        # binary cross-entropy on logits: t·softplus(−l) + (1 − t)·softplus(l)
        real_target = 1.0 - self.label_smoothing
        real_loss = real_target * ops.softplus(-real_logits) + (1.0 - real_target) * ops.softplus(real_logits)
        return ops.mean(real_loss) + ops.mean(ops.softplus(fake_logits))

    def generator_loss(self, fake_logits):
        fake_logits = ops.cast(fake_logits, "float32")
        if self.loss_name == "wasserstein_gp":
            return -ops.mean(fake_logits)
        if self.loss_name == "minimax":
            return -ops.mean(ops.softplus(fake_logits))  # log(1 − D(G(z))) = −softplus(l)
        return ops.mean(ops.softplus(-fake_logits))  # −log D(G(z))

    def gradient_penalty(self, real, fake, alpha=None):
        """Mean over the batch of (‖∇x̂ D(x̂)‖₂ − 1)² with x̂ = α·real + (1 − α)·fake, α ~ U[0, 1] per image."""
        real = ops.cast(real, fake.dtype)
        if alpha is None:
            alpha_shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
            alpha = keras.random.uniform(alpha_shape, dtype=fake.dtype, seed=self.noise_generator)
        interpolates = alpha * real + (1.0 - alpha) * fake
        with tf.GradientTape() as tape:
            tape.watch(interpolates)
            critic = ops.cast(self.discriminator(interpolates, training=True), "float32")
        gradients = ops.cast(tape.gradient(critic, interpolates), "float32")
        norms = ops.sqrt(ops.sum(ops.square(gradients), axis=tuple(range(1, len(real.shape)))) + 1e-12)
        return ops.mean(ops.square(norms - 1.0))

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        steps = self.discriminator_steps
        per_step = ops.shape(real)[0] // steps
        # Gradients are summed over replicas, so each replica's loss is divided by their number.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for step in range(steps):  # unrolled: k is a small constant
            real_batch = real[step * per_step:(step + 1) * per_step]
            fake = self.generator(self.sample_noise(per_step), training=True)
            with tf.GradientTape() as tape:
                d_loss = self.discriminator_loss(self.discriminator(real_batch, training=True),
                                                 self.discriminator(fake, training=True))
                if self.loss_name == "wasserstein_gp":
                    penalty = self.gradient_penalty(real_batch, fake)
                    d_loss = d_loss + self.gradient_penalty_weight * penalty
                    self.penalty_tracker.update_state(penalty)
                scaled = self._scale(self.d_optimizer, d_loss / replicas)
            variables = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
            self.d_loss_tracker.update_state(d_loss)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(self.sample_noise(per_step), training=True),
                                             training=True)
            g_loss = self.generator_loss(fake_logits)
            scaled = self._scale(self.g_optimizer, g_loss / replicas)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def test_step(self, data):
        """Both losses on a real batch and as many noise vectors (no updates)."""
        real = data[0] if isinstance(data, (tuple, list)) else data
        fake = self.generator(self.sample_noise(ops.shape(real)[0]), training=False)
        fake_logits = self.discriminator(fake, training=False)
        self.d_loss_tracker.update_state(self.discriminator_loss(self.discriminator(real, training=False),
                                                                 fake_logits))
        self.g_loss_tracker.update_state(self.generator_loss(fake_logits))
        return {metric.name: metric.result() for metric in self.metrics[:2]}

    @staticmethod
    def _scale(optimizer, loss):
        return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss

    # Keras saves no random-generator state, so a resumed run would draw the noise (and dropout masks) of
    # the first epochs again; the GAN keeps its own and its nets' generator states with its weights.
    def _seed_states(self):
        generators = [self.noise_generator]
        for layer in self._flatten_layers(include_self=False):
            generators += getattr(layer, "_seed_generators", [])
        return [generator.state for generator in generators]

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for index, state in enumerate(self._seed_states()):
            store[f"seed_state_{index}"] = state

    def load_own_variables(self, store):
        states = self._seed_states()
        for index, state in enumerate(states):
            if f"seed_state_{index}" in store:
                state.assign(np.asarray(store[f"seed_state_{index}"]))
        super().load_own_variables({key: store[key] for key in store.keys() if not key.startswith("seed_state_")})

    def get_config(self):
        return {
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "loss": self.loss_name, "discriminator_steps": self.discriminator_steps,
            "gradient_penalty_weight": self.gradient_penalty_weight, "label_smoothing": self.label_smoothing,
            "seed": None if self.seed is None else int(self.seed), "name": self.name, "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for part in ("generator", "discriminator"):
            config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)


def _check_nets(generator, discriminator):
    for name, net in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(net, keras.Model) or not getattr(net, "inputs", None) or len(net.inputs) != 1:
            raise ValueError(f"`{name}` must be a functional keras.Model with one input, got {type(net).__name__}.")
    if len(generator.inputs[0].shape) != 2:
        raise ValueError(f"`generator` must take noise vectors (batch, latent_dim), got {generator.inputs[0].shape}.")
    image_shape = tuple(generator.outputs[0].shape[1:])
    if tuple(discriminator.inputs[0].shape[1:]) != image_shape:
        raise ValueError(f"`discriminator` takes {tuple(discriminator.inputs[0].shape[1:])}, but the generator "
                         f"makes {image_shape}.")
    if tuple(discriminator.outputs[0].shape[1:]) != (1,):
        raise ValueError(f"`discriminator` must return one logit per image, shape (batch, 1); got "
                         f"{tuple(discriminator.outputs[0].shape)}.")


def _optimizer(name, optimizer, defaults):
    if optimizer is None:
        return keras.optimizers.Adam(**defaults)
    if isinstance(optimizer, str):
        try:
            return keras.optimizers.get(optimizer)
        except ValueError:
            raise ValueError(f"`{name}` {optimizer!r} is not a Keras optimizer.") from None
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(f"`{name}` must be a keras optimizer, got {type(optimizer).__name__}.")
    return optimizer


# --- builders ---


def _float32_output(name):
    return dict(dtype="float32", name=name)  # outputs stay float32 under mixed precision


@register_builder
def gan_generator_mlp(latent_dim=100, hidden_units=(256, 512, 1024), image_shape=(28, 28, 1), batch_norm=False,
                      name="gan_generator_mlp"):
    """Goodfellow et al.'s MLP generator: noise → [Dense → (BatchNorm) → ReLU] × n → Dense tanh → image.

    Images are in [-1, 1] (scale the data to match)."""
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden_units = check_units("hidden_units", hidden_units)
    image_shape = check_image_shape("image_shape", image_shape)
    noise = keras.Input((latent_dim,), name="noise")
    x = noise
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense_{index}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"batch_norm_{index}")(x)
        x = keras.layers.ReLU(name=f"relu_{index}")(x)
    x = keras.layers.Dense(int(np.prod(image_shape)), name="pixels")(x)
    x = keras.layers.Activation("tanh", **_float32_output("tanh"))(x)
    images = keras.layers.Reshape(image_shape, **_float32_output("image"))(x)
    return keras.Model(noise, images, name=name)


@register_builder
def gan_discriminator_mlp(image_shape=(28, 28, 1), hidden_units=(512, 256), activation="leaky_relu",
                          maxout_pieces=5, dropout=0.3, name="gan_discriminator_mlp"):
    """Goodfellow et al.'s MLP discriminator: image → [Dense/Maxout → (Dropout)] × n → one logit.

    `activation="maxout"` uses `mlkit.layers.Maxout` units with `maxout_pieces` pieces, as in the
    paper's MNIST discriminator; "leaky_relu" (slope 0.2) is the common modern choice."""
    image_shape = check_image_shape("image_shape", image_shape)
    hidden_units = check_units("hidden_units", hidden_units)
    check_choice("activation", activation, ("leaky_relu", "relu", "maxout"))
    maxout_pieces = check_positive_int("maxout_pieces", maxout_pieces)
    if activation == "maxout" and maxout_pieces < 2:
        raise ValueError(f"`maxout_pieces` must be at least 2, got {maxout_pieces}.")
    dropout = check_rate("dropout", dropout)
    images = keras.Input(image_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(images)
    for index, units in enumerate(hidden_units, start=1):
        if activation == "maxout":
            x = Maxout(units, num_pieces=maxout_pieces, name=f"maxout_{index}")(x)
        else:
            x = keras.layers.Dense(units, name=f"dense_{index}")(x)
            x = (keras.layers.LeakyReLU(0.2, name=f"leaky_relu_{index}") if activation == "leaky_relu"
                 else keras.layers.ReLU(name=f"relu_{index}"))(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    logits = keras.layers.Dense(1, **_float32_output("logit"))(x)
    return keras.Model(images, logits, name=name)


def _dcgan_levels(image_shape):
    """Radford's layout doubles the resolution per layer: the start size and the number of doublings.

    28 = 7·2² (MNIST), 32 = 4·2³, 64 = 4·2⁴ (the paper's LSUN/faces size)."""
    height, width, _ = image_shape
    if height != width:
        raise ValueError(f"`image_shape` must be square, got {image_shape}.")
    start, doublings = height, 0
    while start % 2 == 0 and start > 7:
        start, doublings = start // 2, doublings + 1
    if doublings < 1 or start > 7:
        raise ValueError(f"`image_shape` size must be 4–7 × 2ⁿ with n ≥ 1 (28, 32, 64, …), got {height}.")
    return start, doublings


@register_builder
def dcgan_generator(latent_dim=100, image_shape=(28, 28, 1), filters=64, name="dcgan_generator"):
    """Radford et al.'s generator: noise → Dense (s×s×f·2ⁿ⁻¹) → BN → ReLU → [ConvTranspose 4×4/2
    → BN → ReLU] halving the filters → ConvTranspose 4×4/2 to the image channels → tanh.

    28×28×1: 7×7×128 → 14×14×64 → 28×28×1 (`filters=64`);
    64×64×3: 4×4×512 → 8 → 16 → 32 → 64×64×3."""
    latent_dim = check_positive_int("latent_dim", latent_dim)
    image_shape = check_image_shape("image_shape", image_shape)
    filters = check_positive_int("filters", filters)
    start, doublings = _dcgan_levels(image_shape)
    noise = keras.Input((latent_dim,), name="noise")
    width = filters * 2 ** (doublings - 1)
    x = keras.layers.Dense(start * start * width, use_bias=False, name="project")(noise)
    x = keras.layers.BatchNormalization(name="project_batch_norm")(x)
    x = keras.layers.ReLU(name="project_relu")(x)
    x = keras.layers.Reshape((start, start, width), name="reshape")(x)
    for level in range(1, doublings):
        width //= 2
        x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                         name=f"deconv_{level}")(x)
        x = keras.layers.BatchNormalization(name=f"batch_norm_{level}")(x)
        x = keras.layers.ReLU(name=f"relu_{level}")(x)
    x = keras.layers.Conv2DTranspose(image_shape[2], 4, strides=2, padding="same", name="to_image")(x)
    images = keras.layers.Activation("tanh", **_float32_output("image"))(x)
    return keras.Model(noise, images, name=name)


@register_builder
def dcgan_discriminator(image_shape=(28, 28, 1), filters=64, normalization="batch", dropout=0.0,
                        name="dcgan_discriminator"):
    """Radford et al.'s discriminator: [Conv 4×4/2 → (norm) → LeakyReLU 0.2] doubling the filters, no
    pooling and no normalisation on the first layer → Flatten → one logit.

    `normalization="layer"` (or None) is for the Wasserstein critic: batch norm mixes the images of a
    batch, which the per-image gradient penalty must not (Gulrajani et al. §4)."""
    image_shape = check_image_shape("image_shape", image_shape)
    filters = check_positive_int("filters", filters)
    check_choice("normalization", normalization, ("batch", "layer", None))
    dropout = check_rate("dropout", dropout)
    _, doublings = _dcgan_levels(image_shape)
    images = keras.Input(image_shape, name="image")
    x = images
    for level in range(doublings):
        x = keras.layers.Conv2D(filters * 2**level, 4, strides=2, padding="same",
                                use_bias=level == 0 or not normalization, name=f"conv_{level + 1}")(x)
        if level and normalization == "batch":
            x = keras.layers.BatchNormalization(name=f"batch_norm_{level + 1}")(x)
        elif level and normalization == "layer":
            x = keras.layers.LayerNormalization(name=f"layer_norm_{level + 1}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"leaky_relu_{level + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{level + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(1, **_float32_output("logit"))(x)
    return keras.Model(images, logits, name=name)


# --- latent space ---


def interpolate_latents(start, end, steps, method="linear"):
    """`steps` noise vectors from `start` to `end` (both included): "linear" or "spherical" (slerp,
    White 2016), which keeps the norm a Gaussian latent is likely to have."""
    check_choice("method", method, ("linear", "spherical"))
    steps = check_positive_int("steps", steps)
    start, end = np.asarray(start, "float64"), np.asarray(end, "float64")
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(f"`start` and `end` must be two vectors of one length, got {start.shape} and {end.shape}.")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "linear":
        return ((1 - t) * start + t * end).astype("float32")
    cosine = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))
    if omega < 1e-6:  # (anti)parallel ends: slerp's sine is 0, linear is the limit
        return ((1 - t) * start + t * end).astype("float32")
    return ((np.sin((1 - t) * omega) * start + np.sin(t * omega) * end) / np.sin(omega)).astype("float32")
