"""Optimisation steps per second: mlkit's style-transfer step against keras-io's neural_style_transfer.py
loop (a benchmark, not a test). Goal: mlkit ≥ 1.0×.

Both sides optimise the same image with the same network, layers, loss terms, size and optimizer:
VGG19 as trained (max pooling; ImageNet weights if they are in the Keras cache, else random weights,
which cost the same), content from block5_conv2, style from block1_conv1 … block5_conv1, keras-io's
weights (content 2.5e-8, style 1e-6, total variation 1e-6 with power 1.25), SGD with keras-io's
exponential decay from 100, china.jpg and flower.jpg at ROWS rows. keras-io divides each style term by
4 · 3² · (image pixels)², mlkit by 4 N_l² M_l² of the layer (Gatys et al.); the cost is the same.
- "keras-io": its loop as a plain script: `compute_loss_and_grads` in a tf.function runs VGG19 on
  content, style and combination images stacked (a batch of 3) at every step; `apply_gradients` is
  called outside it.
- "mlkit": `PixelObjective` (the targets computed once, only the combination image through VGG19) and
  `optimizer_step` (loss, gradient, update and clipping in one compiled call), with and without XLA.
Each side does one warm-up step (tracing), then STEPS steps per round for ROUNDS rounds in alternating
order; the best round of each is compared.
Run: .venv/bin/python benchmarks/style_step.py
"""

import time

import keras
import numpy as np
import tensorflow as tf

from mlkit.models.style import style_features
from mlkit.style import PixelObjective, load_image
from mlkit.style.transfer import optimizer_step

ROWS, STEPS, ROUNDS = 128, 5, 3
STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
CONTENT_LAYER = "block5_conv2"
TOTAL_VARIATION_WEIGHT, STYLE_WEIGHT, CONTENT_WEIGHT = 1e-6, 1e-6, 2.5e-8


def weights_available():
    from pathlib import Path
    import os

    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
    return (cache / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5").is_file()


def schedule():
    return keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=100.0, decay_steps=100, decay_rate=0.96)


def keras_io_side(content, style, weights):
    """keras-io's neural_style_transfer.py, the loop part, as written there (Keras 3)."""
    rows, columns = content.shape[:2]
    model = keras.applications.vgg19.VGG19(weights=weights, include_top=False)
    outputs_dict = {layer.name: layer.output for layer in model.layers}
    feature_extractor = keras.Model(inputs=model.inputs, outputs=outputs_dict)

    def gram_matrix(x):
        x = tf.transpose(x, (2, 0, 1))
        features = tf.reshape(x, (tf.shape(x)[0], -1))
        return tf.matmul(features, tf.transpose(features))

    def style_loss(style, combination):
        size = rows * columns
        return tf.reduce_sum(tf.square(gram_matrix(style) - gram_matrix(combination))) / (4.0 * (3 ** 2) * (size ** 2))

    def content_loss(base, combination):
        return tf.reduce_sum(tf.square(combination - base))

    def total_variation_loss(x):
        a = tf.square(x[:, : rows - 1, : columns - 1, :] - x[:, 1:, : columns - 1, :])
        b = tf.square(x[:, : rows - 1, : columns - 1, :] - x[:, : rows - 1, 1:, :])
        return tf.reduce_sum(tf.pow(a + b, 1.25))

    def compute_loss(combination_image, base_image, style_reference_image):
        input_tensor = tf.concat([base_image, style_reference_image, combination_image], axis=0)
        features = feature_extractor(input_tensor)
        loss = tf.zeros(shape=())
        layer_features = features[CONTENT_LAYER]
        loss = loss + CONTENT_WEIGHT * content_loss(layer_features[0, :, :, :], layer_features[2, :, :, :])
        for layer_name in STYLE_LAYERS:
            layer_features = features[layer_name]
            loss += (STYLE_WEIGHT / len(STYLE_LAYERS)) * style_loss(layer_features[1], layer_features[2])
        return loss + TOTAL_VARIATION_WEIGHT * total_variation_loss(combination_image)

    @tf.function
    def compute_loss_and_grads(combination_image, base_image, style_reference_image):
        with tf.GradientTape() as tape:
            loss = compute_loss(combination_image, base_image, style_reference_image)
        return loss, tape.gradient(loss, combination_image)

    base_image = tf.constant(keras.applications.vgg19.preprocess_input(content[None].copy()))
    style_reference_image = tf.constant(keras.applications.vgg19.preprocess_input(style[None].copy()))
    combination_image = tf.Variable(base_image)
    optimizer = keras.optimizers.SGD(schedule())

    def step():
        loss, grads = compute_loss_and_grads(combination_image, base_image, style_reference_image)
        optimizer.apply_gradients([(grads, combination_image)])
        return loss

    return step


def mlkit_side(content, style, weights, jit_compile):
    features = style_features("vgg19", layers=STYLE_LAYERS + [CONTENT_LAYER], weights=weights, pooling="max")
    objective = PixelObjective(features, content, style, [CONTENT_LAYER], STYLE_LAYERS,
                               content_weight=CONTENT_WEIGHT, style_weight=STYLE_WEIGHT,
                               tv_weight=TOTAL_VARIATION_WEIGHT, tv_beta=2.5, jit_compile=jit_compile)
    variable = tf.Variable(content)
    optimizer = keras.optimizers.SGD(schedule())
    optimizer.build([variable])
    step = optimizer_step(objective, variable, optimizer, jit_compile)
    return lambda: step()[0]


def main():
    weights = "imagenet" if weights_available() else None
    content = load_image("china.jpg")
    scale = ROWS / content.shape[0]
    from mlkit.style import resize_image

    content = resize_image(content, (ROWS, round(content.shape[1] * scale)))
    style = resize_image(load_image("flower.jpg"), content.shape[:2])
    print(f"VGG19 ({'ImageNet' if weights else 'random'} weights), {content.shape[1]}×{content.shape[0]} px, "
          f"{STEPS} steps × {ROUNDS} rounds, alternating")
    sides = {"keras-io": keras_io_side(content, style, weights),
             "mlkit": mlkit_side(content, style, weights, False),
             "mlkit + XLA": mlkit_side(content, style, weights, True)}
    best = {}
    for name, step in sides.items():
        float(step())  # warm-up: tracing and compilation
    for _ in range(ROUNDS):
        for name, step in sides.items():
            started = time.perf_counter()
            for _ in range(STEPS):
                loss = step()
            float(loss)
            rate = STEPS / (time.perf_counter() - started)
            best[name] = max(best.get(name, 0.0), rate)
    for name, rate in best.items():
        print(f"{name:12s} {rate:6.2f} steps/s   {rate / best['keras-io']:.2f}× keras-io")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
