"""FCN segmentation of synthetic shapes: per-pixel background / circle / rectangle / triangle (SPEC §3).

The target is a test mean IoU (over the four classes) of at least 0.9.
"""

import keras
import numpy as np

from mlkit.data import SHAPE_CLASSES, shapes_segmentation
from mlkit.models import fcn
from mlkit.training import OPTIMIZER_DEFAULTS, fit, save_figure, start_run

DESCRIPTION = "FCN encoder-decoder with skip connections segmenting synthetic shapes (mean IoU)."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "precision": "auto",  # mixed bfloat16 where the CPU has it (about 3× faster convolutions), else float32
    "epochs": 30,
    "batch_size": 32,  # per replica
    "learning_rate": 2e-3,
    "num_train": 2000,
    "num_validation": 250,
    "num_test": 250,
    "image_size": 64,
    "max_shapes": 3,
    "filters": [16, 32, 64, 128],
    "convs_per_block": 2,
    "batch_norm": True,
    "dropout": 0.1,
    "early_stopping_patience": 8,
}


def run(config=None, overwrite=False):
    with start_run("shapes_segmentation", DEFAULTS, config, overwrite) as run:
        config = run.config
        data = shapes_segmentation(config["num_train"], config["num_validation"], config["num_test"],
                                   config["image_size"], config["max_shapes"], run.global_batch_size, config["seed"])
        num_classes = len(SHAPE_CLASSES)
        with run.strategy.scope():
            # Unknown height and width: the exported model segments images of any divisible size.
            model = fcn(input_shape=(None, None, 3), num_classes=num_classes, filters=config["filters"],
                        convs_per_block=config["convs_per_block"], batch_norm=config["batch_norm"],
                        dropout=config["dropout"])
            model.compile(
                optimizer=run.optimizer(),
                loss="sparse_categorical_crossentropy",
                metrics=[keras.metrics.MeanIoU(num_classes, sparse_y_pred=False, name="mean_iou")],
            )
        run.record_model("model", model)
        best, history = fit(model, data.train, data.validation, run, epochs=config["epochs"],
                            monitor="val_mean_iou", mode="max",
                            early_stopping_patience=config["early_stopping_patience"])

        images, masks = (np.concatenate(parts) for parts in zip(*((x.numpy(), y.numpy()) for x, y in data.test)))
        predicted = best.predict(images, verbose=0).argmax(-1)
        iou = class_iou(masks, predicted, num_classes)
        metrics = {
            "classes": list(SHAPE_CLASSES),
            "test_mean_iou": float(iou.mean()),
            "test_iou": {name: float(value) for name, value in zip(SHAPE_CLASSES, iou)},
            "test_pixel_accuracy": float((predicted == masks).mean()),
            "best_val_mean_iou": float(history["val_mean_iou"].max()),
            "epochs_run": int(len(history)),
            "parameters": int(best.count_params()),
            "data_sizes": data.sizes,
        }
        plot_segmentations(images[:6], masks[:6], predicted[:6], run.directory.plots / "test_examples.png")
        return run.finish(metrics, exports={"model": best}, sample=images[:4], input_range=(0.0, 1.0))


def class_iou(true, predicted, num_classes):
    """Intersection over union per class from the confusion matrix (a class absent from both counts 1)."""
    confusion = np.bincount(num_classes * true.ravel().astype(int) + predicted.ravel(),
                            minlength=num_classes**2).reshape(num_classes, num_classes)
    intersection = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1), 1.0)


def plot_segmentations(images, masks, predicted, path):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(3, len(images), figsize=(2 * len(images), 6.3), squeeze=False)
    for column, (image, mask, guess) in enumerate(zip(images, masks, predicted)):
        for row, (picture, title) in enumerate(((image, "image"), (mask, "true mask"), (guess, "FCN"))):
            axis = axes[row, column]
            if row == 0:
                axis.imshow(picture)
            else:
                axis.imshow(picture, cmap="viridis", vmin=0, vmax=len(SHAPE_CLASSES) - 1, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(title)
    figure.suptitle("classes: " + ", ".join(f"{index} {name}" for index, name in enumerate(SHAPE_CLASSES)))
    save_figure(figure, path)
