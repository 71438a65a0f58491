"""PCA on images: eigen-images, scree plot, reconstruction at several component counts (SPEC §5).

The Olivetti faces (EigenFace) need a one-time download by scikit-learn; offline the
default is scikit-learn's bundled 8×8 digits, which show the same thing.
"""

import matplotlib.pyplot as plt

from mlkit.training import save_figure, start_run
from mlkit.unsupervised import PCA

DESCRIPTION = "PCA eigen-images, scree plot and reconstructions (digits offline, Olivetti faces if cached)."

DEFAULTS = {
    "dataset": "digits",  # digits | olivetti (needs scikit-learn's cached download)
    "components": [1, 2, 5, 10, 20, 40],
    "variance_threshold": 0.7,
    "eigen_images": 8,
}


def load_images(name):
    """(images as rows, image shape)."""
    from sklearn import datasets

    if name == "digits":
        digits = datasets.load_digits()
        return digits.data.astype("float64") / 16.0, (8, 8)
    if name == "olivetti":
        try:
            faces = datasets.fetch_olivetti_faces(download_if_missing=False)
        except OSError:
            raise ValueError("Olivetti faces are not cached; use dataset=digits offline.") from None
        return faces.data.astype("float64"), (64, 64)
    raise ValueError(f"Unknown dataset {name!r}; choose digits or olivetti.")


def run(config=None, overwrite=False):
    with start_run("pca_faces", DEFAULTS, config, overwrite) as run:
        config = run.config
        run_directory = run.directory
        images, shape = load_images(config["dataset"])
        full = PCA().fit(images)
        kept = PCA(variance_threshold=config["variance_threshold"]).fit(images)
        full.scree_plot(run_directory.plots / "scree.png", threshold=config["variance_threshold"])

        counts = [k for k in config["components"] if k <= full.n_components_]
        errors = {str(k): PCA(k).fit(images).reconstruction_error(images) for k in counts}

        count = config["eigen_images"]
        figure, axes = plt.subplots(1, count + 1, figsize=(1.6 * (count + 1), 2))
        for axis, picture, title in zip(
            axes, [full.mean_] + list(full.components_[:count]), ["mean"] + [f"PC {i + 1}" for i in range(count)]
        ):
            axis.imshow(picture.reshape(shape), cmap="gray")
            axis.set_title(title, fontsize=8)
            axis.axis("off")
        save_figure(figure, run_directory.plots / "eigen_images.png")

        examples = images[:4]
        figure, axes = plt.subplots(len(examples), len(counts) + 1, figsize=(1.5 * (len(counts) + 1), 1.6 * len(examples)))
        for column, k in enumerate([None] + counts):
            model = PCA(k).fit(images) if k else None
            shown = examples if k is None else model.inverse_transform(model.transform(examples))
            for row, picture in enumerate(shown):
                axes[row, column].imshow(picture.reshape(shape), cmap="gray")
                axes[row, column].axis("off")
            axes[0, column].set_title("original" if k is None else f"{k} PCs", fontsize=8)
        save_figure(figure, run_directory.plots / "reconstructions.png")

        metrics = {
            "dataset": config["dataset"],
            "images": int(len(images)),
            "features": int(images.shape[1]),
            "components_for_threshold": int(kept.n_components_),
            "variance_threshold": config["variance_threshold"],
            "explained_variance_ratio_top10": full.explained_variance_ratio_[:10].tolist(),
            "reconstruction_mse": errors,
        }
        return run.finish(metrics)
