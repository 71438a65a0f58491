import keras
from keras import ops

# The ImageNet channel means that keras.applications' VGG weights were trained with (BGR order).
IMAGENET_BGR_MEANS = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="mlkit")
class CaffePreprocessing(keras.layers.Layer):
    """RGB pixels in 0–255 → the "caffe" input of VGG weights: BGR order, ImageNet means subtracted.

    `keras.applications.vgg19.preprocess_input` does this outside the model; inside it, the
    optimised image stays in pixel space (style transfer clips it to 0–255 and saves it as is) and a
    saved feature extractor takes plain RGB. A Lambda would not load in safe mode.
    """

    def __init__(self, means=IMAGENET_BGR_MEANS, **kwargs):
        super().__init__(**kwargs)
        means = tuple(float(mean) for mean in means)
        if len(means) != 3:
            raise ValueError(f"`means` must be three BGR channel means, got {means!r}.")
        self.means = means

    def call(self, inputs):
        bgr = ops.flip(inputs, axis=-1)
        return bgr - ops.convert_to_tensor(self.means, dtype=bgr.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "means": list(self.means)}
