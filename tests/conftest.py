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
def no_leaked_precision_policy():
    """A test that leaves Keras' global dtype policy changed fails: start_run and the helpers that
    set a policy must restore it themselves (nothing here papers over a leak)."""
    import keras

    yield
    leaked = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("float32")  # so that one leak does not fail the tests after it
    assert leaked == "float32", f"the test left the global dtype policy at {leaked}"


@pytest.fixture
def fresh_python():
    return run_python
