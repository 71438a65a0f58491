"""Evaluation: of generative models (Fréchet distance between feature statistics, mode coverage) and of
classifiers (`classification_report`: confusion matrix, TPR/TNR/precision/FPR/F1, ROC-AUC, ROC plot).

The Fréchet distance is the FID formula (Heusel et al. 2017) applied to whatever features are given.
The GAN recipes use the penultimate layer of an MNIST classifier that mlkit trains itself, so their
numbers are *not* Inception FIDs and do not compare with published ones; they compare the models of
one run with each other and with the floor FID(real, real) and the ceiling FID(real, noise).
"""

import dataclasses
import functools

import numpy as np
import scipy.linalg


@dataclasses.dataclass(frozen=True)
class FeatureStatistics:
    """Mean and covariance (float64) of a feature set; its covariance's square root is computed once."""

    mean: np.ndarray
    covariance: np.ndarray

    @functools.cached_property
    def covariance_root(self):
        eigenvalues, eigenvectors = scipy.linalg.eigh(self.covariance)
        return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def feature_statistics(features):
    """Mean and covariance of features (n, d), n ≥ 2, as `FeatureStatistics`."""
    features = np.asarray(features, dtype="float64")
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"`features` must be a 2-D array with at least 2 rows, got shape {features.shape}.")
    if not np.isfinite(features).all():
        raise ValueError("`features` contains NaN or infinite values.")
    return FeatureStatistics(features.mean(axis=0), np.cov(features, rowvar=False))


def frechet_distance(features_a, features_b):
    """‖μa − μb‖² + tr(Σa + Σb − 2(Σa Σb)^½) between two feature sets (n, d), or between their
    `feature_statistics` (or (mean, covariance) pairs).

    tr((Σa Σb)^½) is computed as Σ √λ over the eigenvalues of Σa^½ Σb Σa^½, which is symmetric positive
    semi-definite, instead of scipy.linalg.sqrtm of the non-symmetric product: the result is real and
    stable for the rank-deficient covariances of a few thousand high-dimensional features. Pass a
    reference set used for several distances first, as `FeatureStatistics`: its Σa^½ is computed once.
    """
    a, b = (_statistics(features) for features in (features_a, features_b))
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"The two feature sets have different dimensions: {a.mean.shape} and {b.mean.shape}.")
    root_a = a.covariance_root
    product_eigenvalues = scipy.linalg.eigvalsh(root_a @ b.covariance @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(product_eigenvalues, 0, None)))
    distance = np.sum((a.mean - b.mean) ** 2) + np.trace(a.covariance) + np.trace(b.covariance) - 2 * trace_root
    return float(max(distance, 0.0))


def _statistics(features):
    if isinstance(features, FeatureStatistics):
        return features
    if isinstance(features, tuple):
        return FeatureStatistics(np.asarray(features[0], "float64"), np.asarray(features[1], "float64"))
    return feature_statistics(features)


def class_coverage(labels, num_classes):
    """How a generator covers the classes: each class's share of `labels` (the classes a classifier
    gives to generated samples) and the KL divergence of those shares from uniform (0 = every class
    equally often; log(num_classes) = a single class, total mode collapse).

    Returns {"shares": [...], "kl_to_uniform": float, "classes_present": int, "largest_share": float}.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not len(labels):
        raise ValueError(f"`labels` must be a non-empty 1-D array, got shape {labels.shape}.")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an integer ≥ 2, got {num_classes!r}.")
    if labels.min() < 0 or labels.max() >= num_classes or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be integers in [0, {num_classes}).")
    shares = np.bincount(labels, minlength=num_classes) / len(labels)
    present = shares > 0
    kl = float(np.sum(shares[present] * np.log(shares[present] * num_classes)))
    return {"shares": [float(share) for share in shares], "kl_to_uniform": kl,
            "classes_present": int(present.sum()), "largest_share": float(shares.max())}


def epochs_to_reach(values, target, mode="max"):
    """The first epoch (counted from 1) whose value reaches `target` (≥ for "max", ≤ for "min"), or None."""
    for epoch, value in enumerate(values, start=1):
        if (value >= target) if mode == "max" else (value <= target):
            return epoch
    return None


def classification_report(y_true, y_score, threshold=0.5, class_names=None):
    """Confusion matrix and per-class rates of a classifier, from labels and scores (SPEC §2).

    Args:
        y_true: integer labels, shape (n,).
        y_score: scores: (n,) probabilities of class 1 for a binary classifier, or (n, classes)
            probabilities (a softmax output; predicted class = argmax).
        threshold: binary only: scores ≥ threshold are predicted positive.
        class_names: optional names for the classes.

    Returns a dict: "confusion_matrix" (rows true, columns predicted), "accuracy", and per class
    (one-vs-rest) "tpr" (sensitivity, recall), "tnr" (specificity), "precision", "fpr", "f1" and
    "roc_auc"; "macro" averages; for a binary classifier the positive class's values at the top level
    and "roc_curve" ({"fpr", "tpr", "thresholds"}). Undefined ratios (0/0) are 0, as in
    scikit-learn with zero_division=0; the AUC of a class without positives or negatives is NaN.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.asarray(y_true)
    scores = np.asarray(y_score, dtype="float64")
    if labels.ndim != 1 or not len(labels):
        raise ValueError(f"`y_true` must be a non-empty 1-D array of labels, got shape {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise ValueError("`y_true` must hold integer class labels.")
        labels = labels.astype("int64")
    binary = scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1)
    if binary:
        scores = scores.reshape(-1)
        probabilities = np.stack([1 - scores, scores], axis=1)
        predicted = (scores >= threshold).astype("int64")
    elif scores.ndim == 2:
        probabilities = scores
        predicted = np.argmax(scores, axis=1)
    else:
        raise ValueError(f"`y_score` must be (n,) or (n, classes), got shape {scores.shape}.")
    if len(probabilities) != len(labels):
        raise ValueError(f"`y_score` has {len(probabilities)} rows for {len(labels)} labels.")
    if not np.isfinite(probabilities).all():
        raise ValueError("`y_score` must be finite.")
    classes = probabilities.shape[1]
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"`y_true` labels must be in 0..{classes - 1}, got {labels.min()}..{labels.max()}.")
    names = [str(name) for name in (class_names or range(classes))]
    if len(names) != classes:
        raise ValueError(f"`class_names` needs {classes} names, got {len(names)}.")

    confusion = np.zeros((classes, classes), dtype="int64")
    np.add.at(confusion, (labels, predicted), 1)
    total = confusion.sum()
    per_class = {}
    for index, name in enumerate(names):
        tp = confusion[index, index]
        fn = confusion[index].sum() - tp
        fp = confusion[:, index].sum() - tp
        tn = total - tp - fn - fp
        precision, tpr = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        positives = labels == index
        both = 0 < positives.sum() < len(labels)
        auc = float(roc_auc_score(positives, probabilities[:, index])) if both else float("nan")
        per_class[name] = {"tpr": tpr, "tnr": _ratio(tn, tn + fp), "precision": precision, "fpr": _ratio(fp, fp + tn),
                           "f1": _ratio(2 * precision * tpr, precision + tpr), "roc_auc": auc,
                           "support": int(positives.sum())}
    report = {"confusion_matrix": confusion.tolist(), "accuracy": float(np.trace(confusion) / total),
              "classes": per_class,
              "macro": {key: float(np.nanmean([values[key] for values in per_class.values()]))
                        for key in ("tpr", "tnr", "precision", "fpr", "f1", "roc_auc")}}
    if binary:
        report.update({key: value for key, value in per_class[names[1]].items()})
        if 0 < labels.sum() < len(labels):
            fpr, tpr, thresholds = roc_curve(labels, scores)
            report["roc_curve"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds.tolist()}
    return report


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else 0.0


def plot_roc_curve(report, path, title=None):
    """The ROC curve of a binary `classification_report`, with its AUC and the chance diagonal."""
    from mlkit.plotting import plt, save_figure

    if "roc_curve" not in report:
        raise ValueError("The report has no ROC curve (a binary classifier with both classes present).")
    figure, axis = plt.subplots(figsize=(4.2, 4))
    axis.plot(report["roc_curve"]["fpr"], report["roc_curve"]["tpr"], label=f"AUC {report['roc_auc']:.3f}")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axis.set_xlabel("false positive rate (1 − specificity)")
    axis.set_ylabel("true positive rate (sensitivity)")
    axis.legend(loc="lower right")
    if title:
        axis.set_title(title)
    save_figure(figure, path)
    return path


def plot_confusion_matrix(report, path, title=None):
    """The confusion matrix of a `classification_report` as an annotated image (rows: true class)."""
    from mlkit.plotting import plt, save_figure

    matrix = np.asarray(report["confusion_matrix"])
    names = list(report["classes"])
    size = max(3.5, 0.45 * len(names) + 2)
    figure, axis = plt.subplots(figsize=(size, size * 0.9))
    axis.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        axis.text(column, row, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > matrix.max() / 2 else "black")
    axis.set_xticks(range(len(names)), names)
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title or f"accuracy {report['accuracy']:.4f}")
    save_figure(figure, path)
    return path


def evaluate_classifier(model, data, plots, name="model", class_names=None, threshold=0.5):
    """`classification_report` of a Keras classifier on a (inputs, labels) tf.data dataset or tuple,
    with its confusion matrix (and ROC curve if binary) drawn into the folder `plots`.

    Returns the report without the ROC curve's points (for metrics.json).
    """
    from pathlib import Path

    if isinstance(data, tuple):
        inputs, labels = data
        scores = model.predict(inputs, verbose=0)
    else:
        labels, scores = [], []
        for inputs, batch_labels in data:
            scores.append(model.predict_on_batch(inputs))
            labels.append(np.asarray(batch_labels))
        labels, scores = np.concatenate(labels), np.concatenate(scores)
    labels = np.asarray(labels).reshape(-1).astype("int64")
    report = classification_report(labels, np.asarray(scores, dtype="float64"), threshold, class_names)
    plots = Path(plots)
    plot_confusion_matrix(report, plots / f"confusion_{name}.png", title=f"{name}: accuracy {report['accuracy']:.4f}")
    if "roc_curve" in report:
        plot_roc_curve(report, plots / f"roc_{name}.png", title=name)
    return {key: value for key, value in report.items() if key != "roc_curve"}
