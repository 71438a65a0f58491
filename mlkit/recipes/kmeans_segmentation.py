"""K-means colour quantisation / segmentation of an image with K = 2, 3, 10, plus the elbow (SPEC §5).

Each pixel is a point in RGB space; K-means replaces it by its cluster's centroid.
The default image is one of scikit-learn's bundled samples, so it runs offline;
`image` may also be a path to any PNG/JPEG.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from mlkit.training import save_figure, start_run
from mlkit.unsupervised import KMeans, elbow

DESCRIPTION = "Colour segmentation of an image by k-means (K = 2, 3, 10) and the elbow curve."

DEFAULTS = {
    "image": "china.jpg",  # china.jpg / flower.jpg (bundled with scikit-learn) or a file path
    "ks": [2, 3, 10],
    "elbow_ks": list(range(1, 13)),
    "sample_pixels": 20_000,  # centroids are fitted on a random sample, then every pixel is assigned
    "max_iter": 100,
}


def load_image(name):
    """RGB image as float32 in [0, 1], shape (height, width, 3)."""
    if name in ("china.jpg", "flower.jpg"):
        from sklearn.datasets import load_sample_image

        image = load_sample_image(name)
    else:
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"image not found: {path}")
        image = plt.imread(path)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] < 3:
        raise ValueError(f"expected an RGB image, got shape {image.shape}")
    image = image[..., :3]
    return (image / 255.0 if image.dtype == np.uint8 else image).astype("float32")


def run(config=None, overwrite=False):
    with start_run("kmeans_segmentation", DEFAULTS, config, overwrite) as run:
        config = run.config
        run_directory = run.directory
        image = load_image(config["image"])
        pixels = image.reshape(-1, 3)
        rng = np.random.default_rng(config["seed"])
        sample = pixels[rng.choice(len(pixels), min(config["sample_pixels"], len(pixels)), replace=False)]

        segmented, metrics = {}, {"image": config["image"], "pixels": int(len(pixels)), "k": {}}
        for k in config["ks"]:
            model = KMeans(k, random_state=config["seed"], max_iter=config["max_iter"]).fit(sample)
            labels = model.predict(pixels)
            segmented[k] = model.cluster_centers_[labels].reshape(image.shape)
            metrics["k"][str(k)] = {
                "distortion": -model.score(pixels) / len(pixels),
                "iterations": int(model.n_iter_),
                "cluster_sizes": np.bincount(labels, minlength=model.n_clusters_).tolist(),
            }
        curve = elbow(sample, config["elbow_ks"], random_state=config["seed"], max_iter=config["max_iter"])
        curve.plot(run_directory.plots / "elbow.png")
        metrics["elbow"] = {"ks": curve.ks, "distortions": curve.distortions, "knee": curve.knee}

        figure, axes = plt.subplots(1, len(segmented) + 1, figsize=(4 * (len(segmented) + 1), 3.4))
        for axis, (title, picture) in zip(axes, [("original", image)] + [(f"K = {k}", s) for k, s in segmented.items()]):
            axis.imshow(np.clip(picture, 0, 1))
            axis.set_title(title)
            axis.axis("off")
        save_figure(figure, run_directory.plots / "segmentation.png")
        return run.finish(metrics)
