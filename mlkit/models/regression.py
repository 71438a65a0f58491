"""Linear, polynomial, logistic and softmax regression (SPEC §1)."""

import keras

from mlkit.layers import PolynomialFeatures
from mlkit.models.registry import register_builder
from mlkit.validation import (
    check_non_negative,
    check_positive_int,
    check_rate,
    check_shape,
    check_vector,
)


def elastic_net(alpha=0.0, l1_ratio=0.0):
    """Penalty `α·r·Σ|w| + α(1−r)/2·Σw²` as a Keras regularizer (None if α = 0).

    `l1_ratio=1` is the Lasso (L1), `l1_ratio=0` the Ridge (L2, `α/2 Σθ²`), as in
    the notes and in scikit-learn's ElasticNet; Keras' own L1L2 does the work.
    """
    alpha = check_non_negative("alpha", alpha)
    l1_ratio = check_rate("l1_ratio", l1_ratio, upper_inclusive=True)
    if alpha == 0:
        return None
    return keras.regularizers.L1L2(l1=alpha * l1_ratio, l2=alpha * (1 - l1_ratio) / 2)


def _features(name, input_shape):
    """Input and its flattened view (regression models see a feature vector)."""
    inputs = keras.Input(shape=input_shape, name="features")
    features = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    return inputs, features


@register_builder
def linear_regression(input_dim=1, output_dim=1, alpha=0.0, l1_ratio=0.0, name="linear_regression"):
    """`H(X) = XW + b` trained on MSE; `alpha`/`l1_ratio` add an elastic-net penalty.

    Args:
        input_dim: number of features (5 for the notes' f1..f5 example).
        output_dim: number of targets.
        alpha: penalty strength α ≥ 0 (0 = ordinary least squares).
        l1_ratio: r in [0, 1]: 1 = Lasso, 0 = Ridge, between = elastic net.
    """
    input_dim = check_positive_int("input_dim", input_dim)
    output_dim = check_positive_int("output_dim", output_dim)
    inputs = keras.Input(shape=(input_dim,), name="features")
    outputs = keras.layers.Dense(
        output_dim, kernel_regularizer=elastic_net(alpha, l1_ratio), dtype="float32", name="linear"
    )(inputs)
    return keras.Model(inputs, outputs, name=name)


@register_builder
def polynomial_regression(
    degree=2,
    input_dim=1,
    feature_mean=None,
    feature_variance=None,
    alpha=0.0,
    l1_ratio=0.0,
    name="polynomial_regression",
):
    """`y = b0 + b1·x + … + b_d·x^d` (per feature, no cross terms).

    Gradient descent on raw powers is badly conditioned (x² of the cars speeds
    spans 16…625), so the powers can be standardised inside the model with
    `feature_mean`/`feature_variance` (one entry per power and feature, ordered as
    `PolynomialFeatures` outputs them); `raw_polynomial_coefficients` maps the
    trained weights back to b0…b_d.
    """
    degree = check_positive_int("degree", degree)
    input_dim = check_positive_int("input_dim", input_dim)
    if (feature_mean is None) != (feature_variance is None):
        raise ValueError("Give both `feature_mean` and `feature_variance`, or neither.")
    feature_mean = check_vector("feature_mean", feature_mean, degree * input_dim)
    feature_variance = check_vector("feature_variance", feature_variance, degree * input_dim)
    if feature_variance is not None and min(feature_variance) <= 0:
        raise ValueError("`feature_variance` entries must be positive.")

    inputs = keras.Input(shape=(input_dim,), name="features")
    x = PolynomialFeatures(degree, name="powers")(inputs)
    if feature_mean is not None:
        x = keras.layers.Normalization(mean=feature_mean, variance=feature_variance, name="standardize")(x)
    outputs = keras.layers.Dense(1, kernel_regularizer=elastic_net(alpha, l1_ratio), dtype="float32", name="linear")(x)
    return keras.Model(inputs, outputs, name=name)


def raw_polynomial_coefficients(model):
    """Coefficients `[b0, b1, …, b_d]` of a one-feature `polynomial_regression` model."""
    import numpy as np

    kernel, bias = model.get_layer("linear").get_weights()
    weights, intercept = kernel[:, 0].astype("float64"), float(bias[0])
    try:
        standardize = model.get_layer("standardize")
    except ValueError:
        return np.concatenate([[intercept], weights])
    mean = np.asarray(standardize.mean, dtype="float64").ravel()
    scale = np.sqrt(np.asarray(standardize.variance, dtype="float64").ravel())
    scaled = weights / scale
    return np.concatenate([[intercept - np.sum(scaled * mean)], scaled])


@register_builder
def logistic_regression(input_dim=1, alpha=0.0, l1_ratio=0.0, name="logistic_regression"):
    """`p = σ(XW + b)`, trained with binary cross-entropy (convex, unlike MSE on a sigmoid)."""
    input_dim = check_positive_int("input_dim", input_dim)
    inputs = keras.Input(shape=(input_dim,), name="features")
    outputs = keras.layers.Dense(
        1, activation="sigmoid", kernel_regularizer=elastic_net(alpha, l1_ratio), dtype="float32", name="logistic"
    )(inputs)
    return keras.Model(inputs, outputs, name=name)


@register_builder
def softmax_regression(input_shape=(784,), num_classes=10, alpha=0.0, l1_ratio=0.0, name="softmax_regression"):
    """Multinomial logistic regression: `softmax(XW + b)` with categorical cross-entropy.

    Inputs of rank > 1 (e.g. 28×28×1 images) are flattened first. Keras' softmax
    subtracts the row maximum before exponentiating, so it is numerically stable.
    """
    input_shape = check_shape("input_shape", input_shape)
    num_classes = check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2, got {num_classes}.")
    inputs, features = _features(name, input_shape)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_regularizer=elastic_net(alpha, l1_ratio), dtype="float32",
        name="softmax"
    )(features)
    return keras.Model(inputs, outputs, name=name)
