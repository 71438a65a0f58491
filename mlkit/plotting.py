"""Figures every package saves: atomic PNG writes and learning curves from a history."""

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mlkit.io import atomic_path  # noqa: E402


def save_figure(figure, path, replace=True):
    """Save atomically (an existing file is kept unless `replace`) and close the figure."""
    try:
        with atomic_path(path, replace=replace) as temporary:
            figure.savefig(temporary, dpi=110, bbox_inches="tight", format=str(path).rsplit(".", 1)[-1])
    finally:
        plt.close(figure)


def plot_learning_curves(history, path, title=None):
    """One panel per metric, training and validation curves over epochs."""
    frame = pd.read_csv(history) if not isinstance(history, (dict, pd.DataFrame)) else pd.DataFrame(history)
    if frame.empty:
        raise ValueError("The history is empty: nothing to plot.")
    epochs = frame["epoch"] + 1 if "epoch" in frame else pd.Series(range(1, len(frame) + 1))
    names = [column for column in frame.columns if column != "epoch" and not column.startswith("val_")]
    names = [name for name in names if name not in ("learning_rate", "lr")]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        axis.plot(epochs, frame[name], label="training", marker=".")
        if f"val_{name}" in frame:
            axis.plot(epochs, frame[f"val_{name}"], label="validation", marker=".")
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    save_figure(figure, path)
    return path


def plot_curve_comparison(curves, path, xlabel="epoch", ylabel="validation accuracy", title=None, target=None,
                          log_y=False):
    """Several runs' curves on one axis ({label: values}, x from 1), with an optional target line."""
    figure, axis = plt.subplots(figsize=(6.0, 4.0))
    for label, values in curves.items():
        axis.plot(range(1, len(values) + 1), values, label=label, marker="." if len(values) < 50 else None)
    if target is not None:
        axis.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target {target:g}")
    if log_y:
        axis.set_yscale("log")
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    if title:
        axis.set_title(title)
    save_figure(figure, path)
    return path


def plot_image_panel(images, path, title=None):
    """RGB images side by side with a label over each ({label: (H, W, 3) uint8 array}), e.g.
    content | style | result."""
    import numpy as np

    figure, axes = plt.subplots(1, len(images), figsize=(3.6 * len(images), 3.4), squeeze=False)
    for axis, (label, image) in zip(axes[0], images.items()):
        axis.imshow(np.asarray(image))
        axis.set_title(label, fontsize=9)
        axis.axis("off")
    if title:
        figure.suptitle(title)
    save_figure(figure, path)
    return path


def plot_image_rows(rows, path, title=None, cmap="gray"):
    """One row of images per entry of `rows` ({label: images (n, h, w) or (n, h, w, 1)}), same columns."""
    import numpy as np

    labels = list(rows)
    count = min(len(images) for images in rows.values())
    figure, axes = plt.subplots(len(labels), count, figsize=(1.1 * count, 1.2 * len(labels)), squeeze=False)
    for row, label in enumerate(labels):
        for column in range(count):
            axis = axes[row, column]
            axis.imshow(np.squeeze(np.asarray(rows[label][column])), cmap=cmap)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=8)
    if title:
        figure.suptitle(title)
    save_figure(figure, path)


def plot_filter_grid(filters, shape, path, title=None):
    """Filters (rows of `filters`, each reshaped to `shape`) in a square grid, each scaled to its own range."""
    import math

    import numpy as np

    filters = np.asarray(filters)
    side = math.ceil(math.sqrt(len(filters)))
    figure, axes = plt.subplots(side, side, figsize=(0.8 * side, 0.8 * side), squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index < len(filters):
            axis.imshow(filters[index].reshape(shape), cmap="gray")
    if title:
        figure.suptitle(title)
    save_figure(figure, path)


def tile_images(images, columns=None):
    """Images (n, h, w) or (n, h, w, c) tiled into one (rows·h, columns·w[, c]) array, 1-pixel gaps of 0."""
    import math

    import numpy as np

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or not len(images):
        raise ValueError(f"`images` must be (n, h, w) or (n, h, w, channels) with n ≥ 1, got shape {images.shape}.")
    count, height, width = images.shape[:3]
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    tiled = np.zeros((rows * (height + 1) - 1, columns * (width + 1) - 1) + images.shape[3:], images.dtype)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        tiled[row * (height + 1):row * (height + 1) + height, column * (width + 1):column * (width + 1) + width] = image
    return tiled


def plot_image_grid(images, path, columns=None, title=None, replace=True, row_labels=None):
    """Images with values in [0, 1] as one tiled grid (grey for one channel), one imshow (fast for
    hundreds of images, unlike a subplot per image); `row_labels` name the rows."""
    import numpy as np

    tiled = np.clip(tile_images(images, columns), 0, 1)
    height, width = tiled.shape[:2]
    figure, axis = plt.subplots(figsize=(max(2.0, width / 40), max(2.0, height / 40)))
    axis.imshow(tiled, cmap="gray" if tiled.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_visible(False)
    if row_labels:
        row_height = (height + 1) / len(row_labels)
        axis.set_yticks([(row + 0.5) * row_height for row in range(len(row_labels))], row_labels, fontsize=8)
    if title:
        axis.set_title(title, fontsize=9)
    save_figure(figure, path, replace=replace)
    return path


def write_gif(frames, path, fps=30, scale=1, replace=True):
    """An animated GIF of RGB frames (uint8, height × width × 3), written atomically with Pillow;
    `scale` > 1 keeps every `scale`-th pixel per axis (smaller files)."""
    from PIL import Image

    if not len(frames):
        raise ValueError("No frames to write.")
    images = [Image.fromarray(frame[::scale, ::scale]) for frame in frames]
    with atomic_path(path, replace=replace) as temporary:
        images[0].save(temporary, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(int(round(1000 / fps)), 20), loop=0)
    return path
