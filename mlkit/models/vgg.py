"""VGG-11/13/16/19 (Simonyan & Zisserman 2015; SPEC §3): stacks of 3×3 convolutions."""

import keras

from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_int_choice, check_positive_int, check_rate, check_units
from mlkit.models.vision import HEADS, check_classifier, check_downsampling, classifier_features, conv_bn_relu, dense_head, image_input

# Convolutions per stage; stage widths are base_filters × (1, 2, 4, 8, 8).
VGG_CONFIGS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
VGG_WIDTHS = (1, 2, 4, 8, 8)


@register_builder
def vgg(
    depth=16,
    input_shape=(224, 224, 3),
    num_classes=1000,
    base_filters=64,
    dense_units=(4096, 4096),
    dropout=0.5,
    head="flatten",
    batch_norm=False,
    classifier_activation="auto",
    augmentation=None,
    name=None,
):
    """Five stages of [Conv 3×3 → (BatchNorm) → ReLU] × n → MaxPool 2×2, then the classifier.

    `depth` picks the configuration A/B/D/E of the paper (11/13/16/19 weight
    layers). head "flatten" is the paper's (Flatten → FC 4096 → FC 4096 → classes;
    VGG-16 at 224×224×3 with 1000 classes: 138,357,544 parameters); "global_average"
    pools each map to one number, far fewer weights for small inputs. Pooling uses
    "same" padding, identical to the paper on even sizes, so 28×28 inputs still
    reach the fifth stage (28 → 14 → 7 → 4 → 2 → 1).
    """
    depth = check_int_choice("depth", depth, tuple(VGG_CONFIGS))
    base_filters = check_positive_int("base_filters", base_filters)
    dense_units = check_units("dense_units", dense_units)
    dropout = check_rate("dropout", dropout)
    head = check_choice("head", head, HEADS)
    num_classes, classifier_activation = check_classifier(num_classes, classifier_activation)
    inputs, x, (height, width, _) = image_input(input_shape, augmentation)
    check_downsampling(height, width, len(VGG_WIDTHS) - 1, f"VGG-{depth} (four poolings before its last stage)")

    for stage, (convolutions, width) in enumerate(zip(VGG_CONFIGS[depth], VGG_WIDTHS), start=1):
        for index in range(1, convolutions + 1):
            x = conv_bn_relu(x, base_filters * width, 3, f"block{stage}_conv{index}", batch_norm=batch_norm)
        x = keras.layers.MaxPooling2D(2, padding="same", name=f"block{stage}_pool")(x)
    x = classifier_features(x, head)
    outputs = dense_head(x, dense_units, dropout, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=name or f"vgg{depth}")
