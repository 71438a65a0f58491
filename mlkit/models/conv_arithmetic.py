"""Convolution arithmetic (SPEC §3): OH = (H + 2P − FH)/S + 1."""

import numbers

from mlkit.validation import check_positive_int

PADDINGS = ("valid", "same")


def conv_output_size(size, kernel_size, padding=0, strides=1, dilation_rate=1):
    """Output length along one axis of a convolution or pooling window.

    Args:
        size: input length H.
        kernel_size: window length F (FH in the notes).
        padding: zero padding P on each side as an int, or Keras' "valid" (P = 0)
            or "same" (output ⌈H/S⌉, whatever padding that takes).
        strides: step S.
        dilation_rate: spacing of the window taps; the effective window is
            (F − 1)·d + 1.

    Returns ⌊(H + 2P − F_eff)/S⌋ + 1 — the formula of the notes, floored as every
    framework does when the window does not fit a whole number of times.
    """
    for name, value in (("size", size), ("kernel_size", kernel_size), ("strides", strides),
                        ("dilation_rate", dilation_rate)):
        check_positive_int(name, value)
    if padding == "same":
        return -(-size // strides)
    if padding == "valid":
        padding = 0
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
        raise ValueError(f"`padding` must be a non-negative integer, 'valid' or 'same'; got {padding!r}.")
    window = (kernel_size - 1) * dilation_rate + 1
    if size + 2 * padding < window:
        raise ValueError(f"`kernel_size`: a window of {window} does not fit an input of {size} padded by {padding} "
                         "on each side.")
    return (size + 2 * padding - window) // strides + 1
