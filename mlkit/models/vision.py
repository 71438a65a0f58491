"""Parts every image builder shares: the validated input with augmentation, and the classifier."""

import keras

from mlkit.layers import augmentation_layers
from mlkit.validation import check_choice, check_image_shape, check_positive_int

CLASSIFIER_ACTIVATIONS = ("auto", "softmax", "sigmoid", None)
# Moving statistics settle in tens of steps instead of hundreds (Keras' 0.99); small
# datasets with few steps per epoch otherwise validate on stale statistics.
BATCH_NORM_MOMENTUM = 0.9
HEADS = ("flatten", "global_average")


def image_input(input_shape, augmentation=None, allow_unknown_size=False):
    """keras.Input for (height, width, channels) images followed by the augmentation layers.

    Returns (inputs, x, shape): `shape` is the image shape after augmentation
    (a crop changes it), which the caller sizes its layers for.
    """
    input_shape = check_image_shape("input_shape", input_shape, allow_unknown_size)
    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    for layer in augmentation_layers(augmentation):
        x = layer(x)
    return inputs, x, tuple(x.shape[1:])


def check_downsampling(height, width, halvings, what):
    """Refuse images too small for `halvings` stride-2 steps ("same" padding, so sizes round up)
    before the last stage: its convolutions must still see at least a 2×2 map."""
    minimum = 2 ** halvings + 1
    if min(height, width) < minimum:
        raise ValueError(f"`input_shape` {height}×{width} is too small for {what}: its last stage would see a 1×1 map; "
                         f"give at least {minimum}×{minimum} pixels.")


def check_classifier(num_classes, classifier_activation):
    """The output activation: "auto" is sigmoid for one class (binary), softmax otherwise."""
    num_classes = check_positive_int("num_classes", num_classes)
    classifier_activation = check_choice("classifier_activation", classifier_activation, CLASSIFIER_ACTIVATIONS)
    if classifier_activation == "auto":
        classifier_activation = "sigmoid" if num_classes == 1 else "softmax"
    return num_classes, classifier_activation


def classifier_output(x, num_classes, classifier_activation):
    """Dense(num_classes) with the checked activation (None gives logits).

    Computed in float32 under a mixed precision policy: a bfloat16 softmax loses the
    small probabilities the loss needs.
    """
    return keras.layers.Dense(num_classes, activation=classifier_activation, dtype="float32",
                              name="predictions")(x)


def classifier_features(x, head):
    """Feature maps → a vector: every pixel ("flatten"), or each map's mean ("global_average",
    far fewer weights after it and no dependence on the image size)."""
    if head == "flatten":
        return keras.layers.Flatten(name="flatten")(x)
    return keras.layers.GlobalAveragePooling2D(name="global_average")(x)


def dense_head(x, dense_units, dropout, num_classes, classifier_activation):
    """Flattened features → [Dense → ReLU → Dropout] per hidden width → classifier.

    Dropout follows each hidden layer (AlexNet, VGG); with no hidden layer it sits
    right before the classifier (the keras-io MNIST convnet).
    """
    for index, units in enumerate(dense_units, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    if dropout and not dense_units:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return classifier_output(x, num_classes, classifier_activation)


def conv_bn_relu(x, filters, kernel_size, name, strides=1, padding="same", batch_norm=False, activation=True,
                 use_bias=None):
    """Conv2D → (BatchNorm) → (ReLU).

    By default the convolution drops its bias when BatchNorm's shift replaces it.
    """
    use_bias = not batch_norm if use_bias is None else use_bias
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
                            name=name)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x
