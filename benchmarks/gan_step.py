"""Time per training epoch: mlkit's GAN `train_step` against keras-io's dcgan_overriding_train_step
logic (a benchmark, not a test). Goal: mlkit ≥ 1.0× (no slower).

Both sides train the same DCGAN (mlkit's `dcgan_generator` / `dcgan_discriminator`, 28×28×1, 64
filters, latent 100) on the same data (the offline 3,600 training digits in [-1, 1], batch 64,
shuffled tf.data with prefetch) with Adam(2e-4, β1 = 0.5) for both nets:
- "keras-io": its GAN subclass as a plain script: one discriminator pass over real and fake images
  concatenated, noisy labels, binary cross-entropy, then one generator step.
- "keras-io, BN training": the same step with `training=True` on every call. keras-io's step calls
  the nets without `training`, so their batch norm runs in inference mode (moving statistics that
  never move); this side separates that from the rest of the step.
- "mlkit": `mlkit.models.GAN` (non-saturating loss, k = 1): separate real and fake passes in
  training mode, one-sided label smoothing off.
Each runs with and without `jit_compile=True` on its step (XLA). Each configuration trains one
warm-up epoch (tracing, compilation), then one epoch per round for ROUNDS rounds in alternating
order; the best epoch of each is compared.
Run: .venv/bin/python benchmarks/gan_step.py
"""

import time

import keras
import tensorflow as tf
from keras import ops

from mlkit.data import mnist_arrays
from mlkit.data.pipeline import finish_pipeline
from mlkit.models import GAN, dcgan_discriminator, dcgan_generator

ROUNDS, BATCH, LATENT = 4, 64, 100


class KerasIOGAN(keras.Model):
    """keras-io's dcgan_overriding_train_step GAN (Keras 3 version), with logits instead of sigmoids."""

    def __init__(self, discriminator, generator, latent_dim, training=None):
        super().__init__()
        self.training = training  # keras-io passes nothing: batch norm then runs in inference mode
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        random_latent_vectors = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated_images = self.generator(random_latent_vectors, training=self.training)
        combined_images = ops.concatenate([generated_images, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images, training=self.training)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        random_latent_vectors = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors, training=self.training),
                                             training=self.training)
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def nets():
    keras.utils.set_random_seed(0)
    return dcgan_generator(latent_dim=LATENT), dcgan_discriminator()


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def keras_io(jit_compile, training=None):
    generator, discriminator = nets()
    model = KerasIOGAN(discriminator, generator, LATENT, training)
    model.compile(adam(), adam(), keras.losses.BinaryCrossentropy(from_logits=True), jit_compile=jit_compile)
    return model


def mlkit(jit_compile):
    generator, discriminator = nets()
    model = GAN(generator, discriminator, seed=0)
    model.compile(d_optimizer=adam(), g_optimizer=adam(), jit_compile=jit_compile)
    return model


def main():
    arrays, _ = mnist_arrays("auto", verbose=False)
    images = arrays["train"][0] * 2 - 1
    dataset = finish_pipeline(tf.data.Dataset.from_tensor_slices(images), BATCH, shuffle=True, drop_remainder=True)
    sides = {"keras-io": keras_io(False), "keras-io + XLA": keras_io(True),
             "keras-io, BN training": keras_io(False, True), "mlkit": mlkit(False), "mlkit + XLA": mlkit(True)}
    for model in sides.values():  # warm-up: tracing and compilation
        model.fit(dataset, epochs=1, verbose=0)
    best = {name: float("inf") for name in sides}
    for round_index in range(ROUNDS):
        order = list(sides) if round_index % 2 == 0 else list(reversed(sides))
        for name in order:
            started = time.perf_counter()
            sides[name].fit(dataset, epochs=1, verbose=0)
            best[name] = min(best[name], time.perf_counter() - started)
    steps = len(images) // BATCH
    print(f"DCGAN 28×28, batch {BATCH}, {steps} steps per epoch, best of {ROUNDS} alternating rounds:")
    for name, seconds in best.items():
        print(f"  {name:22s} {seconds:6.2f} s/epoch  {1000 * seconds / steps:6.1f} ms/step")
    print(f"mlkit / keras-io speed ratio (≥ 1.0 is the goal): {best['keras-io'] / best['mlkit']:.2f}×")
    print(f"against keras-io with batch norm in training mode: {best['keras-io, BN training'] / best['mlkit']:.2f}×")
    print(f"with XLA on both: {best['keras-io + XLA'] / best['mlkit + XLA']:.2f}×;  "
          f"XLA on mlkit's step: {best['mlkit'] / best['mlkit + XLA']:.2f}× faster")


if __name__ == "__main__":
    main()
