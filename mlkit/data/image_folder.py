"""Images in one folder per class → cached, shuffled, prefetched `tf.data` pipelines."""

from pathlib import Path

import keras

from mlkit.data.pipeline import DatasetSplits, finish_pipeline, scale_images

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what tf.io.decode_image reads
COLOR_MODES = {"rgb": 3, "grayscale": 1, "rgba": 4}
LABEL_MODES = ("int", "binary", "categorical")


def image_folder(path, image_size=(128, 128), validation_split=0.2, seed=0, batch_size=32, color_mode="rgb",
                 label_mode="int", cache=True):
    """Train and validation pipelines from `path/<class name>/<image files>`.

    Classes are the subfolder names in sorted order (label 0 is the first: "cats"
    before "dogs"). Images are resized to `image_size` and scaled to [0, 1].
    `validation_split` of the files, drawn with `seed`, go to validation.
    Decoding happens once: the decoded images are cached (in memory, or in files
    at the `cache` prefix), then shuffled each epoch, batched and prefetched.

    Raises ValueError, before reading any image, for a missing folder, a folder
    without class subfolders, a class folder without images, fewer than two
    classes, or a split that leaves either side empty.
    """
    path = Path(path)
    if color_mode not in COLOR_MODES:
        raise ValueError(f"`color_mode` must be one of {', '.join(COLOR_MODES)}; got {color_mode!r}.")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"`label_mode` must be one of {', '.join(LABEL_MODES)}; got {label_mode!r}.")
    if not (isinstance(image_size, (list, tuple)) and len(image_size) == 2
            and all(isinstance(size, int) and size > 0 for size in image_size)):
        raise ValueError(f"`image_size` must be (height, width) of positive integers, got {image_size!r}.")
    if not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be in (0, 1), got {validation_split!r}.")

    counts = check_image_folder(path, label_mode)
    total = sum(counts.values())
    validation_size = int(validation_split * total)  # Keras' own rounding
    if validation_size < 1 or validation_size >= total:
        raise ValueError(f"validation_split={validation_split} of {total} images leaves a split empty.")

    class_names = sorted(counts)
    train, validation = keras.utils.image_dataset_from_directory(
        path,
        labels="inferred",
        label_mode=label_mode,
        class_names=class_names,
        color_mode=color_mode,
        batch_size=None,  # batched by finish_pipeline, after the cache
        image_size=tuple(image_size),
        shuffle=True,
        seed=seed,
        validation_split=validation_split,
        subset="both",
        verbose=False,
    )

    def finish(dataset, shuffle, suffix):
        cache_to = cache + suffix if isinstance(cache, str) else cache
        return finish_pipeline(dataset, batch_size, shuffle=shuffle, seed=seed, cache=cache_to, batch_map=scale_images)

    return DatasetSplits(
        train=finish(train, True, ".train"),
        validation=finish(validation, False, ".validation"),
        test=None,
        source=str(path),
        sizes={"train": total - validation_size, "validation": validation_size},
        class_names=class_names,
    )


def check_image_folder(path, label_mode="int"):
    """{class name: image count} of a one-folder-per-class image set, or a ValueError saying what is wrong."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"Image folder {path} does not exist or is not a directory.")
    counts = _count_images(path)
    if not counts:
        raise ValueError(f"Image folder {path} has no class subfolders; put each class's images in its own folder.")
    empty = [name for name, count in counts.items() if count == 0]
    if empty:
        raise ValueError(f"Class folder(s) {', '.join(empty)} in {path} hold no images "
                         f"({', '.join(IMAGE_EXTENSIONS)}).")
    if len(counts) < 2:
        raise ValueError(f"Image folder {path} has a single class ({next(iter(counts))}); "
                         "classification needs at least two class folders.")
    if label_mode == "binary" and len(counts) != 2:
        raise ValueError(f"`label_mode='binary'` needs exactly two classes, {path} has {len(counts)}.")
    return counts


def _count_images(path):
    """{class folder name: number of image files in it (recursively)}."""
    return {
        folder.name: sum(1 for file in folder.rglob("*") if file.suffix.lower() in IMAGE_EXTENSIONS)
        for folder in sorted(path.iterdir())
        if folder.is_dir() and not folder.name.startswith(".")
    }
