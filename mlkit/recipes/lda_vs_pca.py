"""LDA vs PCA: 2-D projections of the wine data and nearest-class-mean accuracy in each (SPEC §5).

PCA keeps the directions of largest variance whatever the labels; LDA (Fisher)
keeps those that separate the classes. Both are fitted on a stratified 70 %
training split of z-scored features and scored on the other 30 %.
"""

import matplotlib.pyplot as plt
import numpy as np

from mlkit.training import save_figure, start_run
from mlkit.unsupervised import LDA, PCA

DESCRIPTION = "Wine data projected to 2-D by PCA and by LDA; nearest-class-mean accuracy of each."

DEFAULTS = {"test_fraction": 0.3}


def nearest_mean_accuracy(train_projected, train_labels, test_projected, test_labels):
    classes = np.unique(train_labels)
    means = np.stack([train_projected[train_labels == c].mean(axis=0) for c in classes])
    predicted = classes[np.argmin(((test_projected[:, None] - means[None]) ** 2).sum(-1), axis=1)]
    return float(np.mean(predicted == test_labels))


def run(config=None, overwrite=False):
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    with start_run("lda_vs_pca", DEFAULTS, config, overwrite) as run:
        config = run.config
        run_directory = run.directory
        wine = load_wine()
        train_x, test_x, train_y, test_y = train_test_split(
            wine.data, wine.target, test_size=config["test_fraction"], stratify=wine.target, random_state=config["seed"]
        )
        mean, scale = train_x.mean(axis=0), train_x.std(axis=0)
        train_x, test_x = (train_x - mean) / scale, (test_x - mean) / scale

        projections = {"PCA": PCA(2).fit(train_x), "LDA": LDA(2).fit(train_x, train_y)}
        metrics = {}
        figure, axes = plt.subplots(1, 2, figsize=(10, 4))
        for axis, (name, model) in zip(axes, projections.items()):
            train_projected, test_projected = model.transform(train_x), model.transform(test_x)
            accuracy = nearest_mean_accuracy(train_projected, train_y, test_projected, test_y)
            metrics[f"{name.lower()}_nearest_mean_test_accuracy"] = accuracy
            for label, name_of_class in enumerate(wine.target_names):
                points = train_projected[train_y == label]
                axis.scatter(points[:, 0], points[:, 1], s=12, label=name_of_class)
            axis.set_title(f"{name}: nearest-mean test accuracy {accuracy:.1%}")
            axis.set_xlabel("component 1")
            axis.set_ylabel("component 2")
            axis.legend()
        save_figure(figure, run_directory.plots / "projections.png")
        metrics["train_size"], metrics["test_size"] = int(len(train_x)), int(len(test_x))
        return run.finish(metrics)
