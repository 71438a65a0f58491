"""Splitting and scaling small datasets (SPEC §2): splits by ratio, k-fold, z-score or min-max scaling
inside the model (so that exported models take raw inputs)."""

import numbers

import numpy as np

from mlkit.validation import check_choice, check_positive_int

SCALINGS = ("zscore", "minmax")


def split_by_ratio(num_examples, ratios=(0.7, 0.3), seed=0):
    """Shuffled, disjoint index arrays covering range(num_examples), sized by `ratios` (summing to 1),
    e.g. (0.7, 0.3) for train/test or (0.5, 0.3, 0.2) for train/validation/test. Rounding leftovers
    go to the first part."""
    num_examples = check_positive_int("num_examples", num_examples)
    if (not isinstance(ratios, (list, tuple)) or len(ratios) < 2
            or any(isinstance(r, bool) or not isinstance(r, numbers.Real) or not r > 0 for r in ratios)
            or abs(sum(ratios) - 1) > 1e-9):
        raise ValueError(f"`ratios` must be two or more positive fractions summing to 1, got {ratios!r}.")
    sizes = [int(np.floor(ratio * num_examples)) for ratio in ratios]
    sizes[0] += num_examples - sum(sizes)
    if min(sizes) < 1:
        raise ValueError(f"{num_examples} examples are too few to split by {ratios}: a part would be empty.")
    order = np.random.default_rng(seed).permutation(num_examples)
    return np.split(order, np.cumsum(sizes)[:-1])


def kfold_indices(num_examples, folds=5, seed=0):
    """[(train indices, validation indices)] of k-fold cross-validation (scikit-learn's KFold, shuffled
    with `seed`): every example is validated exactly once."""
    from sklearn.model_selection import KFold

    num_examples = check_positive_int("num_examples", num_examples)
    folds = check_positive_int("folds", folds)
    if not 2 <= folds <= num_examples:
        raise ValueError(f"`folds` must be between 2 and the number of examples ({num_examples}), got {folds}.")
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.arange(num_examples)))


def scaling_layer(data, method="zscore", name=None):
    """A `keras.layers.Normalization` adapted to `data` (examples × features), to put first in a model.

    "zscore": (x − mean) / std per feature; "minmax": (x − min) / (max − min), the same layer with the
    minimum as its mean and the squared range as its variance. Constant features are left centred
    (variance 1). It is a built-in Keras layer, so the model saves, loads and exports as usual.
    """
    import keras

    method = check_choice("method", method, SCALINGS)
    values = np.asarray(data, dtype="float64")
    if values.ndim != 2 or not len(values) or not np.isfinite(values).all():
        raise ValueError(f"`data` must be a finite 2-D array (examples × features), got shape {values.shape}.")
    if method == "zscore":
        centre, variance = values.mean(axis=0), values.var(axis=0)
    else:
        centre, variance = values.min(axis=0), (values.max(axis=0) - values.min(axis=0)) ** 2
    variance = np.where(variance > 0, variance, 1.0)
    return keras.layers.Normalization(mean=centre.tolist(), variance=variance.tolist(), name=name or method)
