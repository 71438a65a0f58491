"""Custom Keras layers that Keras itself does not provide, and the image-augmentation layer factory."""

from mlkit.layers.augmentation import AUGMENTATION_KEYS, augmentation_layers
from mlkit.layers.caffe_preprocessing import CaffePreprocessing
from mlkit.layers.corruption import CORRUPTIONS, MaskingNoise, corruption_layer
from mlkit.layers.dense_transpose import DenseTranspose
from mlkit.layers.identity_shortcut import IdentityShortcut
from mlkit.layers.kl_sparsity import KLSparsity, kl_sparsity_penalty
from mlkit.layers.majority_vote import MajorityVote
from mlkit.layers.maxout import Maxout
from mlkit.layers.measured_mask import MeasuredMask
from mlkit.layers.peephole_lstm_cell import PeepholeLSTMCell
from mlkit.layers.polynomial_features import PolynomialFeatures
from mlkit.layers.sum_normalization import SumNormalization

__all__ = ["AUGMENTATION_KEYS", "CORRUPTIONS", "CaffePreprocessing", "DenseTranspose", "IdentityShortcut", "KLSparsity", "MajorityVote", "MaskingNoise", "Maxout", "PeepholeLSTMCell", "MeasuredMask", "PolynomialFeatures", "SumNormalization", "augmentation_layers",
           "corruption_layer", "kl_sparsity_penalty"]
