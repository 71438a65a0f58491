"""Style transfer and feature inversion: the loss formulas, the feature extractor, pixel optimisation,
the recipes and the `mlkit style-transfer` command."""

import numpy as np
import pytest

import mlkit_cli
from mlkit.losses import ContentLoss, GramStyleLoss, content_loss, gram_matrix, style_layer_loss
from mlkit.losses import total_variation_loss
from mlkit.models import style_features
from mlkit.style import StyleTransfer, invert_features, load_image, save_image


def test_gram_matrix_by_hand():
    # F (H=1, W=2, C=2): positions (1, 2) and (3, 4); F as C × HW = [[1, 3], [2, 4]], G = F Fᵀ.
    features = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype="float32")
    np.testing.assert_allclose(gram_matrix(features), [[10.0, 14.0], [14.0, 20.0]])
    np.testing.assert_allclose(gram_matrix(np.stack([features, 2 * features])),
                               [[[10, 14], [14, 20]], [[40, 56], [56, 80]]])


def test_style_layer_loss_by_hand_and_zero_against_itself():
    features = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype="float32")
    target = np.array([[9.0, 14.0], [14.0, 21.0]], dtype="float32")
    # G − A = [[1, 0], [0, −1]]: Σ = 2; N = 2 channels, M = 2 positions: 2 / (4 · 4 · 4) = 1/32.
    assert float(style_layer_loss(features, target)) == pytest.approx(1 / 32)
    rng = np.random.default_rng(0)
    maps = rng.uniform(size=(5, 4, 3)).astype("float32")
    assert float(style_layer_loss(maps, gram_matrix(maps))) == 0.0
    assert float(GramStyleLoss()(maps[None], maps[None])) == 0.0
    assert float(GramStyleLoss()(features[None], 2 * features[None])) > 0


def test_content_loss_by_hand():
    features = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype="float32")
    assert float(content_loss(features, features + np.array([1.0, -2.0], "float32"))) == pytest.approx(
        0.5 * (1 + 4 + 1 + 4))
    assert float(ContentLoss()(features[None], features[None] + 1)) == pytest.approx(0.5 * 4)


def test_total_variation_by_hand():
    # One channel 2×3: the sum runs over the 1×2 positions with a right and a lower neighbour.
    image = np.array([[1.0, 3.0, 6.0], [2.0, 7.0, 4.0]], dtype="float32")[..., None]
    # (0,0): right 2, down 1 → 5; (0,1): right 3, down 4 → 25.
    assert float(total_variation_loss(image)) == pytest.approx(30.0)
    assert float(total_variation_loss(image, beta=1.0)) == pytest.approx(np.sqrt(5) + 5, rel=1e-5)
    assert float(total_variation_loss(np.ones((4, 4, 3), "float32"))) == 0.0
    with pytest.raises(ValueError, match="beta"):
        total_variation_loss(image, beta=0)


def test_random_features_are_deterministic_from_the_seed():
    image = np.random.default_rng(0).uniform(0, 255, (1, 20, 24, 3)).astype("float32")
    first = style_features("random_multiscale", filters=4, seed=3)(image)
    again = style_features("random_multiscale", filters=4, seed=3)(image)
    other = style_features("random_multiscale", filters=4, seed=4)(image)
    assert list(first) == ["kernel_3", "kernel_5", "kernel_9", "kernel_15"]
    assert first["kernel_9"].shape == (1, 20, 24, 4)
    for layer in first:
        np.testing.assert_array_equal(first[layer], again[layer])
    assert not np.allclose(first["kernel_3"], other["kernel_3"])


def test_vgg_features_pool_by_average_and_reload_in_safe_mode(tmp_path):
    import keras

    model = style_features("vgg19", layers=["block1_conv1", "block3_conv1"], weights=None, seed=1)
    pools = [layer for layer in model.layers if "pool" in layer.name]
    assert len(pools) == 2 and all(isinstance(layer, keras.layers.AveragePooling2D) for layer in pools)
    assert model.minimum_image_size == 4 and not model.trainable_weights
    image = np.random.default_rng(0).uniform(0, 255, (1, 16, 12, 3)).astype("float32")
    outputs = model(image)
    assert outputs["block1_conv1"].shape == (1, 16, 12, 64) and outputs["block3_conv1"].shape == (1, 4, 3, 256)
    model.save(tmp_path / "features.keras")
    loaded = keras.saving.load_model(tmp_path / "features.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(image)["block3_conv1"], outputs["block3_conv1"], rtol=1e-5, atol=1e-4)
    maximum = style_features("vgg16", layers=["block2_conv1"], weights=None, pooling="max")
    assert isinstance(maximum.get_layer("block1_pool"), keras.layers.MaxPooling2D)


@pytest.mark.parametrize("arguments, message", [
    ({"network": "resnet"}, "`network`"),
    ({"network": "vgg19", "layers": ["block9_conv1"], "weights": None}, "`layers`"),
    ({"network": "vgg19", "weights": "/no/such/file.h5"}, "does not exist"),
    ({"network": "random_multiscale", "filters": 0}, "`filters`"),
    ({"network": "vgg19", "pooling": "median"}, "`pooling`"),
])
def test_feature_extractor_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        style_features(**arguments)


def test_imagenet_weights_offline_give_one_clear_error(tmp_path, monkeypatch):
    import keras

    def offline(*args, **kwargs):
        if kwargs.get("weights") == "imagenet":
            raise Exception("URL fetch failure: Name or service not known")
        return original(*args, **kwargs)

    original = keras.applications.VGG19
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(ValueError, match="not in the Keras cache.*vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        style_features("vgg19")


def _tiny_images(size=(20, 24)):
    rng = np.random.default_rng(1)
    content = np.clip(rng.normal(120, 40, (*size, 3)), 0, 255).astype("float32")
    style = np.clip(rng.normal(90, 60, (16, 16, 3)), 0, 255).astype("float32")
    return content, style


def _tiny_transfer(**options):
    features = style_features("random_multiscale", filters=4, kernel_sizes=(3, 5))
    return StyleTransfer("random_multiscale", feature_model=features, content_layers=["kernel_3"],
                         style_layers=["kernel_3", "kernel_5"], tv_weight=1e-4, **options)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimisers_lower_the_loss_and_keep_pixels_in_range(optimizer):
    content, style = _tiny_images()
    transfer = _tiny_transfer(optimizer=optimizer, init="noise", learning_rate=10.0)
    start, _ = transfer.transfer(content, style, steps=1, rounds=1, progress=None)
    image, history = transfer.transfer(content, style, steps=12, rounds=3, progress=None)
    assert image.dtype == np.uint8 and image.shape == (20, 24, 3)
    assert list(history["step"]) == [4, 8, 12]
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert np.isfinite(history[["content", "style", "tv"]].to_numpy()).all()


def test_multi_resolution_starts_each_level_from_the_last():
    content, style = _tiny_images((32, 40))
    image, history = _tiny_transfer(resolutions=2).transfer(content, style, steps=6, rounds=2, progress=None)
    assert image.shape == (32, 40, 3) and list(history["level"].unique()) == [0, 1]


def test_an_interrupted_run_resumes_to_the_straight_result(tmp_path):
    from mlkit.training import RunDirectory

    content, style = _tiny_images()

    def interrupt(line):
        if "round 2/3" in line:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _tiny_transfer(optimizer="adam").transfer(content, style, steps=9, rounds=3,
                                                  run_directory=RunDirectory(tmp_path / "killed"), progress=interrupt)
    lines = []
    resumed, history = _tiny_transfer(optimizer="adam").transfer(
        content, style, steps=9, rounds=3, run_directory=RunDirectory(tmp_path / "killed"), progress=lines.append)
    assert lines[0] == "pixels: resuming after round 2 of 3" and len(lines) == 2
    straight, _ = _tiny_transfer(optimizer="adam").transfer(content, style, steps=9, rounds=3,
                                                            run_directory=RunDirectory(tmp_path / "straight"),
                                                            progress=None)
    assert list(history["epoch"]) == [0, 1, 2] and list(history["step"]) == [3, 6, 9]
    import pandas as pd

    steps = pd.read_csv(tmp_path / "killed" / "steps.csv")  # the loss after every step, none twice
    assert list(steps["step"]) == list(range(1, 10)) and np.isfinite(steps["loss"]).all()
    assert np.abs(resumed.astype(int) - straight.astype(int)).max() <= 1
    assert (tmp_path / "killed" / "plots" / "history.png").is_file()


def test_images_in_and_out(tmp_path):
    from PIL import Image

    Image.new("RGB", (60, 30), "red").save(tmp_path / "wide.png")
    image = load_image(tmp_path / "wide.png", size=40)
    assert image.shape == (20, 40, 3) and image.max() <= 255
    with pytest.raises(ValueError, match="smaller than the feature network can take"):
        load_image(tmp_path / "wide.png", size=40, minimum_size=32)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        load_image(tmp_path / "text.png")
    assert load_image("china.jpg", size=32).shape == (21, 32, 3)  # scikit-learn's sample image
    save_image(image, tmp_path / "out.jpg")
    assert Image.open(tmp_path / "out.jpg").size == (40, 20)
    with pytest.raises(ValueError, match="must end in"):
        save_image(image, tmp_path / "out.gif")
    with pytest.raises(ValueError, match="at least 16 px"):
        StyleTransfer("vgg19", weights=None, style_layers=["block1_conv1"], content_layers=["block5_conv1"]).transfer(
            np.zeros((8, 8, 3), "float32"), steps=1)


def test_feature_inversion_reconstructs_from_noise():
    content, _ = _tiny_images()
    features = style_features("random_multiscale", filters=8, kernel_sizes=(3,))
    image, history = invert_features(content, "kernel_3", network="random_multiscale", steps=30, rounds=1,
                                     feature_model=features, progress=None)
    noise = np.random.default_rng(0).uniform(0, 255, content.shape)
    assert np.abs(image - content).mean() < 0.5 * np.abs(noise - content).mean()


def test_style_recipes_write_their_results(tmp_path):
    from mlkit.recipes import get_recipe

    metrics = get_recipe("style_transfer").run({
        "out": str(tmp_path / "style"), "size": 24, "steps": 4, "rounds": 2, "ratios": [1e-3, 1e-2]})
    assert metrics["features"].startswith("random_multiscale") and metrics["image_size"] == [16, 24]
    assert set(metrics["results"]) == {"ratio_0.001", "ratio_0.01"}
    for name in ("panel.png", "losses.png"):
        assert (tmp_path / "style" / "plots" / name).is_file()
    assert (tmp_path / "style" / "ratio_0.01" / "result.png").is_file()
    assert (tmp_path / "style" / "ratio_0.01" / "history.csv").is_file()
    inversion = get_recipe("feature_inversion").run({
        "out": str(tmp_path / "inversion"), "size": 24, "steps": 3, "rounds": 1, "layers": ["kernel_3", "kernel_9"]})
    assert set(inversion["layers"]) == {"kernel_3", "kernel_9"}
    assert (tmp_path / "inversion" / "plots" / "inversions.png").is_file()
    with pytest.raises(ValueError, match="`ratios`"):
        get_recipe("style_transfer").run({"out": str(tmp_path / "bad"), "ratios": [0]})


def test_style_transfer_command(tmp_path, capsys, monkeypatch):
    from PIL import Image

    Image.new("RGB", (40, 30), "red").save(tmp_path / "content.png")
    Image.new("RGB", (20, 20), "blue").save(tmp_path / "style.jpg")
    (tmp_path / "text.png").write_text("not an image")
    content, style, out = tmp_path / "content.png", tmp_path / "style.jpg", tmp_path / "result.png"
    arguments = ["style-transfer", str(content), str(style), "--size", "24", "--steps", "2",
                 "--network", "random_multiscale", "--out"]
    assert mlkit_cli.main([*arguments, str(out)]) == 0
    assert Image.open(out).size == (24, 18) and "→" in capsys.readouterr().out

    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras.applications, "VGG19", offline)
    for extra, message in [
        (["--out", str(tmp_path / "a.png"), str(tmp_path / "none.png"), str(style)], "does not exist"),
        (["--out", str(tmp_path / "a.png"), "--network", "random_multiscale", str(tmp_path / "text.png"),
          str(style)], "not an image"),
        (["--out", str(out), str(content), str(style)], "already exists"),
        (["--out", str(tmp_path / "no" / "a.png"), str(content), str(style)], "does not exist"),
        (["--out", str(tmp_path / "a.gif"), str(content), str(style)], "--out must end in"),
        (["--out", str(tmp_path / "a.png"), "--size", "8", str(content), str(style)], "--size"),
        (["--out", str(tmp_path / "a.png"), str(content), str(style)], "cannot be downloaded"),
    ]:
        assert mlkit_cli.main(["style-transfer", *extra]) == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and message in captured.err, captured.err
    assert not (tmp_path / "a.png").exists()
