"""Feature extractors for style transfer and feature inversion (SPEC §10; Gatys et al. 2016).

`style_features(network, layers, weights, pooling)` returns a frozen model that maps RGB images with
pixel values 0–255 (any size) to a dict {layer name: feature map}:

- "vgg19" / "vgg16": keras.applications' VGG convolutions, cut after the deepest chosen layer, with
  the caffe preprocessing inside the model (`CaffePreprocessing`). Gatys et al. replace max pooling
  with average pooling (`pooling="avg"`, the default). `weights="imagenet"` uses the real pretrained
  weights (Keras cache, or downloaded once), a path loads a local weights file, None leaves the
  network randomly initialised from `seed`.
- "random_multiscale": the offline option. One layer of random convolution filters of several sizes
  (3, 5, 9, 15 px; 64 each, He-normal from `seed`, ReLU), not trained: Ustyuzhaninov et al. (2017)
  show that such a layer already synthesises textures. Their largest filters (up to 55 px) cost too
  much on a CPU. Pooled image pyramids instead of large filters were tried: their gradients are
  blocky and leave a grid in the image. Content comes from "kernel_15_pool4", the 15-px features
  averaged over 4×4 blocks: a content layer that keeps the layout but not the pixels, as conv4_2 does
  in VGG. With a full-resolution content layer (nearly invertible: feature inversion gets 47 dB back)
  the content term pinned every pixel and only the colours moved.

Not a registered builder: the model has no trainable weights and nothing to fit; it is rebuilt from
these arguments wherever it is needed.
"""

import os
from pathlib import Path

import keras

from mlkit.layers import CaffePreprocessing
from mlkit.validation import check_choice, check_positive_int, check_units

NETWORKS = ("vgg19", "vgg16", "random_multiscale")
POOLINGS = ("avg", "max")
# Gatys et al.: style from conv1_1 … conv5_1 (equal weights), content from conv4_2.
VGG_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
DEFAULT_LAYERS = {
    "vgg19": {"style": VGG_STYLE_LAYERS, "content": ("block4_conv2",)},
    "vgg16": {"style": VGG_STYLE_LAYERS, "content": ("block4_conv2",)},
    "random_multiscale": {"style": ("kernel_3", "kernel_5", "kernel_9", "kernel_15"),
                          "content": ("kernel_15_pool4",)},
}
CONTENT_POOL = 4
# Shallow to deep, for feature inversion (the last convolution of each block).
INVERSION_LAYERS = {
    "vgg19": ("block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4", "block5_conv4"),
    "vgg16": ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"),
    "random_multiscale": ("kernel_3", "kernel_9", "kernel_15", "kernel_15_pool4"),
}
_VGG = {"vgg19": ("VGG19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        "vgg16": ("VGG16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")}
_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/{folder}/{file}"


def style_features(network="vgg19", layers=None, weights="imagenet", pooling="avg", seed=0, filters=64,
                   kernel_sizes=(3, 5, 9, 15)):
    """A frozen model: RGB images (0–255) → {layer: features} (see the module docstring).

    Args:
        network: "vgg19", "vgg16" or "random_multiscale".
        layers: layer names to output; default the network's style and content layers.
        weights: VGG only: "imagenet", a local weights file (.h5), or None (random, from `seed`).
        pooling: VGG only: "avg" (Gatys et al.) or "max" (the network as trained).
        seed: the random filters' seed (random_multiscale, or VGG with weights=None).
        filters, kernel_sizes: random_multiscale only: filters of each size, and the sizes (one
            output layer "kernel_<size>" each, and "kernel_<largest>_pool4" for content).
    """
    network = check_choice("network", network, NETWORKS)
    pooling = check_choice("pooling", pooling, POOLINGS)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
    if network == "random_multiscale":
        if weights not in (None, "imagenet", "random"):
            raise ValueError("`weights` applies to the VGG networks; random_multiscale has random filters only "
                             f"(got {weights!r}).")
        return _random_multiscale(layers, seed, check_positive_int("filters", filters),
                                  check_units("kernel_sizes", kernel_sizes))
    return _vgg(network, layers, weights, pooling, seed)


def default_layers(network):
    """{"style": (...), "content": (...)} of a network."""
    return DEFAULT_LAYERS[check_choice("network", network, NETWORKS)]


def minimum_image_size(model):
    """The smallest height and width the model's outputs are defined for (its total downsampling)."""
    return int(model.minimum_image_size)


def _check_layers(layers, available, network):
    if isinstance(layers, str) or not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"`layers` must be a non-empty list of layer names, got {layers!r}.")
    unknown = [name for name in layers if name not in available]
    if unknown:
        raise ValueError(f"`layers` {unknown} are not in {network}; choose from {', '.join(available)}.")
    return list(dict.fromkeys(layers))


def _all_default_layers(network):
    return list(dict.fromkeys(DEFAULT_LAYERS[network]["style"] + DEFAULT_LAYERS[network]["content"]))


def _vgg(network, layers, weights, pooling, seed):
    application, file_name = _VGG[network]
    constructor = getattr(keras.applications, application)
    base = constructor(include_top=False, weights=_resolve_weights(network, weights, file_name, constructor),
                       input_shape=(None, None, 3))
    convolutions = [layer.name for layer in base.layers if isinstance(layer, keras.layers.Conv2D)]
    layers = _check_layers(_all_default_layers(network) if layers is None else layers, convolutions, network)
    if weights is None:  # keras.applications draws from the global seed; make it this seed's
        for index, layer in enumerate(base.layers):
            if isinstance(layer, keras.layers.Conv2D):
                layer.kernel.assign(keras.initializers.GlorotUniform(seed=seed + index)(layer.kernel.shape))

    inputs = keras.Input((None, None, 3), name="image")
    x = CaffePreprocessing(name="caffe_preprocessing")(inputs)
    outputs, downsampling, deepest = {}, 1, max(convolutions.index(name) for name in layers)
    for layer in base.layers[1:]:
        if isinstance(layer, keras.layers.MaxPooling2D):
            pool = keras.layers.AveragePooling2D if pooling == "avg" else keras.layers.MaxPooling2D
            x = pool(2, name=layer.name)(x)
            downsampling *= 2
            continue
        x = layer(x)
        if layer.name in layers:
            outputs[layer.name] = x
        if convolutions.index(layer.name) == deepest:
            break
    model = keras.Model(inputs, {name: outputs[name] for name in layers}, name=f"{network}_features")
    model.trainable = False
    model.minimum_image_size = downsampling
    return model


def _resolve_weights(network, weights, file_name, constructor):
    if weights is None or weights == "random":
        return None
    if weights != "imagenet":
        path = Path(os.fspath(weights)).expanduser()
        if not path.is_file():
            raise ValueError(f"`weights` file {path} does not exist.")
        if not str(path).endswith(".h5"):
            raise ValueError(f"`weights` must be a Keras .h5 weights file ({file_name}), got {path.name}.")
        return str(path)
    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models" / file_name
    if cached.is_file():
        return "imagenet"
    try:  # downloaded once into the Keras cache
        constructor(include_top=False, weights="imagenet", input_shape=(None, None, 3))
    except Exception:  # noqa: BLE001  (keras raises a bare Exception for a failed download)
        url = _WEIGHTS_URL.format(folder=network, file=file_name)
        raise ValueError(f"ImageNet weights for {network} are not in the Keras cache and cannot be downloaded "
                         f"(offline?): fetch {url} on a machine with network and put it at {cached}, pass its path "
                         f"as the weights (--weights), or use the offline features (random_multiscale).") from None
    return "imagenet"


def _random_multiscale(layers, seed, filters, kernel_sizes):
    kernel_sizes = tuple(sorted(set(kernel_sizes)))
    pooled = f"kernel_{kernel_sizes[-1]}_pool{CONTENT_POOL}"
    available = [f"kernel_{size}" for size in kernel_sizes] + [pooled]
    layers = _check_layers(available[:-1] if layers is None else layers, available, "random_multiscale")
    inputs = keras.Input((None, None, 3), name="image")
    # VGG's input scale (pixels minus the mean, not rescaled) keeps the feature magnitudes, and so the
    # meaning of α/β, close to those of VGG with ImageNet weights.
    x = CaffePreprocessing(name="caffe_preprocessing")(inputs)
    outputs = {}
    for index, size in enumerate(kernel_sizes):
        name = f"kernel_{size}"
        if name in layers or (pooled in layers and size == kernel_sizes[-1]):
            outputs[name] = keras.layers.Conv2D(
                filters, size, padding="same", activation="relu", name=name,
                kernel_initializer=keras.initializers.HeNormal(seed=seed + index))(x)
    if pooled in layers:
        largest = outputs[f"kernel_{kernel_sizes[-1]}"]
        outputs[pooled] = keras.layers.AveragePooling2D(CONTENT_POOL, name=pooled)(largest)
    model = keras.Model(inputs, {name: outputs[name] for name in layers}, name="random_multiscale_features")
    model.trainable = False
    model.minimum_image_size = CONTENT_POOL if pooled in layers else 1
    return model


def describe_features(network, weights="imagenet"):
    """What a report says about the features used (which network, which weights)."""
    if network == "random_multiscale":
        return "random_multiscale: random filters of 3-15 px, not trained (offline option; Ustyuzhaninov et al. 2017)"
    if weights in (None, "random"):
        return f"{network} with random weights (not trained)"
    if weights == "imagenet":
        return f"{network} with ImageNet weights"
    return f"{network} with weights from {weights}"
