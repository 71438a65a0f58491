"""ResNet-18/34/50/101/152 (He et al. 2016; SPEC §3): residual blocks with skip connections."""

import keras

from mlkit.layers import IdentityShortcut
from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_int_choice, check_positive_int
from mlkit.models.vision import check_classifier, check_downsampling, classifier_output, conv_bn_relu, image_input

# depth -> (block, blocks per stage)
RESNET_CONFIGS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
RESNET_STEMS = ("auto", "imagenet", "small")
RESNET_SHORTCUTS = ("projection", "identity")
BOTTLENECK_EXPANSION = 4


@register_builder
def resnet(
    depth=50,
    input_shape=(224, 224, 3),
    num_classes=1000,
    base_filters=64,
    stem="auto",
    shortcut="projection",
    use_bias=True,
    classifier_activation="auto",
    augmentation=None,
    name=None,
):
    """Stem → four stages of residual blocks → global average pooling → classifier.

    Blocks: "basic" (3×3 → 3×3) for depths 18/34, "bottleneck" (1×1 → 3×3 → 1×1 with
    4× expansion) for 50/101/152; every convolution is followed by BatchNorm, the
    sum by ReLU. Stages 2–4 halve the map in their first block (stride 2 on the
    3×3 convolution, "ResNet v1.5").

    shortcut "projection" (the paper's option B): identity where shapes match, a
    1×1 convolution + BatchNorm where they change. "identity" (option A): always
    parameter-free, subsampling and zero-padding channels (`IdentityShortcut`).

    stem "imagenet": 7×7/2 convolution + 3×3/2 max pooling (inputs from 64 pixels);
    "small": one 3×3/1 convolution and no pooling (CIFAR-sized inputs); "auto"
    picks by input size.

    `use_bias=True` keeps the convolution biases of the original Caffe release,
    so ResNet-50 at 224×224×3 with 1000 classes has 25,636,712 parameters (Keras
    applications' count); `use_bias=False` gives torchvision's trainable counts
    (ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50 25,557,032).
    """
    depth = check_int_choice("depth", depth, tuple(RESNET_CONFIGS))
    base_filters = check_positive_int("base_filters", base_filters)
    stem = check_choice("stem", stem, RESNET_STEMS)
    shortcut = check_choice("shortcut", shortcut, RESNET_SHORTCUTS)
    if not isinstance(use_bias, bool):
        raise ValueError(f"`use_bias` must be True or False, got {use_bias!r}.")
    num_classes, classifier_activation = check_classifier(num_classes, classifier_activation)
    inputs, x, (height, width, _) = image_input(input_shape, augmentation)
    if stem == "auto":
        stem = "imagenet" if min(height, width) >= 64 else "small"
    block_kind, stage_blocks = RESNET_CONFIGS[depth]
    # Stages 2–4 halve the map; the ImageNet stem halves it twice more.
    check_downsampling(height, width, len(stage_blocks) - 1 + (2 if stem == "imagenet" else 0),
                       f"ResNet-{depth} with the {stem} stem")

    def conv(x, filters, kernel_size, name, strides=1, activation=True):
        return conv_bn_relu(x, filters, kernel_size, name, strides, batch_norm=True, activation=activation,
                            use_bias=use_bias)

    if stem == "imagenet":
        x = conv(x, base_filters, 7, "stem_conv", strides=2)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    else:
        x = conv(x, base_filters, 3, "stem_conv")

    for stage, blocks in enumerate(stage_blocks, start=1):
        filters = base_filters * 2 ** (stage - 1)
        for block in range(1, blocks + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            prefix = f"stage{stage}_block{block}"
            output_filters = filters * (BOTTLENECK_EXPANSION if block_kind == "bottleneck" else 1)
            if block_kind == "basic":
                residual = conv(x, filters, 3, f"{prefix}_conv1", strides)
                residual = conv(residual, filters, 3, f"{prefix}_conv2", activation=False)
            else:
                residual = conv(x, filters, 1, f"{prefix}_conv1")
                residual = conv(residual, filters, 3, f"{prefix}_conv2", strides)
                residual = conv(residual, output_filters, 1, f"{prefix}_conv3", activation=False)
            if strides == 1 and x.shape[-1] == output_filters:
                identity = x
            elif shortcut == "projection":
                identity = conv(x, output_filters, 1, f"{prefix}_shortcut", strides, activation=False)
            else:
                identity = IdentityShortcut(output_filters, strides, name=f"{prefix}_shortcut")(x)
            x = keras.layers.Add(name=f"{prefix}_add")([identity, residual])
            x = keras.layers.ReLU(name=f"{prefix}_relu")(x)

    x = keras.layers.GlobalAveragePooling2D(name="global_average")(x)
    outputs = classifier_output(x, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=name or f"resnet{depth}")

