import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mlkit")
class MajorityVote(keras.layers.Layer):
    """Hard voting over classifiers' outputs: the share of members voting for each class.

    Inputs: a list of (batch, classes) probabilities (each member's vote is its argmax) or of
    (batch, 1) sigmoid outputs (a vote for 1 when ≥ 0.5). Output: (batch, classes) vote shares,
    (batch, 1) for sigmoid members; its argmax (or ≥ 0.5) is the majority's class. Keras has only
    averaging layers; a Lambda would not load in safe mode.
    """

    def call(self, inputs):
        stacked = ops.stack(inputs, axis=0)
        if stacked.shape[-1] == 1:
            return ops.mean(ops.cast(stacked >= 0.5, stacked.dtype), axis=0)
        votes = ops.one_hot(ops.argmax(stacked, axis=-1), stacked.shape[-1], dtype=stacked.dtype)
        return ops.mean(votes, axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
