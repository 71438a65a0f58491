"""Feature inversion (Mahendran & Vedaldi 2015; SPEC §10): what does a layer keep of an image?

For each layer, shallow to deep, an image is optimised from noise until its features match those of
china.jpg: ‖Φ(x) − Φ(x₀)‖² / ‖Φ(x₀)‖² + γ TV(x). The panel shows the original and every
reconstruction; metrics.json gives each one's remaining feature error and its pixel error (PSNR)
against the original. Each layer is a child run (resumable).

Features: "random_multiscale" (offline; its "layers" are filter sizes 3–15 px of one layer) or, with
ImageNet weights available, `--set network=vgg19` (the last convolution of each block).
"""

import numpy as np

from mlkit.io import write_text
from mlkit.models.style import INVERSION_LAYERS, describe_features, style_features
from mlkit.plotting import plot_image_panel
from mlkit.style import OPTIMIZERS, invert_features, load_image, save_image, to_uint8
from mlkit.training import start_run
from mlkit.validation import check_choice

DESCRIPTION = "Feature inversion (Mahendran & Vedaldi): images reconstructed from shallow to deep layers' features."

DEFAULTS = {
    "image": "china.jpg",
    "size": 128,
    "network": "random_multiscale",
    "weights": "imagenet",
    "pooling": "avg",
    "layers": [],  # empty: the network's shallow-to-deep list
    "steps": 150,
    "rounds": 3,
    "tv_weight": 1e-10,  # γ, against a normalised feature error of order 1 (pixels 0-255; 1e-8 blurs)
    "optimizer": "lbfgs",
}


def check_config(config):
    check_choice("optimizer", config["optimizer"], OPTIMIZERS)
    check_choice("network", config["network"], tuple(INVERSION_LAYERS))


def run(config=None, overwrite=False):
    with start_run("feature_inversion", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        layers = list(config["layers"]) or list(INVERSION_LAYERS[config["network"]])
        weights = None if config["weights"] == "random" else config["weights"]
        model = style_features(config["network"], layers=layers, weights=weights, pooling=config["pooling"],
                               seed=run.seed)
        image = load_image(config["image"], config["size"], model.minimum_image_size, name="image")
        features = describe_features(config["network"], config["weights"])
        print(f"features: {features}")
        targets = model(image[None], training=False)
        panel, results = {"original": to_uint8(image)}, {}
        for layer in layers:
            child = run.child(layer)
            reconstruction, history = invert_features(
                image, layer, network=config["network"], steps=config["steps"], tv_weight=config["tv_weight"],
                optimizer=config["optimizer"], seed=run.seed, run_directory=child.directory, feature_model=model,
                rounds=config["rounds"])
            save_image(reconstruction, child.path / "reconstruction.png")
            reached = model(reconstruction[None].astype("float32"), training=False)[layer]
            target = targets[layer]
            feature_error = float(np.sum((reached - target) ** 2) / np.sum(np.asarray(target) ** 2))
            mse = float(np.mean((reconstruction.astype("float64") - image) ** 2))
            results[layer] = {"relative_feature_error": feature_error, "psnr_db": 10 * np.log10(255 ** 2 / mse),
                              "iterations": int(history["iterations"].sum()),
                              "image": str(child.path / "reconstruction.png")}
            panel[f"{layer}\nPSNR {results[layer]['psnr_db']:.1f} dB"] = reconstruction
        plot_image_panel(panel, run.path / "plots" / "inversions.png", title=f"feature inversion; {features}")
        report = "\n".join([
            "# feature_inversion", "", f"Image {config['image']} at {image.shape[1]}×{image.shape[0]} px; "
            f"features: {features}; {config['optimizer']}, {config['steps']} steps from noise, "
            f"γ = {config['tv_weight']:g}.",
            "", "| layer | relative feature error | PSNR against the original (dB) |", "|---|---|---|",
            *(f"| {layer} | {result['relative_feature_error']:.3g} | {result['psnr_db']:.1f} |"
              for layer, result in results.items()),
        ]) + "\n"
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({"features": features, "layers": results})
