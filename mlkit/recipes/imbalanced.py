"""Imbalanced classes (SPEC §2, the notes' tumour example): with 1 % positives, answering "no" every
time is 99 % accurate and useless. The classification report exposes it; class weights fix it.

Data: scikit-learn's `make_classification`, 1 % positives, split 60 / 20 / 20 (train / validation /
test; the standardisation is a Normalization layer inside each model). Three classifiers, the same
MLP and budget for the two trained ones:
- "always no": the constant classifier the notes warn about;
- "plain": trained on the data as they are;
- "class weights": the same network with each class weighted by n / (2 · n_class) (positives ≈ 50×).
Per classifier at threshold 0.5: accuracy, precision, recall (TPR), specificity (TNR), F1, ROC-AUC;
ROC curves side by side, a confusion matrix each.
"""

import numpy as np

from mlkit.data import array_dataset, scaling_layer, split_by_ratio
from mlkit.io import write_text
from mlkit.metrics import classification_report, plot_confusion_matrix
from mlkit.models import mlp
from mlkit.plotting import plt, save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run

DESCRIPTION = "1 % positives: accuracy 0.99 from always answering no; F1, recall and ROC-AUC expose it; class weights."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "examples": 20_000,
    "positive_fraction": 0.01,
    "features": 10,
    "class_separation": 1.0,
    "hidden_units": [32, 16],
    "epochs": 15,
    "batch_size": 256,
}
METRICS = ("accuracy", "precision", "tpr", "tnr", "f1", "roc_auc")


def check_config(config):
    if not 0 < config["positive_fraction"] < 0.5:
        raise ValueError(f"`positive_fraction` must be in (0, 0.5), got {config['positive_fraction']!r}.")


def run(config=None, overwrite=False):
    from sklearn.datasets import make_classification

    with start_run("imbalanced", DEFAULTS, config, overwrite, check=check_config) as run:
        config = run.config
        inputs, labels = make_classification(
            config["examples"], n_features=config["features"], n_informative=max(2, config["features"] // 2),
            weights=[1 - config["positive_fraction"]], class_sep=config["class_separation"], flip_y=0,
            random_state=run.seed)
        inputs = inputs.astype("float32")
        train, validation, test = split_by_ratio(len(inputs), (0.6, 0.2, 0.2), seed=run.seed)
        negatives, positives = np.bincount(labels[train], minlength=2)
        weights = {0: len(train) / (2 * negatives), 1: len(train) / (2 * positives)}
        reports = {"always no": classification_report(labels[test], np.zeros(len(test)))}
        for name, class_weight in (("plain", None), ("class weights", weights)):
            with run.strategy.scope():
                model = mlp((config["features"],), config["hidden_units"], name=name.replace(" ", "_"))
                model = _with_scaling(model, scaling_layer(inputs[train]))
                model.compile(run.optimizer(), "binary_crossentropy", metrics=["accuracy"])
            fit(model, array_dataset(inputs[train], labels[train], run.global_batch_size, shuffle=True,
                                     seed=run.seed),
                array_dataset(inputs[validation], labels[validation], run.global_batch_size),
                run.child(name.replace(" ", "_")), epochs=config["epochs"], keep="last", class_weight=class_weight)
            scores = model.predict(inputs[test], verbose=0)[:, 0]
            reports[name] = classification_report(labels[test], scores)
        for name, report in reports.items():
            plot_confusion_matrix(report, run.directory.plots / f"confusion_{name.replace(' ', '_')}.png", title=name)
        _plot_roc(reports, run.directory.plots / "roc.png")
        table = ["| classifier | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
        table += [f"| {name} | " + " | ".join(f"{report[key]:.3f}" for key in METRICS) + " |"
                  for name, report in reports.items()]
        report_text = "\n".join([
            "# imbalanced", "",
            f"{len(test)} test examples, {int(labels[test].sum())} positive ({labels[test].mean():.2%}); "
            f"class weights {weights[0]:.3f} (negative) and {weights[1]:.1f} (positive).", "", *table, ""])
        write_text(run.path / "report.md", report_text)
        print(report_text)
        metrics = {name: {key: report[key] for key in (*METRICS, "confusion_matrix")}
                   for name, report in reports.items()}
        metrics["test_positives"] = int(labels[test].sum())
        metrics["class_weights"] = weights
        return run.finish(metrics)


def _with_scaling(model, scaling):
    import keras

    inputs = keras.Input(model.input_shape[1:])
    return keras.Model(inputs, model(scaling(inputs)), name=model.name)


def _plot_roc(reports, path):
    figure, axis = plt.subplots(figsize=(4.6, 4.2))
    for name, report in reports.items():
        if "roc_curve" in report:
            curve = report["roc_curve"]
            axis.plot(curve["fpr"], curve["tpr"], label=f"{name} (AUC {report['roc_auc']:.3f})")
    axis.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate (recall)")
    axis.legend(loc="lower right", fontsize=8)
    save_figure(figure, path)
