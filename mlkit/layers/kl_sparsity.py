import keras
from keras import ops

from mlkit.validation import check_non_negative


def kl_sparsity_penalty(activations, sparsity, weight, epsilon=1e-7):
    """`weight · Σ_j KL(ρ ‖ ρ̂_j)`, ρ̂_j the mean of unit j over the batch (activations in (0, 1))."""
    activations = ops.cast(activations, "float32")
    mean = ops.clip(ops.mean(ops.reshape(activations, (-1, activations.shape[-1])), axis=0), epsilon, 1 - epsilon)
    rho = sparsity
    divergence = rho * ops.log(rho / mean) + (1 - rho) * ops.log((1 - rho) / (1 - mean))
    return weight * ops.sum(divergence)


@keras.saving.register_keras_serializable(package="mlkit")
class KLSparsity(keras.layers.Layer):
    """Identity on its inputs that adds the sparse-autoencoder penalty `β Σ_j KL(ρ ‖ ρ̂_j)` as a layer loss.

    Keras has no such regulariser. It goes through `add_loss` rather than `activity_regularizer`:
    Keras changed how activity-regulariser losses are divided by the batch size (keras #22018), so
    the penalty's strength would depend on the Keras version; here ρ̂ is a batch mean by definition.

    Args:
        sparsity: the target mean activation ρ, in (0, 1); the activations must be in (0, 1)
            (sigmoid units).
        weight: β ≥ 0.
    """

    def __init__(self, sparsity=0.05, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not 0 < sparsity < 1:
            raise ValueError(f"`sparsity` (ρ) must be a number in (0, 1), got {sparsity!r}.")
        self.sparsity = float(sparsity)
        self.weight = check_non_negative("weight", weight)

    def call(self, inputs):
        self.add_loss(kl_sparsity_penalty(inputs, self.sparsity, self.weight))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "sparsity": self.sparsity, "weight": self.weight}
