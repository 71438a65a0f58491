"""Image augmentation as Keras preprocessing layers (random in training, identity at inference)."""

import numbers

import keras

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
AUGMENTATION_KEYS = ("flip", "rotation", "zoom", "translation", "contrast", "brightness", "crop", "value_range")


def augmentation_layers(augmentation, seed=None):
    """Keras random preprocessing layers from a JSON-able dict.

    Keys (all optional):
        flip: "horizontal", "vertical" or "horizontal_and_vertical".
        rotation: largest rotation as a fraction of a full turn (0.05 = ±18°).
        zoom, translation: largest zoom / shift as a fraction of the image size.
        contrast, brightness: largest relative change.
        crop: [height, width] — a random window in training, the central (resized)
            window at inference, so the model's input size stays fixed.
        value_range: the pixel range the photometric layers clip to (default [0, 1]).

    Every layer is the identity (crop: a deterministic central window) when
    called with training=False, so evaluation and exported models see clean images.
    """
    if augmentation is None:
        return []
    if not isinstance(augmentation, dict):
        raise ValueError(f"`augmentation` must be a dict or None, got {augmentation!r}.")
    unknown = sorted(set(augmentation) - set(AUGMENTATION_KEYS))
    if unknown:
        raise ValueError(f"`augmentation`: unknown key(s) {', '.join(unknown)}; known: {', '.join(AUGMENTATION_KEYS)}.")
    value_range = augmentation.get("value_range", (0.0, 1.0))
    if not (isinstance(value_range, (list, tuple)) and len(value_range) == 2 and value_range[0] < value_range[1]):
        raise ValueError(f"`value_range` must be [low, high] with low < high, got {value_range!r}.")
    value_range = [float(value) for value in value_range]
    layers = []
    if augmentation.get("flip"):
        if augmentation["flip"] not in FLIP_MODES:
            raise ValueError(f"`flip` must be one of {', '.join(FLIP_MODES)}; got {augmentation['flip']!r}.")
        layers.append(keras.layers.RandomFlip(augmentation["flip"], seed=seed, name="augment_flip"))
    if _fraction(augmentation, "rotation"):
        layers.append(keras.layers.RandomRotation(augmentation["rotation"], fill_mode="constant", seed=seed,
                                                  name="augment_rotation"))
    if _fraction(augmentation, "zoom"):
        layers.append(keras.layers.RandomZoom(augmentation["zoom"], fill_mode="constant", seed=seed,
                                              name="augment_zoom"))
    if _fraction(augmentation, "translation"):
        shift = augmentation["translation"]
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed,
                                                     name="augment_translation"))
    if _fraction(augmentation, "contrast"):
        layers.append(keras.layers.RandomContrast(augmentation["contrast"], value_range=value_range, seed=seed,
                                                  name="augment_contrast"))
    if _fraction(augmentation, "brightness"):
        layers.append(keras.layers.RandomBrightness(augmentation["brightness"], value_range=value_range, seed=seed,
                                                    name="augment_brightness"))
    if augmentation.get("crop") is not None:
        crop = augmentation["crop"]
        if not (isinstance(crop, (list, tuple)) and len(crop) == 2
                and all(isinstance(size, numbers.Integral) and size > 0 for size in crop)):
            raise ValueError(f"`crop` must be [height, width] of positive integers, got {crop!r}.")
        layers.append(keras.layers.RandomCrop(int(crop[0]), int(crop[1]), seed=seed, name="augment_crop"))
        # Keras' RandomCrop passes images through uncropped at inference (keras-team/keras#21868);
        # a CenterCrop after it is a no-op in training and the central window at inference.
        layers.append(keras.layers.CenterCrop(int(crop[0]), int(crop[1]), name="augment_center_crop"))
    return layers


def _fraction(augmentation, key):
    value = augmentation.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{key}` must be a number in [0, 1), got {value!r}.")
    return value > 0
