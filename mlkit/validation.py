"""Argument checks shared by the builders: one clear ValueError each."""

import numbers


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def check_rate(name, value, upper_inclusive=False):
    """A fraction in [0, 1) (or [0, 1] with `upper_inclusive`)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value
    ok = ok and (value <= 1 if upper_inclusive else value < 1)
    if not ok:
        bound = "]" if upper_inclusive else ")"
        raise ValueError(f"`{name}` must be a number in [0, 1{bound}, got {value!r}.")
    return float(value)


def check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative number, got {value!r}.")
    return float(value)


def check_shape(name, value):
    """An input shape without the batch axis: an int or a sequence of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"`{name}` must be a non-empty tuple of positive integers, got {value!r}.")
    return tuple(check_positive_int(name, dimension) for dimension in value)


def check_units(name, value):
    """A sequence of layer widths (may be empty)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"`{name}` must be a sequence of positive integers, got {value!r}.")
    return tuple(check_positive_int(name, units) for units in value)


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_vector(name, value, length):
    """Optional per-feature statistics (mean, variance) of a given length."""
    if value is None:
        return None
    try:
        vector = [float(item) for item in value]
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a sequence of {length} numbers, got {value!r}.") from None
    if len(vector) != length:
        raise ValueError(f"`{name}` must have {length} entries, got {len(vector)}.")
    return vector


def check_image_shape(name, value, allow_unknown_size=False):
    """(height, width, channels); with `allow_unknown_size`, height and width may be None."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ValueError(f"`{name}` must be (height, width, channels), got {value!r}.")
    height, width, channels = value
    sizes = []
    for size in (height, width):
        if size is None and allow_unknown_size:
            sizes.append(None)
        else:
            sizes.append(check_positive_int(name, size))
    return (*sizes, check_positive_int(name, channels))


def check_int_choice(name, value, choices):
    """An integer from `choices` (e.g. a network depth)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(str, choices))}; got {value!r}.")
    return int(value)
