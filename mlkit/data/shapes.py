"""Synthetic shapes: per-pixel segmentation data and a two-class image folder.

Each image is a random background colour with 1–`max_shapes` filled circles,
rectangles and triangles, each in a colour at least 0.35 away from the background
in every channel, plus Gaussian noise. Later shapes cover earlier ones, and the
mask says which shape owns each pixel (0 is background).
"""

import numpy as np
import tensorflow as tf

from mlkit.data.pipeline import DatasetSplits, finish_pipeline
from mlkit.io import atomic_path
from mlkit.validation import check_positive_int

SHAPE_CLASSES = ("background", "circle", "rectangle", "triangle")


def shapes_segmentation_data(num_examples, image_size=64, max_shapes=3, noise=0.05, seed=0):
    """Images (n, size, size, 3) float32 in [0, 1] and masks (n, size, size) uint8 of SHAPE_CLASSES."""
    num_examples = check_positive_int("num_examples", num_examples)
    image_size = check_positive_int("image_size", image_size)
    max_shapes = check_positive_int("max_shapes", max_shapes)
    if image_size < 16:
        raise ValueError(f"`image_size` must be at least 16 pixels, got {image_size}.")
    if not 0 <= noise < 1:
        raise ValueError(f"`noise` must be in [0, 1), got {noise!r}.")
    rng = np.random.default_rng(seed)
    background = rng.random((num_examples, 1, 1, 3))
    images = np.broadcast_to(background, (num_examples, image_size, image_size, 3)).copy()
    masks = np.zeros((num_examples, image_size, image_size), np.uint8)
    counts = rng.integers(1, max_shapes + 1, num_examples)
    for slot in range(max_shapes):
        kinds = rng.integers(1, len(SHAPE_CLASSES), num_examples)
        owned = _shape_masks(rng, kinds, image_size) & (slot < counts)[:, None, None]
        colour = _contrasting_colour(rng, background)
        images = np.where(owned[..., None], colour, images)
        masks = np.where(owned, kinds[:, None, None].astype(np.uint8), masks)
    images += rng.normal(0.0, noise, images.shape)
    return np.clip(images, 0.0, 1.0).astype("float32"), masks


def _shape_masks(rng, kinds, image_size):
    """One filled shape per image, of the given kinds, as (n, size, size) booleans."""
    n = len(kinds)
    radius = rng.uniform(0.1, 0.22, (n, 1, 1)) * image_size
    centre_y, centre_x = (rng.uniform(0.15, 0.85, (2, n, 1, 1)) * image_size)
    y, x = np.mgrid[:image_size, :image_size].astype("float64") + 0.5
    dy, dx = y - centre_y, x - centre_x
    circle = dx**2 + dy**2 <= radius**2
    half_height = radius * rng.uniform(0.6, 1.0, (n, 1, 1))
    rectangle = (np.abs(dx) <= radius) & (np.abs(dy) <= half_height)
    # Apex up, base at the bottom; width grows from 0 at the apex to 2r at the base.
    triangle = (dy <= radius) & (np.abs(dx) <= (dy + radius) / 2)
    kind = kinds[:, None, None]
    return np.where(kind == 1, circle, np.where(kind == 2, rectangle, triangle))


def _contrasting_colour(rng, background):
    """A colour 0.35–0.65 away from `background` in every channel (on the colour circle)."""
    return (background + rng.uniform(0.35, 0.65, background.shape)) % 1.0


def shapes_segmentation(num_train=2000, num_validation=250, num_test=250, image_size=64, max_shapes=3,
                        batch_size=32, seed=0):
    """Train/validation/test `tf.data` pipelines of (image, mask) pairs; each split has its own seed."""
    splits = {}
    for index, (name, count) in enumerate((("train", num_train), ("validation", num_validation), ("test", num_test))):
        images, masks = shapes_segmentation_data(count, image_size, max_shapes, seed=[seed, index])
        splits[name] = tf.data.Dataset.from_tensor_slices((images, masks.astype("int32")))
    return DatasetSplits(
        train=finish_pipeline(splits["train"], batch_size, shuffle=True, seed=seed),
        validation=finish_pipeline(splits["validation"], batch_size),
        test=finish_pipeline(splits["test"], batch_size),
        source="synthetic shapes",
        sizes={"train": num_train, "validation": num_validation, "test": num_test},
        class_names=list(SHAPE_CLASSES),
    )


def write_shapes_image_folder(path, images_per_class=100, image_size=64, classes=("circle", "rectangle"), seed=0):
    """A one-folder-per-class PNG image folder: each image holds one shape of its class.

    For trying `image_folder` and the cats_dogs recipe without downloading photos.
    The folder appears whole or not at all.
    """
    images_per_class = check_positive_int("images_per_class", images_per_class)
    unknown = [name for name in classes if name not in SHAPE_CLASSES[1:]]
    if unknown or len(set(classes)) < 2:
        raise ValueError(f"`classes` must be two or more of {', '.join(SHAPE_CLASSES[1:])}; got {classes!r}.")
    rng = np.random.default_rng(seed)
    with atomic_path(path) as temporary:
        for name in classes:
            kinds = np.full(images_per_class, SHAPE_CLASSES.index(name))
            owned = _shape_masks(rng, kinds, image_size)
            background = rng.random((images_per_class, 1, 1, 3))
            colour = _contrasting_colour(rng, background)
            images = np.where(owned[..., None], colour, background)
            images = np.clip(images + rng.normal(0.0, 0.05, images.shape), 0.0, 1.0)
            (temporary / name).mkdir(parents=True)
            for index, image in enumerate((images * 255).round().astype(np.uint8)):
                tf.io.write_file(str(temporary / name / f"{name}_{index:04d}.png"), tf.io.encode_png(image))
    return path

