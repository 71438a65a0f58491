"""Neural style transfer (Gatys et al. 2016; SPEC §10): content china.jpg, style flower.jpg.

The image's pixels are optimised against α Σ L_content + β Σ_l E_l (+ γ TV) with L-BFGS, once per
α/β: the notes' 1e-3 and their "photorealistic" 1e-2, side by side on the same start and budget.
Each ratio is a child run (history.csv, loss curve, checkpoint per round; a killed run resumes).

Features: `network` "random_multiscale" by default, the offline option (one layer of random filters
of 3–15 px, Ustyuzhaninov et al. 2017), so the recipe runs anywhere without downloads. With ImageNet
weights in the Keras cache (or a network), `--set network=vgg19` is Gatys et al.'s setting: conv4_2
for content, conv1_1 … conv5_1 for style, average pooling. The report says which features were used.
"""

import time

import matplotlib.pyplot as plt

from mlkit.io import write_text
from mlkit.plotting import plot_image_panel, save_figure
from mlkit.style import INITS, OPTIMIZERS, StyleTransfer, load_image, save_image, to_uint8
from mlkit.models.style import describe_features
from mlkit.training import start_run
from mlkit.validation import check_choice

DESCRIPTION = "Neural style transfer (Gatys): china.jpg in flower.jpg's style at α/β = 1e-3 and 1e-2, loss curves."

DEFAULTS = {
    "content": "china.jpg",  # a path, or one of scikit-learn's sample images
    "style": "flower.jpg",
    "size": 256,  # the longer side of the result, in pixels
    "network": "random_multiscale",  # random_multiscale (offline) | vgg19 | vgg16
    "weights": "imagenet",  # VGG: imagenet (Keras cache or download), a local .h5 file, or random
    "pooling": "avg",
    "ratios": [1e-3, 1e-2],  # α/β, one result each
    "style_weight": 1.0,  # β; α = ratio × β
    "tv_weight": 0.0,
    "optimizer": "lbfgs",  # lbfgs | adam | sgd
    "learning_rate": 5.0,  # adam/sgd, in pixel values
    "init": "noise",  # noise (Gatys et al.; more of the style shows) | content (keras-io)
    "steps": 100,
    "rounds": 5,  # checkpoints per result
    "resolutions": 1,  # > 1: coarse to fine
    "jit_compile": False,  # XLA made the loss and gradient slower on this CPU (benchmarks/style_step.py)
}


def check_config(config):
    check_choice("optimizer", config["optimizer"], OPTIMIZERS)
    check_choice("init", config["init"], INITS)
    if not config["ratios"] or any(isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0
                                   for ratio in config["ratios"]):
        raise ValueError(f"`ratios` must be a non-empty list of positive α/β values, got {config['ratios']!r}.")


def run(config=None, overwrite=False):
    with start_run("style_transfer", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        features = describe_features(config["network"], config["weights"])
        print(f"features: {features}")
        results, images, histories = {}, {}, {}
        content = style = None
        for ratio in config["ratios"]:
            name = f"ratio_{ratio:g}"
            transfer = StyleTransfer(
                config["network"], weights=_weights(config), pooling=config["pooling"],
                content_weight=ratio * config["style_weight"], style_weight=config["style_weight"],
                tv_weight=config["tv_weight"], optimizer=config["optimizer"], learning_rate=config["learning_rate"],
                init=config["init"], resolutions=config["resolutions"], seed=run.seed,
                jit_compile=config["jit_compile"])
            if content is None:
                content = load_image(config["content"], config["size"], transfer.minimum_size, name="content")
                style = load_image(config["style"], None, transfer.minimum_size, name="style")
            child = run.child(name)
            started = time.perf_counter()
            image, history = transfer.transfer(content, style, steps=config["steps"], rounds=config["rounds"],
                                               run_directory=child.directory, progress=print)
            seconds = time.perf_counter() - started
            save_image(image, child.path / "result.png")
            images[f"α/β = {ratio:g}"], histories[name] = image, history
            last = history.iloc[-1]
            results[name] = {"ratio": ratio, "content_weight": ratio * config["style_weight"],
                             "loss": float(last["loss"]), "content_loss": float(last["content"]),
                             "style_loss": float(last["style"]), "tv_loss": float(last["tv"]),
                             "iterations": int(history["iterations"].sum()),
                             "seconds_this_session": round(seconds, 1),
                             "steps_per_second": float(history["steps_per_second"].median()),
                             "image": str(child.path / "result.png")}
        plot_image_panel({"content": to_uint8(content), "style": to_uint8(style), **images},
                         run.path / "plots" / "panel.png", title=f"style transfer; features: {features}")
        _plot_losses(histories, run.path / "plots" / "losses.png")
        report = "\n".join([
            "# style_transfer", "",
            f"Content {config['content']}, style {config['style']}, {content.shape[1]}×{content.shape[0]} px, "
            f"{config['optimizer']} for {config['steps']} steps from the {config['init']} image.",
            f"Features: {features}.", "",
            "| α/β | total loss | content | style | iterations run | steps/s |", "|---|---|---|---|---|---|",
            *(f"| {result['ratio']:g} | {result['loss']:.4g} | {result['content_loss']:.4g} | "
              f"{result['style_loss']:.4g} | {result['iterations']} | {result['steps_per_second']:.2f} |"
              for result in results.values()),
        ]) + "\n"
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({"features": features, "image_size": list(content.shape[:2]), "results": results})


def _weights(config):
    return None if config["weights"] == "random" else config["weights"]


def _plot_losses(histories, path):
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    for name, history in histories.items():
        for axis, column in zip(axes, ("loss", "content", "style")):
            axis.plot(history["step"], history[column], marker=".", label=name)
            axis.set_title(column)
            axis.set_xlabel("step")
            axis.set_yscale("log")
    axes[0].legend()
    save_figure(figure, path)
