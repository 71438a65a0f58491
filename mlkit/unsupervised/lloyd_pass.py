"""One Lloyd pass over the points: nearest centroid, squared distance, and the
per-cluster sums and counts of the update step.

For float32 points on the CPU this runs `lloyd_pass.cc`, a fused TensorFlow custom op
that reads each point once; it is compiled at install (`python -m
mlkit.unsupervised.build_lloyd_pass`, called by `make install`). Without a C++
compiler or AVX-512, for float64, or for tensors on a GPU/TPU, the same outputs come
from an XLA-compiled step.

    labels, distances, sums, counts, inertia = lloyd_pass(points, centroids)
"""

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import tensorflow as tf

SOURCE = Path(__file__).with_name("lloyd_pass.cc")
KERNELS = ("auto", "native", "xla")

# -mno-avx512fp16: Eigen's AVX512-FP16 header in TensorFlow 2.21 does not compile with
# GCC 12; compilers that do not know the flag get the second set.
_FLAG_SETS = (
    ["-O3", "-march=native", "-mno-avx512fp16"],
    ["-O3", "-march=native"],
)


def library_path():
    """The built library for this source and this TensorFlow (stale builds never load)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    return SOURCE.with_name(f"_lloyd_pass-tf{tf.__version__}-{digest}.so")


def find_compiler():
    return shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++")


def build(compiler=None):
    """Compile the op next to its source (atomically); returns the library path."""
    compiler = compiler or find_compiler()
    if compiler is None:
        raise RuntimeError("No C++ compiler found (set CXX or install g++).")
    target = library_path()
    message = "(no message)"
    for flags in _FLAG_SETS:
        handle, partial = tempfile.mkstemp(prefix=".building-", suffix=".so", dir=target.parent)
        os.close(handle)
        command = [compiler, "-shared", "-fPIC", *flags, "-w", *tf.sysconfig.get_compile_flags(), str(SOURCE),
                   "-o", partial, *tf.sysconfig.get_link_flags()]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode == 0:
            os.replace(partial, target)
            for stale in target.parent.glob("_lloyd_pass-*.so"):
                if stale != target:
                    stale.unlink()
            load_library.cache_clear()
            return target
        os.unlink(partial)
        lines = result.stderr.strip().splitlines()
        message = next((line for line in lines if "error" in line), lines[-1] if lines else message)
    raise RuntimeError(f"Compiling {SOURCE.name} failed: {message}")


@functools.cache
def load_library():
    """The op module, or None when it is not built (or does not load here)."""
    path = library_path()
    if not path.exists():
        return None
    try:
        return tf.load_op_library(str(path))
    except (tf.errors.NotFoundError, OSError) as error:
        warnings.warn(f"{path.name} did not load ({error}); KMeans uses the XLA step.", stacklevel=2)
        return None


def kernel_for(points, kernel="auto"):
    """"native" (the compiled op) or "xla", for these points."""
    if kernel not in KERNELS:
        raise ValueError(f"`kernel` must be one of {KERNELS}, got {kernel!r}.")
    on_cpu = "CPU" in (points.device or "/CPU:0").upper()
    native = load_library() is not None and on_cpu and points.dtype == tf.float32
    if kernel == "native" and not native:
        raise ValueError("The native Lloyd op is not available (not built, or the points are not float32 on the CPU).")
    if kernel == "auto":
        return "native" if native else "xla"
    return kernel


@tf.function(jit_compile=True, reduce_retracing=True)
def _xla_pass(points, centroids):
    clusters = tf.shape(centroids)[0]
    # ||x||² does not change the argmin; it is added back for the distances only.
    partial = tf.reduce_sum(tf.square(centroids), axis=1) - 2.0 * tf.matmul(points, centroids, transpose_b=True)
    labels = tf.argmin(partial, axis=1, output_type=tf.int32)
    distances = tf.maximum(tf.reduce_sum(tf.square(points), axis=1) + tf.reduce_min(partial, axis=1), 0.0)
    sums = tf.math.unsorted_segment_sum(points, labels, clusters)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(labels), labels, clusters)
    inertia = tf.reduce_sum(tf.cast(distances, tf.float64))
    return labels, distances, tf.cast(sums, tf.float64), tf.cast(counts, tf.int64), inertia


def lloyd_pass(points, centroids, kernel="auto"):
    """(labels int32 [n], squared distances [n], sums float64 [k, d], counts int64 [k],
    inertia float64) for float32/float64 `points` [n, d] and `centroids` [k, d] of the
    same dtype. Ties go to the lower centroid index.
    """
    if kernel_for(points, kernel) == "native":
        return load_library().mlkit_lloyd_pass(points=points, centroids=centroids)
    return _xla_pass(points, centroids)
