"""conv_output_size against the shapes Keras' own layers produce (SPEC §3)."""

import itertools

import keras
import numpy as np
import pytest

from mlkit.models import conv_output_size


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_matches_keras_convolution_and_pooling(padding):
    for size, kernel, strides, dilation in itertools.product(range(4, 13), (1, 2, 3, 5), (1, 2, 3), (1, 2)):
        if padding == "valid" and (kernel - 1) * dilation + 1 > size:
            continue
        if strides > 1 and dilation > 1:
            continue  # Keras allows only one of them above 1
        layer = keras.layers.Conv2D(1, kernel, strides=strides, padding=padding, dilation_rate=dilation)
        _, height, width, _ = layer.compute_output_shape((None, size, size + 1, 1))
        assert height == conv_output_size(size, kernel, padding, strides, dilation), (size, kernel, strides, dilation)
        assert width == conv_output_size(size + 1, kernel, padding, strides, dilation)
        if dilation == 1:
            pool = keras.layers.MaxPooling2D(kernel, strides=strides, padding=padding)
            assert pool.compute_output_shape((None, size, size, 1))[1] == conv_output_size(size, kernel, padding, strides)


def test_explicit_padding_matches_zero_padding_then_valid_convolution():
    for size, kernel, pad, strides in itertools.product((5, 7, 8), (2, 3, 5), (0, 1, 2), (1, 2)):
        inputs = np.zeros((1, size, size, 1), "float32")
        padded = keras.layers.ZeroPadding2D(pad)(inputs)
        outputs = keras.layers.Conv2D(1, kernel, strides=strides)(padded)
        assert outputs.shape[1] == conv_output_size(size, kernel, pad, strides)


def test_notes_examples():
    # OH = (H + 2P − FH)/S + 1: a 4×4 input, 3×3 filter, P = 1, S = 1 keeps 4×4; S = 2 gives 2×2.
    assert conv_output_size(4, 3, 1, 1) == 4
    assert conv_output_size(4, 3, 1, 2) == 2
    assert conv_output_size(28, 5, 2, 1) == 28  # LeNet-5's C1 on padded MNIST
    assert conv_output_size(227, 11, 0, 4) == 55  # AlexNet's conv1
    # A 3×3 image and one 2×2 filter: a dense layer to the 2×2 output needs (9+1)·4 = 40
    # weights, the convolution (4+1)·1 = 5.
    image = keras.Input((3, 3, 1))
    convolution = keras.layers.Conv2D(1, 2)
    assert convolution(image).shape[1] == conv_output_size(3, 2) == 2
    assert convolution.count_params() == 5
    dense = keras.layers.Dense(4)
    dense(keras.layers.Flatten()(image))
    assert dense.count_params() == 40


@pytest.mark.parametrize("arguments, argument", [
    ((0, 3), "size"), ((5, 0), "kernel_size"), ((5, 3, -1), "padding"), ((5, 3, "full"), "padding"),
    ((5, 3, 0, 0), "strides"), ((2, 5), "kernel_size"), ((5, 2.5), "kernel_size"),
])
def test_rejects_bad_arguments(arguments, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        conv_output_size(*arguments)
