"""AlexNet (Krizhevsky, Sutskever, Hinton 2012; SPEC §3)."""

import keras

from mlkit.models.conv_arithmetic import conv_output_size
from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_rate, check_units
from mlkit.models.vision import check_classifier, conv_bn_relu, dense_head, image_input

ALEXNET_STEMS = ("auto", "imagenet", "small")


@register_builder
def alexnet(
    input_shape=(227, 227, 3),
    num_classes=1000,
    filters=(96, 256, 384, 384, 256),
    dense_units=(4096, 4096),
    dropout=0.5,
    stem="auto",
    batch_norm=False,
    classifier_activation="auto",
    augmentation=None,
    name="alexnet",
):
    """conv1 → pool → conv2 5×5 → pool → conv3, conv4, conv5 3×3 → pool → FC → FC → classes.

    ReLU after every convolution and hidden FC, overlapping 3×3/2 max pooling,
    dropout after the hidden FC layers. Single-tower (no two-GPU grouping); local
    response normalisation is left out (Keras has none, and later work found it
    useless) — `batch_norm=True` adds batch normalisation instead.

    stem "imagenet": conv1 is 11×11 stride 4 ("valid"), for inputs of about
    227×227 (62,378,344 parameters with 1000 classes). stem "small": conv1 is
    3×3 stride 1, for 28–64 pixel inputs. "auto" picks "imagenet" from 96 pixels up.
    """
    filters = check_units("filters", filters)
    if len(filters) != 5:
        raise ValueError(f"`filters` must give the 5 convolution widths, got {filters!r}.")
    dense_units = check_units("dense_units", dense_units)
    dropout = check_rate("dropout", dropout)
    stem = check_choice("stem", stem, ALEXNET_STEMS)
    num_classes, classifier_activation = check_classifier(num_classes, classifier_activation)
    inputs, x, (height, width, _) = image_input(input_shape, augmentation)
    if stem == "auto":
        stem = "imagenet" if min(height, width) >= 96 else "small"
    stem_kernel, stem_strides, stem_padding = (11, 4, "valid") if stem == "imagenet" else (3, 1, "same")

    # The three 3×3/2 poolings must leave at least one pixel.
    try:
        for side in (height, width):
            side = conv_output_size(side, stem_kernel, stem_padding, stem_strides)
            for _ in range(3):
                side = conv_output_size(side, 3, "valid", 2)
    except ValueError:
        raise ValueError(f"`input_shape` {height}×{width} is too small for alexnet with stem={stem!r}.") from None

    x = conv_bn_relu(x, filters[0], stem_kernel, "conv1", stem_strides, stem_padding, batch_norm)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = conv_bn_relu(x, filters[1], 5, "conv2", batch_norm=batch_norm)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    for index in (3, 4, 5):
        x = conv_bn_relu(x, filters[index - 1], 3, f"conv{index}", batch_norm=batch_norm)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = dense_head(x, dense_units, dropout, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=name)
