"""Neural style transfer and feature inversion by pixel optimisation (SPEC §10)."""

from mlkit.style.images import SAMPLE_IMAGES, load_image, resize_image, save_image, to_uint8
from mlkit.style.transfer import INITS, OPTIMIZERS, PixelObjective, StyleTransfer, invert_features

__all__ = ["INITS", "OPTIMIZERS", "PixelObjective", "SAMPLE_IMAGES", "StyleTransfer", "invert_features", "load_image",
           "resize_image", "save_image", "to_uint8"]
