"""Closed-form least squares in TensorFlow (the notes' normal equation)."""

import numpy as np
import tensorflow as tf

METHODS = ("lstsq", "normal_equation")


def polynomial_design_matrix(x, degree):
    """`[1, x, x², …, x^degree]` for a 1-D `x` (column k holds x^k)."""
    x = np.asarray(x, dtype="float64")
    if x.ndim != 1:
        raise ValueError(f"`x` must be 1-D, got shape {x.shape}.")
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"`degree` must be a non-negative integer, got {degree!r}.")
    return np.vander(x, degree + 1, increasing=True)


def least_squares(design, targets, method="lstsq"):
    """Minimise `||A·β − b||²` in float64; returns β as a NumPy array.

    "normal_equation" solves `(AᵀA)β = Aᵀb` by Cholesky, as in the notes;
    "lstsq" uses an orthogonal factorisation and stays accurate when AᵀA is
    ill-conditioned (high polynomial degrees).
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}.")
    design = np.asarray(design, dtype="float64")
    targets = np.asarray(targets, dtype="float64")
    if design.ndim != 2:
        raise ValueError(f"`design` must be a 2-D matrix, got shape {design.shape}.")
    vector = targets.ndim == 1
    if vector:
        targets = targets[:, None]
    if targets.ndim != 2 or targets.shape[0] != design.shape[0]:
        raise ValueError(f"`targets` must have {design.shape[0]} rows, got shape {targets.shape}.")
    if design.shape[0] < design.shape[1]:
        raise ValueError(f"`design` needs at least {design.shape[1]} rows for {design.shape[1]} unknowns, "
                         f"got {design.shape[0]}.")
    if not (np.isfinite(design).all() and np.isfinite(targets).all()):
        raise ValueError("`design` and `targets` must be finite.")
    a, b = tf.constant(design), tf.constant(targets)
    if method == "normal_equation":
        gram = tf.linalg.matmul(a, a, transpose_a=True)
        solution = tf.linalg.cholesky_solve(tf.linalg.cholesky(gram), tf.linalg.matmul(a, b, transpose_a=True))
    else:
        solution = tf.linalg.lstsq(a, b, fast=False)
    solution = solution.numpy()
    return solution[:, 0] if vector else solution
