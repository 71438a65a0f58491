"""Pixel optimisation: neural style transfer (Gatys et al. 2016) and feature inversion (Mahendran &
Vedaldi 2015). The weights stay fixed; the image is the variable.

    transfer = StyleTransfer(network="random_multiscale", content_weight=1e-3, style_weight=1.0)
    result = transfer.transfer(content, style, steps=300, run_directory=run.directory)

The loss α Σ L_content + β Σ_l w_l E_l + γ TV and its gradient run in one compiled function (XLA
with `jit_compile`); the targets (content features, style Gram matrices) are computed once per image
size. L-BFGS goes through scipy.optimize (L-BFGS-B, as Gatys et al.), whose bounds keep the pixels in
0–255; Adam steps inside the compiled function and clips. With a run directory the optimisation is
split into rounds on a `TrainingLoop`: history.csv, a loss curve, and a checkpoint of the image (and
Adam's moments) per round, so a killed run resumes from its last round. L-BFGS keeps no memory across
rounds: it restarts its curvature estimate from the restored image.
"""

import time

import numpy as np
import tensorflow as tf

from mlkit.io import write_csv
from mlkit.losses import content_loss, gram_matrix, style_layer_loss, total_variation_loss
from mlkit.models.style import default_layers, minimum_image_size, style_features
from mlkit.style.images import resize_image, to_uint8
from mlkit.validation import check_choice, check_non_negative, check_positive_int

OPTIMIZERS = ("lbfgs", "adam", "sgd")
INITS = ("content", "noise")


class PixelObjective:
    """α Σ ½‖F − P‖² + β Σ_l w_l E_l + γ TV_β for images of one shape, with targets computed once.

    Args:
        feature_model: a `style_features` model (RGB 0–255 → {layer: features}).
        content_image / style_image: (H, W, 3) arrays, or None for no such term.
        content_layers / style_layers: layer names; style layers weigh w_l = 1 / their number
            unless `style_layer_weights` says otherwise.
        jit_compile: compile the loss and gradient with XLA.
    """

    def __init__(self, feature_model, content_image=None, style_image=None, content_layers=(), style_layers=(),
                 content_weight=1e-3, style_weight=1.0, tv_weight=0.0, tv_beta=2.0, style_layer_weights=None,
                 jit_compile=False):
        self.content_layers = list(content_layers) if content_image is not None else []
        self.style_layers = list(style_layers) if style_image is not None else []
        if not self.content_layers and not self.style_layers:
            raise ValueError("Nothing to optimise: give a content image with content layers or a style image "
                             "with style layers.")
        self.model = feature_model
        self.content_weight = check_non_negative("content_weight", content_weight)
        self.style_weight = check_non_negative("style_weight", style_weight)
        self.tv_weight = check_non_negative("tv_weight", tv_weight)
        self.tv_beta = float(tv_beta)
        weights = style_layer_weights or [1.0 / max(len(self.style_layers), 1)] * len(self.style_layers)
        if len(weights) != len(self.style_layers):
            raise ValueError(f"`style_layer_weights` needs one weight per style layer ({len(self.style_layers)}), "
                             f"got {len(weights)}.")
        self.style_layer_weights = [float(weight) for weight in weights]
        self.content_targets = self._features(content_image, self.content_layers)
        self.style_targets = {layer: gram_matrix(features)
                              for layer, features in self._features(style_image, self.style_layers).items()}
        self._loss_and_gradient = tf.function(self._terms_and_gradient, jit_compile=jit_compile)

    def _features(self, image, layers):
        # The losses are summed in float64: in float32 their last digits are noise by the time the
        # optimisation slows down, and L-BFGS stopped after a few iterations on a "rise" of the loss.
        if not layers:
            return {}
        outputs = self.model(tf.constant(image[None], tf.float32), training=False)
        return {layer: tf.cast(outputs[layer][0], tf.float64) for layer in layers}

    def terms(self, image):
        """(total, {"content", "style", "tv"}) for an (H, W, 3) image tensor; float64 (see `_features`)."""
        outputs = self.model(image[None], training=False)
        zero = tf.constant(0.0, tf.float64)
        content = tf.add_n([content_loss(tf.cast(outputs[layer][0], tf.float64), self.content_targets[layer])
                            for layer in self.content_layers]) if self.content_layers else zero
        style = tf.add_n([weight * style_layer_loss(tf.cast(outputs[layer][0], tf.float64), self.style_targets[layer])
                          for layer, weight in zip(self.style_layers, self.style_layer_weights)]
                         ) if self.style_layers else zero
        variation = total_variation_loss(tf.cast(image, tf.float64), self.tv_beta) if self.tv_weight else zero
        total = self.content_weight * content + self.style_weight * style + self.tv_weight * variation
        return total, {"content": content, "style": style, "tv": variation}

    def _terms_and_gradient(self, image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            total, parts = self.terms(image)
        return total, parts, tape.gradient(total, image)

    def loss_and_gradient(self, image):
        """(total, parts, gradient) for an (H, W, 3) float32 image, in one compiled call."""
        return self._loss_and_gradient(tf.convert_to_tensor(image, tf.float32))


class StyleTransfer:
    """Optimise an image's pixels against content and style targets (see the module docstring).

    Args:
        network, weights, pooling, seed: the feature extractor (`mlkit.models.style_features`).
        content_layers / style_layers: default the network's (conv4_2; conv1_1 … conv5_1 for VGG).
        content_weight, style_weight: α and β (Gatys et al.: α/β = 1e-3, 1e-2 "photorealistic").
        tv_weight, tv_beta: total-variation regularisation γ Σ(...)^(β/2).
        optimizer: "lbfgs" (scipy's L-BFGS-B), "adam" or "sgd" (`learning_rate` in pixel values).
        init: start from the "content" image or from uniform "noise" (seeded).
        resolutions: 1, or the number of levels of a coarse-to-fine pyramid (each level half the size
            of the next; the result of one level, upsampled, starts the next).
        jit_compile: XLA for the loss and gradient.
        feature_model: a ready `style_features` model, used instead of building one.
    """

    def __init__(self, network="vgg19", weights="imagenet", pooling="avg", content_layers=None, style_layers=None,
                 content_weight=1e-3, style_weight=1.0, tv_weight=0.0, tv_beta=2.0, optimizer="lbfgs",
                 learning_rate=5.0, init="content", resolutions=1, seed=0, jit_compile=False, feature_model=None):
        self.optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
        self.init = check_choice("init", init, INITS)
        self.resolutions = check_positive_int("resolutions", resolutions)
        self.learning_rate = check_non_negative("learning_rate", learning_rate)
        self.seed = seed
        self.jit_compile = jit_compile
        self.weights = {"content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight,
                        "tv_beta": tv_beta}
        defaults = default_layers(network)
        self.content_layers = list(content_layers or defaults["content"])
        self.style_layers = list(style_layers or defaults["style"])
        self.features = feature_model or style_features(
            network, layers=list(dict.fromkeys(self.style_layers + self.content_layers)), weights=weights,
            pooling=pooling, seed=seed)
        missing = [layer for layer in self.content_layers + self.style_layers if layer not in self.features.output]
        if missing:
            raise ValueError(f"The feature model has no output for layer(s) {missing}.")

    @property
    def minimum_size(self):
        """The smallest image side the coarsest level can take."""
        return minimum_image_size(self.features) * 2 ** (self.resolutions - 1)

    def transfer(self, content, style=None, steps=300, run_directory=None, rounds=10, progress=print):
        """The optimised image (H, W, 3) uint8 of the content image's size, and the history.

        `content` fixes the output size (and is the content target); `style` (resized to the content
        size) the style target, None for feature inversion. `steps` are split over the resolutions and
        each level's steps into `rounds` (checkpoints with a run directory).
        """
        steps = check_positive_int("steps", steps)
        rounds = min(check_positive_int("rounds", rounds), steps)
        content = np.asarray(content, dtype="float32")
        shape = content.shape[:2]
        if min(shape) < self.minimum_size:
            raise ValueError(f"The content image is {shape[0]}×{shape[1]} px; the feature network with "
                             f"{self.resolutions} resolution(s) needs at least {self.minimum_size} px a side.")
        style = None if style is None else resize_image(style, shape)
        image, histories = None, []
        for level in range(self.resolutions):
            factor = 2 ** (self.resolutions - 1 - level)
            level_shape = (max(1, round(shape[0] / factor)), max(1, round(shape[1] / factor)))
            level_content = content if factor == 1 else resize_image(content, level_shape)
            level_style = None if style is None else style if factor == 1 else resize_image(style, level_shape)
            start = self._start(level_content) if image is None else resize_image(image, level_shape)
            objective = PixelObjective(self.features, level_content, level_style, self.content_layers,
                                       self.style_layers, jit_compile=self.jit_compile, **self.weights)
            level_steps = steps // self.resolutions + (1 if level < steps % self.resolutions else 0)
            name = "pixels" if self.resolutions == 1 else f"pixels_{level_shape[0]}x{level_shape[1]}"
            image, history = self._optimise(objective, start, max(level_steps, 1), min(rounds, max(level_steps, 1)),
                                            run_directory, name, progress)
            history.insert(0, "level", level)
            histories.append(history)
        import pandas as pd

        return to_uint8(image), pd.concat(histories, ignore_index=True)

    def _start(self, content):
        if self.init == "content":
            return content.copy()
        rng = np.random.default_rng(self.seed)
        return rng.uniform(0, 255, content.shape).astype("float32")

    def _optimise(self, objective, start, steps, rounds, run_directory, name, progress):
        import pandas as pd

        variable = tf.Variable(start, dtype=tf.float32, name="image")
        keras_optimizer = None  # the Keras optimizer of "adam" or "sgd"
        if self.optimizer != "lbfgs":
            import keras

            keras_optimizer = keras.optimizers.get({"class_name": self.optimizer,
                                                    "config": {"learning_rate": self.learning_rate}})
            keras_optimizer.build([variable])
        step = None if keras_optimizer is None else optimizer_step(objective, variable, keras_optimizer,
                                                                   self.jit_compile)
        per_round = [steps // rounds + (1 if index < steps % rounds else 0) for index in range(rounds)]
        rows = []
        if run_directory is not None:
            from mlkit.training.loop import TrainingLoop

            state = {"image": variable, **({"optimizer": keras_optimizer} if keras_optimizer is not None else {})}
            history = "history.csv" if name == "pixels" else f"history_{name.split('_', 1)[1]}.csv"
            loop = TrainingLoop(run_directory, epochs=rounds, state=state, name=name, history=history)
            epochs = iter(loop)
        else:
            loop, epochs = None, iter(range(rounds))
        steps_file = None
        if loop is not None:
            steps_file = run_directory.path / history.replace("history", "steps")
        for index in epochs:
            if loop is not None and index == loop.resumed_from and index and progress:
                progress(f"{name}: resuming after round {index} of {rounds}")
            done = sum(per_round[:index])
            losses = _StepLosses(done, steps, name, progress)
            started = time.perf_counter()
            if keras_optimizer is not None:
                for _ in range(per_round[index]):
                    total, parts = step()
                    losses.add(float(total))
                iterations = per_round[index]
            else:
                total, parts, iterations = self._lbfgs(objective, variable, per_round[index], losses.add)
            seconds = time.perf_counter() - started
            done += per_round[index]
            row = {"step": done, "iterations": iterations, "loss": float(total),
                   **{key: float(value) for key, value in parts.items()},
                   "seconds": seconds, "steps_per_second": per_round[index] / seconds}
            if loop is not None:
                losses.write(steps_file)  # before the round's checkpoint, like its history row
                loop.log(**row)
            else:
                rows.append({"epoch": index, **row})
            if progress:
                progress(f"{name} round {index + 1}/{rounds}: step {done}/{steps}, loss {row['loss']:.4g} "
                         f"(content {row['content']:.3g}, style {row['style']:.3g}, tv {row['tv']:.3g}), "
                         f"{row['steps_per_second']:.1f} steps/s")
        frame = loop.history() if loop is not None else pd.DataFrame(rows)
        return variable.numpy(), frame

    @staticmethod
    def _lbfgs(objective, variable, steps, on_iteration=None):
        """`steps` iterations of scipy's L-BFGS-B from the variable's image, bounds 0–255.

        It stops early only when a step lowers the rescaled loss by less than 1e-10 of itself (converged;
        `iterations` in the history counts what ran): scipy's default gradient test is absolute and
        would depend on the features' scale.
        """
        from scipy.optimize import Bounds, minimize

        shape = tuple(variable.shape)
        # L-BFGS-B's internal tests are absolute (curvature pairs, line search); gradients of 1e-8 per
        # pixel stall it, so the objective is rescaled to a largest starting gradient of 1. scipy's
        # first evaluation is at the starting image, so the scale is fixed there.
        scale = []

        def loss_and_gradient(flat):
            total, _, gradient = objective.loss_and_gradient(flat.reshape(shape).astype("float32"))
            gradient = gradient.numpy().ravel().astype("float64")
            if not scale:
                scale.append(1.0 / max(float(np.abs(gradient).max()), 1e-30))
            return float(total) * scale[0], gradient * scale[0]

        def callback(intermediate_result):
            if on_iteration is not None:
                on_iteration(float(intermediate_result.fun) / scale[0])

        result = minimize(loss_and_gradient, variable.numpy().ravel().astype("float64"), jac=True, callback=callback,
                          method="L-BFGS-B", bounds=Bounds(0.0, 255.0),
                          options={"maxiter": steps, "maxfun": 2 * steps + 10, "ftol": 1e-10, "gtol": 0.0})
        variable.assign(result.x.reshape(shape).astype("float32"))
        total, parts, _ = objective.loss_and_gradient(variable)
        return total, parts, int(result.nit)


class _StepLosses:
    """The loss after every step of a round: printed at most every 5 s, and kept in steps.csv (rows
    past the resumed round are dropped, so the file agrees with the checkpoint)."""

    def __init__(self, done, steps, name, progress):
        self.step, self.steps, self.name, self.progress = done, steps, name, progress
        self.rows, self.printed = [], time.perf_counter()

    def add(self, loss):
        self.step += 1
        self.rows.append({"step": self.step, "loss": loss})
        if self.progress and time.perf_counter() - self.printed > 5:
            self.printed = time.perf_counter()
            self.progress(f"{self.name} step {self.step}/{self.steps}: loss {loss:.4g}")

    def write(self, path):
        import pandas as pd

        first = self.rows[0]["step"] if self.rows else self.step + 1
        before = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["step", "loss"])
        write_csv(pd.concat([before[before["step"] < first], pd.DataFrame(self.rows, columns=["step", "loss"])],
                            ignore_index=True), path)


def optimizer_step(objective, variable, optimizer, jit_compile=False):
    """One compiled call: loss and gradient, the Keras optimizer's update, pixels clipped to 0–255."""

    def step():
        total, parts, gradient = objective._terms_and_gradient(tf.convert_to_tensor(variable))
        optimizer.apply_gradients([(gradient, variable)])
        variable.assign(tf.clip_by_value(variable, 0.0, 255.0))
        return total, parts

    return tf.function(step, jit_compile=jit_compile)


def invert_features(image, layer, network="vgg19", steps=200, tv_weight=0.0, tv_beta=2.0, optimizer="lbfgs",
                    seed=0, run_directory=None, rounds=10, progress=print, feature_model=None, **options):
    """Reconstruct an image from one layer's features (Mahendran & Vedaldi 2015), starting from noise.

    The content term is normalised by ‖Φ(x₀)‖², as in their paper, so `tv_weight` means the same at every
    layer. Returns the reconstruction (uint8) and the history.
    """
    model = feature_model or style_features(network, layers=[layer], seed=seed,
                                            **{key: options.pop(key) for key in ("weights", "pooling")
                                               if key in options})
    target = model(tf.constant(np.asarray(image, "float32")[None]), training=False)[layer]
    scale = 0.5 * float(tf.reduce_sum(tf.square(target)))
    transfer = StyleTransfer(network, content_layers=[layer], style_layers=[layer],
                             content_weight=1.0 / max(scale, 1e-12), style_weight=0.0, tv_weight=tv_weight,
                             tv_beta=tv_beta, optimizer=optimizer, init="noise", seed=seed, feature_model=model,
                             **options)
    return transfer.transfer(image, None, steps=steps, run_directory=run_directory, rounds=rounds, progress=progress)
