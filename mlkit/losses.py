"""Custom Keras losses that Keras itself does not provide: weighted squared errors (XPS), and the
style-transfer losses (Gram matrix, style, content, total variation)."""

import keras
from keras import ops


class _WeightedSquaredError(keras.losses.Loss):
    """`Σ_i w_i² (t_i − y_i)²` over the last axis, w the target or the prediction (subclasses say which)."""

    weight_by_prediction = False

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        weight = y_pred if self.weight_by_prediction else y_true
        return ops.sum(ops.square(weight) * ops.square(y_true - y_pred), axis=-1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="mlkit")
class TargetWeightedSquaredError(_WeightedSquaredError):
    """`Σ_i t_i² (t_i − y_i)²` over the last axis: the XPS quantification loss of the notes.

    Weighting by the squared target makes errors on the abundant elements count most
    and ignores absent ones directly (a sum-to-one output still penalises them).
    """

    def __init__(self, name="target_weighted_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@keras.saving.register_keras_serializable(package="mlkit")
class PredictionWeightedSquaredError(_WeightedSquaredError):
    """`Σ_i y_i² (y_i − t_i)²` over the last axis: Drera et al. (2020)'s loss, weighted by the squared
    prediction (the notes weight by the target, `TargetWeightedSquaredError`).

    Weighting by the prediction penalises confident wrong elements (false positives) hardest.
    """

    weight_by_prediction = True

    def __init__(self, name="prediction_weighted_squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


# Style transfer (Gatys et al. 2016; SPEC §10). Features are (height, width, channels) maps, with or
# without a leading batch axis, as Keras convolutions give them.

def gram_matrix(features):
    """G = F Fᵀ with F the feature map reshaped to C × HW (unnormalised, as in Gatys et al.).

    (H, W, C) → (C, C); a batch (B, H, W, C) → (B, C, C).
    """
    features = ops.convert_to_tensor(features)
    if len(features.shape) not in (3, 4):
        raise ValueError(f"`features` must be (height, width, channels) or a batch of them, got shape "
                         f"{tuple(features.shape)}.")
    channels = features.shape[-1]
    shape = (-1, channels) if len(features.shape) == 3 else (ops.shape(features)[0], -1, channels)
    flat = ops.reshape(features, shape)
    return ops.matmul(ops.swapaxes(flat, -1, -2), flat)


def style_layer_loss(features, target_gram):
    """Gatys et al.'s E_l = 1/(4 N_l² M_l²) Σ (G − A)², N_l channels, M_l = height × width.

    `features` are the generated image's (H, W, C) maps, `target_gram` the style image's Gram
    matrix A (C × C). A batch of feature maps gives one E_l per image.
    """
    features = ops.convert_to_tensor(features)
    channels = features.shape[-1]
    positions = features.shape[-3] * features.shape[-2]
    gram = gram_matrix(features)
    scale = 4.0 * float(channels) ** 2 * float(positions) ** 2
    return ops.sum(ops.square(gram - ops.cast(target_gram, gram.dtype)), axis=(-2, -1)) / scale


def content_loss(features, target):
    """½ Σ (F − P)² over the feature map (per image for a batch)."""
    features = ops.convert_to_tensor(features)
    axes = tuple(range(-3, 0)) if len(features.shape) >= 3 else None
    return 0.5 * ops.sum(ops.square(features - ops.cast(target, features.dtype)), axis=axes)


def total_variation_loss(images, beta=2.0):
    """Σ_ij ((x_{i,j+1} − x_ij)² + (x_{i+1,j} − x_ij)²)^(β/2) over (H, W, C) images (per image).

    Mahendran & Vedaldi's regulariser: β = 2 is the squared-gradient penalty, β = 1 total variation
    proper. The sum runs over the (H − 1) × (W − 1) positions that have both neighbours.
    """
    images = ops.convert_to_tensor(images)
    if len(images.shape) not in (3, 4):
        raise ValueError(f"`images` must be (height, width, channels) or a batch of them, got shape "
                         f"{tuple(images.shape)}.")
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
        raise ValueError(f"`beta` must be a positive number, got {beta!r}.")
    right = images[..., :-1, 1:, :] - images[..., :-1, :-1, :]
    down = images[..., 1:, :-1, :] - images[..., :-1, :-1, :]
    squared = ops.square(right) + ops.square(down)
    # β = 2 needs no power; other β get a tiny floor so the gradient of the root exists at 0.
    terms = squared if beta == 2 else ops.power(squared + 1e-8, beta / 2.0)
    return ops.sum(terms, axis=(-3, -2, -1))


@keras.saving.register_keras_serializable(package="mlkit")
class GramStyleLoss(keras.losses.Loss):
    """E_l of Gatys et al. as a Keras loss: `y_true` the style image's feature map (or maps, batched),
    `y_pred` the generated one's; their Gram matrices are compared."""

    def __init__(self, name="gram_style_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        return style_layer_loss(y_pred, gram_matrix(ops.cast(y_true, y_pred.dtype)))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="mlkit")
class ContentLoss(keras.losses.Loss):
    """½ Σ (F − P)² per image as a Keras loss: `y_true` the content features P, `y_pred` F."""

    def __init__(self, name="content_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return content_loss(y_pred, y_true)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}
