"""1-D CNNs for XPS survey-spectrum quantification (SPEC §4, Drera et al. 2020).

Every variant takes a (points,) spectrum and returns a dict of outputs: "composition" — 80
atomic fractions summing to 1 —, unless `predict_thickness` is False "thickness" — the carbon
overlayer thickness in Å (sigmoid × thickness_max) —, and with `predict_presence` "presence" —
per element the probability that it is present at ≥ 1 at.%.
"""

import math

import keras

from mlkit.layers import MeasuredMask, SumNormalization
from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_positive_int, check_rate, check_units, check_vector

VARIANTS = ("seeded", "multi_kernel", "drera", "deep")
COMPOSITION_ACTIVATIONS = ("softmax", "normalized_sigmoid", "normalized_softplus")
SEEDED_KERNEL_SIZES = (41,)
MULTI_KERNEL_SIZES = (7, 11, 21, 41, 81)
DRERA_KERNEL_SIZES = (11, 21, 41)
DEEP_KERNEL_SIZES = (9,)
DEEP_BLOCK_FILTERS = (32, 32, 32)


@register_builder
def xps_cnn(
    points=2000,
    classes=80,
    variant="multi_kernel",
    filters=1,
    kernel_sizes=None,
    merge_filters=4,
    merge_kernel_size=5,
    pool_size=4,
    block_filters=DEEP_BLOCK_FILTERS,
    denoising_units=0,
    hidden_units=(256,),
    thickness_units=100,
    dropout=0.2,
    head_dropout=0.5,
    composition_activation="softmax",
    predict_thickness=True,
    predict_presence=False,
    nuisances=0,
    thickness_max=40.0,
    element_sensitivities=None,
    mask_channel=True,
    name="xps_cnn",
):
    """XPS quantification network.

    "seeded" is the layout of the notes: Conv1D(filters=1, kernel 41, same, ReLU) →
    AveragePooling1D(4) → Dropout(0.2) → Dense `hidden_units` → 80 (the kernel is
    kernel_sizes[0]; `kernel_sizes` defaults to (41,) for this variant).

    "multi_kernel" is the lab's later variant: optional Dense(`denoising_units`)
    denoising layer → parallel Conv1D with `kernel_sizes` (default 7, 11, 21, 41, 81; same, ReLU, `filters` each)
    → concatenate → Conv1D(`merge_filters`, `merge_kernel_size`) → AveragePooling1D →
    heads: thickness (Dense `thickness_units` → Dropout(head_dropout) → Dense 1
    sigmoid × thickness_max) and composition (Dense `hidden_units` → Dropout(head_dropout)
    → Dense 80 → softmax, or sigmoid or softplus scores renormalised to sum 1).

    "drera" is Drera et al. (2020)'s layout: kernels 11/21/41 → concatenate → Conv1D(4) →
    AveragePooling1D(4) → Dense → Dropout → 80 sigmoid → sum to one, with the thickness output
    fed into the composition branch (their paper: one Dense of 2000 units, dropout 0.15; pass
    hidden_units=(2000,), head_dropout=0.15, composition_activation="normalized_sigmoid").

    "deep" stacks convolutions instead of widening one layer: Conv1D(`filters`, kernel_sizes[0],
    default 9) on the full grid, then per entry of `block_filters` AveragePooling1D(2) → Conv1D(that
    many, `merge_kernel_size`), then AveragePooling1D(2); heads as in "drera" (thickness fed into the
    composition branch). Each level halves the grid, so with three levels the last convolution's taps
    are 8 bins apart and it reads some 40 bins around each position (24 eV on the recipe's grid) at a
    fraction of the first layer's cost: a nonlinear reading of each peak against its own background,
    which one convolution layer of 2–4 filters cannot give.

    `predict_presence` adds a presence head (Dense `classes` sigmoid on the composition branch's last
    hidden layer), trained with binary cross-entropy on "present at ≥ 1 at.%": the detection decision,
    apart from the fractions (see `mlkit.xps.metrics.reported_composition`).

    `nuisances` > 0 adds a "nuisances" output of that many sigmoid values (Dense `thickness_units` →
    Dropout(head_dropout) → Dense `nuisances`, beside the thickness head): the instrument and
    background parameters scaled to [0, 1] over their ranges (`XPSSimulator.nuisance_targets`,
    trained with mean squared error). They start the full-spectrum fit (`mlkit.xps.refinement`),
    whose answer depends on the basin it starts in.

    `element_sensitivities` (one positive number per class: an element's signal per unit atomic
    fraction, e.g. `XPSSimulator.element_sensitivities()`) makes the normalised scores intensities:
    each is divided by its element's sensitivity before the sum-to-one, so the network reads out
    what the spectrum shows and a fixed factor turns it into atoms (Drera et al.'s intensity
    fractions y_i = q_i·T_i / Σ q_j·T_j, converted back inside the model).

    With `mask_channel` (the default), bins the scan did not measure arrive as −1
    (`mlkit.xps.preparation.UNMEASURED`) and the convolutions see two channels: the measured
    counts and a measured/unmeasured mask, so any sensible energy window can be answered.
    """
    points = check_positive_int("points", points)
    classes = check_positive_int("classes", classes)
    variant = check_choice("variant", variant, VARIANTS)
    filters = check_positive_int("filters", filters)
    if kernel_sizes is None:
        kernel_sizes = {"seeded": SEEDED_KERNEL_SIZES, "multi_kernel": MULTI_KERNEL_SIZES,
                        "drera": DRERA_KERNEL_SIZES, "deep": DEEP_KERNEL_SIZES}[variant]
    kernel_sizes = check_units("kernel_sizes", kernel_sizes)
    if not kernel_sizes:
        raise ValueError("`kernel_sizes` must name at least one kernel size.")
    merge_filters = check_positive_int("merge_filters", merge_filters)
    merge_kernel_size = check_positive_int("merge_kernel_size", merge_kernel_size)
    pool_size = check_positive_int("pool_size", pool_size)
    block_filters = check_units("block_filters", block_filters)
    if variant == "deep" and points < 2 ** (len(block_filters) + 1):
        raise ValueError(f"`points` ({points}) is too short for {len(block_filters)} `block_filters` levels "
                         f"(each halves the grid).")
    if denoising_units != 0:
        denoising_units = check_positive_int("denoising_units", denoising_units)
    hidden_units = check_units("hidden_units", hidden_units)
    thickness_units = check_positive_int("thickness_units", thickness_units)
    dropout = check_rate("dropout", dropout)
    head_dropout = check_rate("head_dropout", head_dropout)
    composition_activation = check_choice("composition_activation", composition_activation, COMPOSITION_ACTIVATIONS)
    if not (isinstance(thickness_max, (int, float)) and thickness_max > 0):
        raise ValueError(f"`thickness_max` must be a positive number, got {thickness_max!r}.")
    if nuisances != 0:
        nuisances = check_positive_int("nuisances", nuisances)
    if not isinstance(predict_presence, bool):
        raise ValueError(f"`predict_presence` must be True or False, got {predict_presence!r}.")
    element_sensitivities = check_vector("element_sensitivities", element_sensitivities, classes)
    if element_sensitivities is not None:
        if not all(v > 0 and math.isfinite(v) for v in element_sensitivities):
            raise ValueError(f"`element_sensitivities` must be {classes} positive numbers, one per class.")
        if composition_activation == "softmax":
            raise ValueError("`element_sensitivities` needs a normalised composition_activation, not softmax.")
    if pool_size > points:
        raise ValueError(f"`pool_size` ({pool_size}) cannot exceed `points` ({points}).")

    spectrum = keras.Input(shape=(points,), name="spectrum")
    channels = 2 if mask_channel else 1
    x = MeasuredMask(name="measured_mask")(spectrum) if mask_channel else spectrum
    if variant != "seeded" and denoising_units:
        x = keras.layers.Flatten(name="denoising_input")(x) if mask_channel else x
        x = keras.layers.Dense(denoising_units, activation="relu", name="denoising")(x)
        channels = 1
    length = denoising_units if (variant != "seeded" and denoising_units) else points
    x = keras.layers.Reshape((length, channels), name="channels")(x)
    if variant in ("seeded", "deep"):
        x = keras.layers.Conv1D(filters, kernel_sizes[0], padding="same", activation="relu", name="conv")(x)
    else:
        branches = [
            keras.layers.Conv1D(filters, size, padding="same", activation="relu", name=f"conv_k{size}")(x)
            for size in kernel_sizes
        ]
        x = keras.layers.Concatenate(name="concatenate")(branches) if len(branches) > 1 else branches[0]
        x = keras.layers.Conv1D(merge_filters, merge_kernel_size, padding="same", activation="relu",
                                name="merge_conv")(x)
    if variant == "deep":
        for index, width in enumerate(block_filters):
            x = keras.layers.AveragePooling1D(2, name=f"block{index + 1}_pool")(x)
            x = keras.layers.Conv1D(width, merge_kernel_size, padding="same", activation="relu",
                                    name=f"block{index + 1}_conv")(x)
    final_pool = 2 if variant == "deep" else pool_size
    x = keras.layers.AveragePooling1D(final_pool, strides=final_pool, name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    features = keras.layers.Flatten(name="flatten")(x)

    outputs = {}
    if predict_thickness:
        thickness = keras.layers.Dense(thickness_units, activation="relu", name="thickness_dense")(features)
        thickness = keras.layers.Dropout(head_dropout, name="thickness_dropout")(thickness)
        thickness_fraction = keras.layers.Dense(1, activation="sigmoid", dtype="float32",
                                                name="thickness_fraction")(thickness)
        outputs["thickness"] = keras.layers.Rescaling(float(thickness_max), dtype="float32",
                                                      name="thickness")(thickness_fraction)
    if nuisances:  # its own hidden layer: on the thickness one it cost 0.8 Å of thickness (measured)
        read = keras.layers.Dense(thickness_units, activation="relu", name="nuisance_dense")(features)
        read = keras.layers.Dropout(head_dropout, name="nuisance_dropout")(read)
        outputs["nuisances"] = keras.layers.Dense(nuisances, activation="sigmoid", dtype="float32",
                                                  name="nuisances")(read)
    composition = features
    if variant in ("drera", "deep") and predict_thickness:  # the overlayer estimate informs the composition
        composition = keras.layers.Concatenate(name="features_and_thickness")([features, thickness_fraction])
    for index, units in enumerate(hidden_units):
        composition = keras.layers.Dense(units, activation="relu", name=f"composition_dense{index + 1}")(composition)
        if variant != "seeded":
            composition = keras.layers.Dropout(head_dropout, name=f"composition_dropout{index + 1}")(composition)
    if predict_presence:
        outputs["presence"] = keras.layers.Dense(classes, activation="sigmoid", dtype="float32",
                                                 name="presence")(composition)
    if composition_activation == "softmax":
        composition = keras.layers.Dense(classes, activation="softmax", dtype="float32", name="composition")(composition)
    else:  # sigmoid scores saturate at 1; softplus ones grow like a peak area, so their ratios stay linear
        activation = composition_activation.removeprefix("normalized_")
        composition = keras.layers.Dense(classes, activation=activation, dtype="float32",
                                         name="composition_scores")(composition)
        if element_sensitivities is not None:  # intensities → atoms
            composition = keras.layers.Rescaling([1.0 / v for v in element_sensitivities], dtype="float32",
                                                 name="per_sensitivity")(composition)
        composition = SumNormalization(dtype="float32", name="composition")(composition)
    outputs = {"composition": composition, **outputs}
    return keras.Model(spectrum, outputs, name=name)
