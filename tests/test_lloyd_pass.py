"""The fused Lloyd op (`lloyd_pass.cc`) against the XLA step and a NumPy reference."""

import platform
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from mlkit.unsupervised import build_lloyd_pass
from mlkit.unsupervised.lloyd_pass import build, find_compiler, kernel_for, library_path, load_library, lloyd_pass

KERNELS = ["native", "xla"]


def cpu_has_avx512():
    cpuinfo = Path("/proc/cpuinfo")
    return platform.machine() == "x86_64" and cpuinfo.exists() and " avx512f" in cpuinfo.read_text()


def require(kernel):
    if kernel == "native" and load_library() is None:
        pytest.skip("the native Lloyd op is not built here (no compiler or no AVX-512)")


def reference(points, centroids):
    distances = ((points[:, None, :].astype("float64") - centroids[None].astype("float64")) ** 2).sum(-1)
    labels = distances.argmin(axis=1)
    sums = np.zeros(centroids.shape)
    np.add.at(sums, labels, points.astype("float64"))
    return labels, distances.min(axis=1), sums, np.bincount(labels, minlength=len(centroids))


def test_the_native_op_is_built_where_it_can_be():
    if find_compiler() is None or not cpu_has_avx512():
        pytest.skip("no C++ compiler or no AVX-512: KMeans uses the XLA step")
    assert library_path().exists(), "run `make install` (python -m mlkit.unsupervised.build_lloyd_pass)"
    assert load_library() is not None


@pytest.mark.parametrize("kernel", KERNELS)
# Feature counts off the 16-lane width, several centroid groups, a tail of points.
@pytest.mark.parametrize("rows, features, clusters", [(1003, 37, 21), (64, 3, 2), (9, 16, 40), (500, 1, 5)])
def test_lloyd_pass_matches_the_reference(kernel, rows, features, clusters):
    require(kernel)
    rng = np.random.default_rng(rows + features)
    points = rng.normal(size=(rows, features)).astype("float32")
    centroids = rng.normal(size=(clusters, features)).astype("float32")
    labels, distances, sums, counts, inertia = lloyd_pass(tf.constant(points), tf.constant(centroids), kernel=kernel)
    expected_labels, expected_distances, expected_sums, expected_counts = reference(points, centroids)
    np.testing.assert_array_equal(labels.numpy(), expected_labels)
    np.testing.assert_allclose(distances.numpy(), expected_distances, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(sums.numpy(), expected_sums, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(counts.numpy(), expected_counts)
    assert float(inertia) == pytest.approx(expected_distances.sum(), rel=1e-5)
    assert (labels.dtype, sums.dtype, counts.dtype, inertia.dtype) == (tf.int32, tf.float64, tf.int64, tf.float64)


@pytest.mark.parametrize("kernel", KERNELS)
def test_ties_go_to_the_lower_centroid(kernel):
    require(kernel)
    # (0, 0) is 1 away from centroids 1, 17 and 18; 17 is in the second group of 16 lanes.
    centroids = [[5.0, 0.0], [-1.0, 0.0]] + [[9.0, 9.0]] * 15 + [[1.0, 0.0], [-1.0, 0.0]]
    points = tf.constant([[0.0, 0.0], [2.0, 0.0]])
    labels = lloyd_pass(points, tf.constant(centroids), kernel=kernel)[0].numpy()
    np.testing.assert_array_equal(labels, [1, 17])


def test_kernel_choice():
    points = tf.zeros([4, 3])
    assert kernel_for(points, "xla") == "xla"
    assert kernel_for(points) == ("native" if load_library() is not None else "xla")
    assert kernel_for(tf.zeros([4, 3], tf.float64)) == "xla"  # the op is float32 only
    with pytest.raises(ValueError, match="kernel"):
        kernel_for(points, "cuda")
    with pytest.raises(ValueError, match="not available"):
        kernel_for(tf.zeros([4, 3], tf.float64), "native")


def test_build_command(capsys):
    if load_library() is None:
        pytest.skip("the native Lloyd op is not built here")
    assert build_lloyd_pass.main([]) == 0
    assert "up to date" in capsys.readouterr().out


def test_a_failed_build_leaves_nothing_behind():
    before = set(library_path().parent.iterdir())
    with pytest.raises(RuntimeError, match="failed"):
        build(compiler="false")  # a "compiler" that always fails
    assert set(library_path().parent.iterdir()) == before
