"""Fully convolutional encoder–decoder for per-pixel classes (SPEC §3: FCN segmentation)."""

import keras

from mlkit.models.registry import register_builder
from mlkit.validation import check_positive_int, check_rate, check_units
from mlkit.models.vision import conv_bn_relu, image_input


@register_builder
def fcn(
    input_shape=(None, None, 3),
    num_classes=4,
    filters=(32, 64, 128),
    convs_per_block=2,
    batch_norm=True,
    dropout=0.0,
    name="fcn",
):
    """Encoder [conv 3×3 blocks → MaxPool 2] → bottleneck → decoder [transposed conv ×2 →
    concatenate the encoder map of the same size → conv 3×3 block] → 1×1 conv softmax.

    The skip connections carry the fine detail that pooling discards (Long et al.
    2015's FCN skips, merged by concatenation as in U-Net). With no dense layer the
    model takes any height and width divisible by 2^(len(filters) − 1); give None
    for them to export one model for every image size. Outputs
    (height, width, num_classes) class probabilities.

    No augmentation argument: a geometric transform of the image must move its
    mask too, so segmentation augmentation belongs in the data pipeline.
    """
    filters = check_units("filters", filters)
    if len(filters) < 2:
        raise ValueError(f"`filters` needs an encoder width and a bottleneck width at least, got {filters!r}.")
    num_classes = check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must count the background too (at least 2), got {num_classes}.")
    convs_per_block = check_positive_int("convs_per_block", convs_per_block)
    dropout = check_rate("dropout", dropout)
    inputs, x, (height, width, _) = image_input(input_shape, allow_unknown_size=True)
    factor = 2 ** (len(filters) - 1)
    for size in (height, width):
        if size is not None and size % factor:
            raise ValueError(f"`input_shape`: fcn with {len(filters) - 1} poolings needs sizes divisible by {factor}, "
                             f"got {height}×{width}.")

    def block(x, block_filters, prefix):
        for index in range(1, convs_per_block + 1):
            x = conv_bn_relu(x, block_filters, 3, f"{prefix}_conv{index}", batch_norm=batch_norm)
        return x

    skips = []
    for level, level_filters in enumerate(filters[:-1], start=1):
        x = block(x, level_filters, f"encoder{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"encoder{level}_pool")(x)
    x = block(x, filters[-1], "bottleneck")
    if dropout:
        x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
    for level in range(len(filters) - 1, 0, -1):
        level_filters = filters[level - 1]
        x = keras.layers.Conv2DTranspose(level_filters, 2, strides=2, name=f"decoder{level}_upsample")(x)
        x = keras.layers.Concatenate(name=f"decoder{level}_skip")([x, skips[level - 1]])
        x = block(x, level_filters, f"decoder{level}")
    # float32 under mixed precision, like every classifier output.
    outputs = keras.layers.Conv2D(num_classes, 1, activation="softmax", dtype="float32", name="pixel_classes")(x)
    return keras.Model(inputs, outputs, name=name)
