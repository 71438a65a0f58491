"""The notes' deep CNN: blocks of Conv→ReLU→Conv→ReLU→Pool with 3×3 filters (SPEC §3)."""

import keras

from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_positive_int, check_rate, check_units
from mlkit.models.vision import HEADS, check_classifier, classifier_features, conv_bn_relu, dense_head, image_input


@register_builder
def simple_cnn(
    input_shape=(28, 28, 1),
    num_classes=10,
    filters=(32, 64),
    convs_per_block=2,
    kernel_size=3,
    padding="same",
    pool_size=2,
    batch_norm=False,
    block_dropout=0.0,
    head="flatten",
    dense_units=(128,),
    dropout=0.5,
    classifier_activation="auto",
    augmentation=None,
    name="simple_cnn",
):
    """[(Conv k×k → (BatchNorm) → ReLU) × convs_per_block → MaxPool → (Dropout)] per entry of
    `filters` → Flatten (or global average pooling, `head="global_average"`) →
    [Dense → ReLU → Dropout] per `dense_units` → classifier.

    Two stacked 3×3 convolutions see a 5×5 field with 18 instead of 25 weights per
    channel pair, plus one more non-linearity. `filters=(32, 64), convs_per_block=1,
    padding="valid", dense_units=(), dropout=0.5` is the keras-io mnist_convnet
    (34,826 parameters).
    """
    filters = check_units("filters", filters)
    if not filters:
        raise ValueError("`filters` must name at least one block.")
    convs_per_block = check_positive_int("convs_per_block", convs_per_block)
    kernel_size = check_positive_int("kernel_size", kernel_size)
    padding = check_choice("padding", padding, ("same", "valid"))
    pool_size = check_positive_int("pool_size", pool_size)
    block_dropout = check_rate("block_dropout", block_dropout)
    head = check_choice("head", head, HEADS)
    dense_units = check_units("dense_units", dense_units)
    dropout = check_rate("dropout", dropout)
    num_classes, classifier_activation = check_classifier(num_classes, classifier_activation)
    inputs, x, (height, width, _) = image_input(input_shape, augmentation)

    size = min(height, width)
    for block in range(1, len(filters) + 1):  # checked before any layer is made
        size = size if padding == "same" else size - convs_per_block * (kernel_size - 1)
        size = size // pool_size if size > 0 else 0
        if size < 1:
            raise ValueError(f"`input_shape` {height}×{width} is too small: block {block} of simple_cnn leaves no "
                             "pixels; use fewer blocks, padding='same' or a smaller pool_size.")
    for block, block_filters in enumerate(filters, start=1):
        for index in range(1, convs_per_block + 1):
            x = conv_bn_relu(x, block_filters, kernel_size, f"block{block}_conv{index}", padding=padding,
                             batch_norm=batch_norm)
        x = keras.layers.MaxPooling2D(pool_size, name=f"block{block}_pool")(x)
        if block_dropout:
            x = keras.layers.Dropout(block_dropout, name=f"block{block}_dropout")(x)
    x = classifier_features(x, head)
    outputs = dense_head(x, dense_units, dropout, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=name)
