"""Every builder: shape, parameters, round trips, one step, .keras in a fresh process, SavedModel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlkit import models
from mlkit.training import export_model
from mlkit.losses import TargetWeightedSquaredError
from model_testing import assert_outputs_equal, flat_outputs, run_model_test

rng = np.random.default_rng(0)


def _regression(shape):
    return rng.standard_normal(shape).astype("float32"), rng.standard_normal((shape[0], 1)).astype("float32")


def _classes(shape, num_classes):
    return rng.random(shape).astype("float32"), rng.integers(0, num_classes, shape[0])


def _spectra(batch, points):
    fractions = rng.dirichlet(np.ones(80), batch).astype("float32")
    return rng.random((batch, points)).astype("float32"), {
        "composition": fractions, "thickness": rng.uniform(0, 1, (batch, 1)).astype("float32")}


def _binary(shape):
    return rng.standard_normal(shape).astype("float32"), rng.integers(0, 2, (shape[0], 1)).astype("float32")


# name -> (builder, kwargs, (inputs, targets), loss, output shape, trainable parameters or None)
CASES = {
    "linear_regression": (models.linear_regression, {"input_dim": 5}, _regression((16, 5)), "mse", (16, 1), 6),
    "linear_regression_elastic_net": (
        models.linear_regression, {"input_dim": 5, "output_dim": 2, "alpha": 0.1, "l1_ratio": 0.5},
        (rng.standard_normal((16, 5)).astype("float32"), rng.standard_normal((16, 2)).astype("float32")),
        "mse", (16, 2), 12,
    ),
    "polynomial_regression": (
        models.polynomial_regression,
        {"degree": 3, "feature_mean": [0.0, 1.0, 0.0], "feature_variance": [1.0, 2.0, 15.0]},
        _regression((16, 1)), "mse", (16, 1), 4,
    ),
    "logistic_regression": (models.logistic_regression, {"input_dim": 3, "alpha": 0.01}, _binary((16, 3)),
                            "binary_crossentropy", (16, 1), 4),
    "softmax_regression": (models.softmax_regression, {"input_shape": (28, 28, 1), "num_classes": 10},
                           _classes((16, 28, 28, 1), 10), "sparse_categorical_crossentropy", (16, 10), 7850),
    "mlp_leaky_relu_batch_norm": (
        models.mlp, {"input_shape": (8,), "hidden_units": (16, 8), "activation": "leaky_relu", "batch_norm": True,
                     "dropout": 0.1, "output_units": 3, "output_activation": "softmax"},
        _classes((16, 8), 3), "sparse_categorical_crossentropy", (16, 3), None,
    ),
    "mlp_maxout": (
        models.mlp, {"input_shape": (8,), "hidden_units": (6,), "activation": "maxout", "maxout_pieces": 3},
        _binary((16, 8)), "binary_crossentropy", (16, 1), 8 * 18 + 18 + 6 + 1,
    ),
    "mlp_selu": (models.mlp, {"input_shape": (4, 2), "hidden_units": (8, 8), "activation": "selu", "dropout": 0.1},
                 _binary((16, 4, 2)), "binary_crossentropy", (16, 1), 8 * 8 + 8 + 8 * 8 + 8 + 9),
    "mlp_elu_linear_output": (
        models.mlp, {"input_shape": (4,), "hidden_units": (5,), "activation": "elu", "elu_alpha": 0.5,
                     "output_activation": None},
        _regression((16, 4)), "mse", (16, 1), 4 * 5 + 5 + 6,
    ),
    "xor_net": (models.xor_net, {}, _binary((4, 2)), "binary_crossentropy", (4, 1), 2 * 4 + 4 + 4 + 1),
    "coffee_roasting_net": (
        models.coffee_roasting_net, {"feature_mean": [200.0, 13.5], "feature_variance": [1500.0, 1.3]},
        (np.array([[200.0, 13.9], [180.0, 12.5], [250.0, 14.0], [160.0, 12.0]], "float32"),
         np.array([[1.0], [1.0], [0.0], [0.0]], "float32")),
        "binary_crossentropy", (4, 1), 13,  # the notes' 2→3→1 net: 2·3+3 + 3+1
    ),
    "mnist_dnn": (models.mnist_dnn, {}, _classes((8, 28, 28, 1), 10), "sparse_categorical_crossentropy",
                  (8, 10), 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10),
    # The notes' layout: Conv1D(1, 41) → AvgPool 4 → Dropout → Dense → 80.
    "xps_cnn_seeded": (
        models.xps_cnn, {"points": 64, "variant": "seeded", "hidden_units": (16,), "predict_thickness": False},
        (_spectra(8, 64)[0], {"composition": _spectra(8, 64)[1]["composition"]}),
        {"composition": "categorical_crossentropy"}, {"composition": (8, 80)},
        41 + 1 + 16 * 16 + 16 + 16 * 80 + 80,
    ),
    "xps_cnn_multi_kernel": (
        models.xps_cnn,
        {"points": 64, "filters": 2, "kernel_sizes": (3, 5), "denoising_units": 32, "hidden_units": (8,),
         "thickness_units": 4, "composition_activation": "normalized_sigmoid", "thickness_max": 1.0},
        _spectra(8, 64), {"composition": TargetWeightedSquaredError(), "thickness": "mse"},
        {"composition": (8, 80), "thickness": (8, 1)},
        (64 * 32 + 32) + (3 * 2 + 2) + (5 * 2 + 2) + (5 * 4 * 4 + 4) + (32 * 8 + 8) + (8 * 80 + 80)
        + (32 * 4 + 4) + (4 + 1),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_builder(name):
    builder, kwargs, (inputs, targets), loss, output_shape, parameters = CASES[name]
    keras.utils.set_random_seed(0)
    run_model_test(builder(**kwargs), inputs, targets, loss, output_shape, parameters)


def test_every_registered_builder_is_covered():
    covered = {CASES[name][0].__name__ for name in CASES}
    assert covered == set(models.list_builders())


@pytest.mark.parametrize(
    "builder, kwargs",
    [
        (models.linear_regression, {"input_dim": 0}),
        (models.linear_regression, {"alpha": -1.0}),
        (models.linear_regression, {"l1_ratio": 1.5}),
        (models.polynomial_regression, {"degree": 0}),
        (models.polynomial_regression, {"degree": 2, "feature_mean": [0.0, 0.0]}),
        (models.polynomial_regression, {"degree": 2, "feature_mean": [0.0], "feature_variance": [1.0]}),
        (models.softmax_regression, {"num_classes": 1}),
        (models.softmax_regression, {"input_shape": (28, -1)}),
        (models.mlp, {"input_shape": (4,), "activation": "swishy"}),
        (models.mlp, {"input_shape": (4,), "dropout": 1.0}),
        (models.mlp, {"input_shape": (4,), "hidden_units": (4, 0)}),
        (models.mlp, {"input_shape": (4,), "kernel_initializer": "nonsense"}),
        (models.mlp, {"input_shape": (4,), "activation": "maxout", "maxout_pieces": 1}),
        (models.mlp, {"input_shape": (4,), "unknown_argument": 1}),
        (models.xor_net, {"hidden_units": 0}),
        (models.coffee_roasting_net, {"feature_mean": [1.0, 2.0, 3.0], "feature_variance": [1.0, 1.0, 1.0]}),
        (models.mnist_dnn, {"num_classes": 0}),
        (models.xps_cnn, {"variant": "lstm"}),
        (models.xps_cnn, {"kernel_sizes": ()}),
        (models.xps_cnn, {"points": 2, "pool_size": 4}),
        (models.xps_cnn, {"thickness_max": 0}),
        (models.xps_cnn, {"composition_activation": "relu"}),
    ],
)
def test_builders_reject_bad_arguments(builder, kwargs):
    with pytest.raises(ValueError):
        builder(**kwargs)


def test_build_rejects_unknown_builder():
    with pytest.raises(ValueError, match="Unknown builder"):
        models.build({"builder": "nope", "arguments": {}})


def test_builders_have_no_lambda_layers():
    for name, (builder, kwargs, *_rest) in CASES.items():
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in builder(**kwargs).layers), name


@pytest.mark.slow
def test_keras_files_load_in_a_fresh_process_with_safe_mode(tmp_path, fresh_python):
    for name, (builder, kwargs, (inputs, _), *_rest) in CASES.items():
        keras.utils.set_random_seed(1)
        model = builder(**kwargs)
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.inputs.npy", inputs)
        np.save(tmp_path / f"{name}.expected.npy", flat_outputs(model(inputs, training=False)))
    result = fresh_python(
        """
        import sys, pathlib
        import numpy as np, keras
        import mlkit  # registers the custom layers, nothing else is needed
        for path in sorted(pathlib.Path(sys.argv[1]).glob("*.keras")):
            stem = str(path)[: -len(".keras")]
            model = keras.saving.load_model(path, safe_mode=True)
            outputs = model(np.load(stem + ".inputs.npy"), training=False)
            if isinstance(outputs, dict):  # named outputs side by side, as flat_outputs does
                outputs = np.concatenate([np.asarray(outputs[k]).reshape(len(outputs[k]), -1) for k in sorted(outputs)], 1)
            outputs = np.asarray(outputs)
            np.testing.assert_array_equal(outputs, np.load(stem + ".expected.npy"), err_msg=path.name)
            print("loaded", path.name)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("loaded") == len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_saved_model_export_round_trip(name, tmp_path):
    builder, kwargs, (inputs, _), *_rest = CASES[name]
    model = builder(**kwargs)
    path = export_model(model, tmp_path / "export", inputs)
    reloaded = tf.saved_model.load(str(path))
    assert_outputs_equal(reloaded.serve(tf.constant(inputs)), model(inputs, training=False))
