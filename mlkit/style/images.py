"""Images in and out of pixel optimisation: float32 RGB arrays with values 0–255, shape (H, W, 3)."""

from pathlib import Path

import numpy as np

from mlkit.io import atomic_path

SAMPLE_IMAGES = ("china.jpg", "flower.jpg")  # scikit-learn's bundled sample images
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def load_image(source, size=None, minimum_size=1, name="image"):
    """An RGB float32 array (0–255) from a file path or a scikit-learn sample name (china.jpg, flower.jpg).

    `size` resizes so that the longer side has `size` pixels (aspect kept). An image whose shorter side
    is below `minimum_size`, before or after resizing, is refused: the network cannot take it.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, np.ndarray):
        array = _as_rgb(source, name)
    elif str(source) in SAMPLE_IMAGES and not Path(source).exists():
        from sklearn.datasets import load_sample_image

        array = load_sample_image(str(source)).astype("float32")
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ValueError(f"`{name}` {path} does not exist (a file, or one of {', '.join(SAMPLE_IMAGES)}).")
        try:
            with Image.open(path) as opened:
                array = np.asarray(opened.convert("RGB"), dtype="float32")
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"`{name}` {path} is not an image Pillow can read ({error}).") from None
    _check_size(array.shape, minimum_size, name, "is")
    if size is not None:
        height, width = array.shape[:2]
        scale = size / max(height, width)
        shape = (max(1, round(height * scale)), max(1, round(width * scale)))
        array = resize_image(array, shape)
        _check_size(array.shape, minimum_size, name, f"at --size {size} is")
    return array


def _as_rgb(array, name):
    array = np.asarray(array, dtype="float32")
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise ValueError(f"`{name}` must be an (H, W, 3) RGB array, got shape {array.shape}.")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 255:
        raise ValueError(f"`{name}` must hold finite pixel values in 0–255.")
    return array


def _check_size(shape, minimum_size, name, what):
    if min(shape[:2]) < minimum_size:
        raise ValueError(f"`{name}` {what} {shape[0]}×{shape[1]} px, smaller than the feature network can take "
                         f"(at least {minimum_size} px on each side).")


def resize_image(image, shape):
    """Resize to (height, width) with antialiased bicubic interpolation, clipped to 0–255."""
    import tensorflow as tf

    resized = tf.image.resize(np.asarray(image, dtype="float32"), tuple(shape), method="bicubic", antialias=True)
    return np.clip(resized.numpy(), 0, 255).astype("float32")


def to_uint8(image):
    return np.clip(np.rint(np.asarray(image)), 0, 255).astype("uint8")


def save_image(image, path, replace=True):
    """Write an RGB image atomically (.png, .jpg); nothing is left half-written."""
    from PIL import Image

    path = Path(path)
    kind = IMAGE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"The output image must end in {', '.join(IMAGE_SUFFIXES)}, got {path.name}.")
    with atomic_path(path, replace=replace) as temporary:
        Image.fromarray(to_uint8(image)).save(temporary, format=kind)
    return path
