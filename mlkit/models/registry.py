"""Builder registry: every public builder records the arguments it was called with.

`model.builder_config` is a JSON-able dict `{"builder": name, "arguments": {...}}`;
`build(model.builder_config)` makes the same architecture again. Recipes write it
into their run directory's `config.json`.
"""

import functools
import inspect

_BUILDERS = {}


def register_builder(function):
    """Decorator: register `function` as a model builder under its own name."""
    name = function.__name__
    signature = inspect.signature(function)

    @functools.wraps(function)
    def builder(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise ValueError(f"{name}: {error}") from None
        bound.apply_defaults()
        model = function(*bound.args, **bound.kwargs)
        model.builder_config = {"builder": name, "arguments": _jsonable(dict(bound.arguments))}
        return model

    _BUILDERS[name] = builder
    return builder


def get_builder(name):
    if name not in _BUILDERS:
        raise ValueError(f"Unknown builder {name!r}; known builders: {', '.join(sorted(_BUILDERS))}.")
    return _BUILDERS[name]


def list_builders():
    return sorted(_BUILDERS)


def build(config):
    """Build a model from a `builder_config` dict."""
    if not isinstance(config, dict) or "builder" not in config:
        raise ValueError("A builder config is a dict with keys 'builder' and 'arguments'.")
    return get_builder(config["builder"])(**config.get("arguments", {}))


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
