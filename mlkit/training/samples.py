"""A callback that draws a generator's images from fixed noise after every epoch (GAN progress)."""

import keras
import numpy as np

from mlkit.plotting import plot_image_grid


class SampleGrid(keras.callbacks.Callback):
    """Save `directory/epoch_NNN.png`: the images `generate(noise)` makes from the same `noise` every
    epoch, so the grids show one set of latent points developing. `generate` defaults to the model's
    own call; images in [-1, 1] (tanh) are shown as [0, 1]."""

    def __init__(self, noise, directory, generate=None):
        super().__init__()
        self.noise = np.asarray(noise, "float32")
        self.directory = directory
        self.generate = generate

    def on_epoch_end(self, epoch, logs=None):
        generate = self.generate or (lambda noise: self.model(noise, training=False))
        images = (np.asarray(generate(self.noise)) + 1) / 2
        plot_image_grid(images, self.directory / f"epoch_{epoch + 1:03d}.png", title=f"epoch {epoch + 1}")
