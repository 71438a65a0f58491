"""LeNet-5 (LeCun et al. 1998; SPEC §3)."""

import keras

from mlkit.models.registry import register_builder
from mlkit.validation import check_choice
from mlkit.models.vision import check_classifier, classifier_output, image_input

LENET_VARIANTS = ("classic", "modern")
LENET_ACTIVATIONS = ("tanh", "sigmoid", "relu", "elu", "selu", "gelu")


@register_builder
def lenet5(
    input_shape=(28, 28, 1),
    num_classes=10,
    variant="classic",
    activation=None,
    classifier_activation="auto",
    augmentation=None,
    name="lenet5",
):
    """C1 conv 6@5×5 → S2 pool 2 → C3 conv 16@5×5 → S4 pool 2 → C5 conv 120@5×5 → F6 84 → classes.

    variant "classic": average-pooling "subsampling" and a saturating activation
    (tanh by default; `activation="sigmoid"` is the notes' version). LeCun's
    trainable per-map subsampling coefficient and the RBF output are replaced by
    plain average pooling and a softmax, as in most reimplementations; C3 connects
    to all six S2 maps. variant "modern": ReLU and max pooling.

    Inputs smaller than 32×32 (MNIST's 28×28) get "same" padding in C1, the
    2-pixel border LeCun added to MNIST, so C5 still sees a 5×5 map.
    At 28×28×1 with 10 classes: 61,706 parameters.
    """
    variant = check_choice("variant", variant, LENET_VARIANTS)
    if activation is None:
        activation = "tanh" if variant == "classic" else "relu"
    activation = check_choice("activation", activation, LENET_ACTIVATIONS)
    num_classes, classifier_activation = check_classifier(num_classes, classifier_activation)
    inputs, x, (height, width, _) = image_input(input_shape, augmentation)
    if min(height, width) < 28:
        raise ValueError(f"`input_shape` {height}×{width} is too small: lenet5 needs images of at least 28×28.")
    pool = keras.layers.AveragePooling2D if variant == "classic" else keras.layers.MaxPooling2D
    first_padding = "same" if min(height, width) < 32 else "valid"

    x = keras.layers.Conv2D(6, 5, padding=first_padding, activation=activation, name="c1")(x)
    x = pool(2, name="s2")(x)
    x = keras.layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = pool(2, name="s4")(x)
    x = keras.layers.Conv2D(120, 5, activation=activation, name="c5")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(84, activation=activation, name="f6")(x)
    outputs = classifier_output(x, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=name)
