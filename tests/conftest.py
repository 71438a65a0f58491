import os
import subprocess
import sys
import textwrap

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


def run_python(code, *args, timeout=300, env=None):
    """Run `code` in a fresh Python process (fresh TensorFlow runtime); return the result."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def run_cli(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "mlkit_cli", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(autouse=True)
def float32_policy():
    """Every test starts and ends with float32 layers, whatever a failed mixed precision run left."""
    import keras

    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def fresh_python():
    return run_python
