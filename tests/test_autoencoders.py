"""Autoencoder layers and training: tied weights, KL sparsity, corruption, greedy pre-training, PCA."""

import numpy as np
import pytest
import scipy.linalg

import keras

from mlkit import models
from mlkit.layers import DenseTranspose, KLSparsity, MaskingNoise, corruption_layer, kl_sparsity_penalty
from mlkit.training import OPTIMIZER_DEFAULTS, greedy_pretrain, start_run
from mlkit.unsupervised import PCA
from model_testing import run_layer_test

rng = np.random.default_rng(0)


def _tied(**kwargs):
    keras.utils.set_random_seed(0)
    return models.autoencoder((12,), hidden_units=(6,), code_size=3, tied=True, **kwargs)


def _assert_tied(model):
    for decoder_name, encoder_name in (("decoder_1", "code"), ("reconstruction", "encoder_1")):
        decoder, encoder = model.decoder.get_layer(decoder_name), model.encoder.get_layer(encoder_name)
        np.testing.assert_array_equal(np.asarray(decoder.kernel), np.asarray(encoder.kernel).T)


def test_tied_decoder_learns_only_its_bias_and_stays_tied_through_training():
    model = _tied()
    decoder = model.decoder.get_layer("decoder_1")
    assert [weight.name for weight in decoder.trainable_weights] == ["bias"]
    assert len(model.trainable_weights) == 2 * 2 + 2  # two encoder kernels and biases, two decoder biases
    x = rng.random((32, 12)).astype("float32")
    kernel_before = np.asarray(model.encoder.get_layer("code").kernel).copy()
    model.compile(keras.optimizers.SGD(0.5), loss=model.reconstruction_loss)
    model.fit(x, x, epochs=3, batch_size=8, verbose=0)
    assert not np.allclose(np.asarray(model.encoder.get_layer("code").kernel), kernel_before)  # it did train
    _assert_tied(model)


def test_tie_survives_a_keras_file_in_a_fresh_process(tmp_path, fresh_python):
    model = _tied(corruption="masking", corruption_rate=0.2)
    x = rng.random((4, 12)).astype("float32")
    model.compile("adam", loss=model.reconstruction_loss)
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "tied.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", np.asarray(model(x, training=False)))
    result = fresh_python(
        """
        import sys, pathlib
        import numpy as np, keras
        import mlkit
        folder = pathlib.Path(sys.argv[1])
        model = keras.saving.load_model(folder / "tied.keras", safe_mode=True)
        x = np.load(folder / "x.npy")
        np.testing.assert_array_equal(np.asarray(model(x, training=False)), np.load(folder / "expected.npy"))
        encoder, decoder = model.encoder.get_layer("encoder_1"), model.decoder.get_layer("reconstruction")
        np.testing.assert_array_equal(np.asarray(decoder.kernel), np.asarray(encoder.kernel).T)
        encoder.kernel.assign(encoder.kernel * 2.0 + 1.0)           # change one side …
        np.testing.assert_array_equal(np.asarray(decoder.kernel), np.asarray(encoder.kernel).T)  # … the other follows
        model.compile(keras.optimizers.SGD(0.5), loss="mse")
        model.fit(x, x, epochs=2, verbose=0)
        np.testing.assert_array_equal(np.asarray(decoder.kernel), np.asarray(encoder.kernel).T)
        print("tied", type(model).__name__, [w.name for w in decoder.trainable_weights])
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tied Autoencoder ['bias']" in result.stdout


def test_dense_transpose_is_not_rebuilt_untied():
    encoder = keras.layers.Dense(3, name="enc")
    encoder.build((None, 5))
    layer = DenseTranspose(encoder, activation="sigmoid")
    assert layer(np.ones((2, 3), "float32")).shape == (2, 5)
    assert layer.get_config()["tied_to"] == "enc"
    with pytest.raises(ValueError, match="tied to the layer 'enc'"):
        DenseTranspose.from_config(layer.get_config())
    with pytest.raises(ValueError, match="`tied_to`"):
        DenseTranspose("enc")
    with pytest.raises(ValueError, match="does not match"):
        DenseTranspose(encoder)(np.ones((2, 4), "float32"))


def test_kl_sparsity_penalty_equals_the_formula():
    activations = np.array([[0.1, 0.5, 0.9], [0.3, 0.2, 0.7], [0.05, 0.4, 0.8]], "float32")
    rho, beta = 0.2, 3.0
    mean = activations.mean(axis=0)
    expected = beta * np.sum(rho * np.log(rho / mean) + (1 - rho) * np.log((1 - rho) / (1 - mean)))
    layer = KLSparsity(rho, beta)
    outputs = layer(activations, training=True)
    np.testing.assert_array_equal(np.asarray(outputs), activations)  # identity on the activations
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)
    assert float(kl_sparsity_penalty(activations, rho, beta)) == pytest.approx(expected, rel=1e-5)
    assert float(kl_sparsity_penalty(np.full((4, 3), rho, "float32"), rho, beta)) == pytest.approx(0.0, abs=1e-6)
    run_layer_test(KLSparsity(0.1, 2.0), activations, (3, 3))
    for bad in (0.0, 1.0, -0.2, True):
        with pytest.raises(ValueError, match="`sparsity`"):
            KLSparsity(bad)


def test_training_drives_mean_activations_to_rho():
    from sklearn.datasets import load_digits

    digits = (load_digits().data / 16.0).astype("float32")
    rho = 0.1
    keras.utils.set_random_seed(0)
    model = models.autoencoder((64,), code_size=100, code_activation="sigmoid", output_activation="sigmoid",
                               sparsity=rho, sparsity_weight=3.0, overcomplete=True,
                               reconstruction_loss="binary_crossentropy")
    model.compile(keras.optimizers.Adam(0.01), loss=model.reconstruction_loss)
    model.fit(digits, digits, epochs=30, batch_size=256, verbose=0)
    mean_activation = np.asarray(model.encoder.predict(digits, verbose=0)).mean(axis=0)
    assert abs(mean_activation.mean() - rho) <= 0.25 * rho, mean_activation.mean()
    within = np.abs(mean_activation - rho) <= 0.25 * rho
    assert within.mean() >= 0.9, (within.mean(), np.percentile(mean_activation, [5, 50, 95]))
    # without the penalty the code is far from sparse
    assert np.asarray(model.encoder.get_layer("code")(digits)).mean() < 0.5


def test_masking_noise_corrupts_in_training_only():
    x = np.ones((200, 50), "float32")
    layer = MaskingNoise(0.3, seed=1)
    corrupted = np.asarray(layer(x, training=True))
    assert set(np.unique(corrupted)) <= {0.0, 1.0}  # kept values are not rescaled (unlike Dropout)
    assert (corrupted == 0).mean() == pytest.approx(0.3, abs=0.02)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    run_layer_test(MaskingNoise(0.5), x[:4], (4, 50))
    gaussian = corruption_layer("gaussian", 0.5, seed=2)
    assert np.std(np.asarray(gaussian(x, training=True)) - x) == pytest.approx(0.5, rel=0.05)
    np.testing.assert_array_equal(np.asarray(gaussian(x, training=False)), x)


def test_denoising_model_sees_clean_inputs_at_inference_and_learns_against_the_clean_input():
    keras.utils.set_random_seed(0)
    model = models.autoencoder((20,), code_size=5, corruption="masking", corruption_rate=0.999999)
    x = rng.random((16, 20)).astype("float32")
    clean = np.asarray(model.decoder(model.encoder(x)))
    np.testing.assert_allclose(np.asarray(model(x, training=False)), clean, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), clean, rtol=1e-6)
    # in training nearly every input is masked: the network sees zeros, the loss compares with x
    from_zeros = np.asarray(model.decoder(model.encoder(np.zeros_like(x))))
    model.compile(keras.optimizers.SGD(0.0), loss="mse")
    training_loss = model.train_on_batch(x, x)
    assert training_loss == pytest.approx(np.mean((from_zeros - x) ** 2), rel=1e-4)
    assert model.evaluate(x, x, verbose=0) == pytest.approx(np.mean((clean - x) ** 2), rel=1e-4)


def _run(tmp_path, **settings):
    return start_run("autoencoder_test", {**OPTIMIZER_DEFAULTS, "learning_rate": 0.01, **settings},
                     {"out": str(tmp_path / "run")})


def test_greedy_pretraining_lowers_each_layers_loss_and_resumes(tmp_path):
    from sklearn.datasets import load_digits

    digits = (load_digits().data[:400] / 16.0).astype("float32")
    keras.utils.set_random_seed(0)
    model = models.stacked_autoencoder((64,), hidden_units=(32, 16), num_classes=10)
    before = [layer.get_weights()[0].copy() for layer in models.encoder_layers(model)]
    with _run(tmp_path) as run:
        history, summary = greedy_pretrain(model, digits, run, epochs=4, validation_inputs=digits[:50],
                                           corruption="masking", corruption_rate=0.2, verbose=0)
    assert [row["layer"] for row in summary] == [1, 2] and [row["units"] for row in summary] == [32, 16]
    for row in summary:
        assert row["loss_after"] < row["loss_before"], row
    assert set(history["layer"]) == {1, 2} and {"loss", "val_loss"} <= set(history.columns)
    assert len(history) == 8 and (tmp_path / "run" / "pretraining.csv").is_file()
    for layer, weights in zip(models.encoder_layers(model), before):
        assert not np.allclose(layer.get_weights()[0], weights)  # copied into the stack
    # a second call on the same run directory reuses the finished layers and gives the same weights
    again = models.stacked_autoencoder((64,), hidden_units=(32, 16), num_classes=10)
    with _run(tmp_path) as run:
        _, summary_again = greedy_pretrain(again, digits, run, epochs=4, validation_inputs=digits[:50],
                                           corruption="masking", corruption_rate=0.2, verbose=0)
    assert summary_again == summary
    for first, second in zip(models.encoder_layers(model), models.encoder_layers(again)):
        np.testing.assert_array_equal(first.get_weights()[0], second.get_weights()[0])


def test_linear_autoencoder_spans_the_pca_subspace():
    # 6 strong directions over weak noise in 16 dimensions: a clear eigengap
    keras.utils.set_random_seed(0)
    basis = np.linalg.qr(rng.standard_normal((16, 16)))[0]
    scales = np.r_[np.linspace(3.0, 1.5, 6), np.full(10, 0.1)]
    data = ((rng.standard_normal((1000, 16)) * scales) @ basis.T + 2.0).astype("float32")
    data -= data.mean(axis=0)  # the biases could learn the mean, but slowly: centre as PCA does
    model = models.autoencoder((16,), code_size=6, activation="linear", code_activation="linear",
                               output_activation="linear")
    model.compile(keras.optimizers.Adam(0.01), loss=model.reconstruction_loss)
    model.fit(data, data, epochs=60, batch_size=100, verbose=0)
    decoder_kernel = np.asarray(model.decoder.get_layer("reconstruction").kernel)  # (6, 16)
    pca = PCA(n_components=6).fit(data)
    angles = np.degrees(scipy.linalg.subspace_angles(decoder_kernel.T, np.asarray(pca.components_).T))
    assert angles.max() <= 5.0, angles


def test_parts_are_float32_and_export_under_mixed_precision(tmp_path):
    import tensorflow as tf

    from mlkit.training import export_model

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = models.autoencoder((12,), hidden_units=(6,), code_size=3, code_activation="sigmoid", tied=True,
                                   sparsity=0.1)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    x = rng.random((4, 12)).astype("float32")
    for part in (model, model.encoder, model.decoder):
        assert all(output.dtype == "float32" for output in part.outputs), part.name
    codes = np.asarray(model.encoder(x))
    for name, part, sample in (("encoder", model.encoder, x), ("decoder", model.decoder, codes)):
        path = export_model(part, tmp_path / name, sample)  # exported as a float32 copy of the whole model
        loaded = tf.saved_model.load(str(path))
        assert np.asarray(loaded.serve(tf.constant(sample))).dtype == np.float32
