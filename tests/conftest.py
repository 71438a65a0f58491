import os
import subprocess
import sys
import textwrap

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


# For scripts run by `run_python` (which import os, signal, sys and keras): a callback that prints each
# epoch and kills the process with SIGKILL at the start of epoch int(sys.argv[2]) (-1: never).
KILL_AT_EPOCH = """
class Kill(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        print("epoch", epoch, flush=True)
        if epoch == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
"""


def run_python(code, *args, timeout=300, env=None):
    """Run `code` in a fresh Python process (fresh TensorFlow runtime); return the result."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def kill_then_resume(script, directory, kill_epoch, *args):
    """Run a script with KILL_AT_EPOCH killed at `kill_epoch`, then again to its end; check that the
    first run died there and that the second resumed from that epoch. Returns the second's stdout lines."""
    killed = run_python(script, directory, kill_epoch, *args)
    expected = " ".join(f"epoch {epoch}" for epoch in range(kill_epoch + 1))
    assert killed.returncode == -9 and " ".join(killed.stdout.split()) == expected, killed.stderr[-3000:]
    resumed = run_python(script, directory, -1, *args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    lines = resumed.stdout.strip().split("\n")
    assert lines[0] == f"epoch {kill_epoch}", lines
    return lines


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
