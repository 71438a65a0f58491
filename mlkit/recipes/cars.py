"""Cars: stopping distance vs speed, fitted by gradient descent and in closed form (SPEC §1).

Linear (`dist = b0 + b1·speed`) and quadratic (`+ b2·speed²`) models are trained
by gradient descent on standardised powers of the speed, mapped back to raw
coefficients, and compared with the least-squares solution of the normal
equation. All 50 rows are used for fitting, as the closed form does; the
validation curve is therefore the training fit itself.

With 50 rows there is no test set to spare, so which degree generalises is
judged by k-fold cross-validation (`folds`, 5 by default; 0 turns it off): each
row is predicted once by a fit that did not see it, and the out-of-fold RMSE and
R² are reported per degree. The folds are fitted in closed form, the minimum
the gradient-descent fit is checked to reach above (max_relative_coefficient_error).
"""

import matplotlib.pyplot as plt
import numpy as np

from mlkit.data import array_dataset, kfold_indices, load_cars
from mlkit.linalg import least_squares, polynomial_design_matrix
from mlkit.models import polynomial_regression, raw_polynomial_coefficients
from mlkit.training import OPTIMIZER_DEFAULTS, fit, save_figure, start_run

DESCRIPTION = "Linear and quadratic regression on the 50-row cars set: gradient descent vs closed form, R²."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "optimizer": "sgd",
    "learning_rate": 0.1,
    "momentum": 0.9,  # Nesterov momentum
    "epochs": 40,
    "steps_per_epoch": 100,  # full-batch gradient steps per epoch
    "degrees": [1, 2],
    "folds": 5,  # k-fold cross-validation of each degree (0: none)
}

MODEL_NAMES = {1: "linear", 2: "quadratic", 3: "cubic"}


def r_squared(targets, predictions):
    """`1 − SSE/SST`."""
    targets, predictions = np.asarray(targets, "float64").ravel(), np.asarray(predictions, "float64").ravel()
    return float(1 - np.sum((targets - predictions) ** 2) / np.sum((targets - targets.mean()) ** 2))


def _fit_degree(degree, speed, distance, run):
    powers = np.stack([speed**power for power in range(1, degree + 1)], axis=1)
    data = array_dataset(speed[:, None], distance[:, None], batch_size=len(speed), repeat=True)
    full = array_dataset(speed[:, None], distance[:, None], batch_size=len(speed))
    name = MODEL_NAMES.get(degree, f"degree_{degree}")
    with run.strategy.scope():
        model = polynomial_regression(
            degree,
            feature_mean=powers.mean(axis=0).tolist(),
            feature_variance=powers.var(axis=0).tolist(),
            name=f"{name}_regression",
        )
        model.compile(optimizer=run.optimizer(momentum=run.config["momentum"], nesterov=True), loss="mse",
                      steps_per_execution=run.config["steps_per_epoch"])
    run.record_model(name, model)
    best, _ = fit(model, data, full, run.child(name), epochs=run.config["epochs"],
                  steps_per_epoch=run.config["steps_per_epoch"])
    return best


def check_config(config):
    degrees = config["degrees"]
    if not degrees or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 3 for d in degrees):
        raise ValueError(f"`degrees` must list integers from 1 to 3, got {degrees!r}.")
    folds = config["folds"]
    if isinstance(folds, bool) or not isinstance(folds, int) or folds == 1 or not 0 <= folds <= 50:
        raise ValueError(f"`folds` must be 0 (no cross-validation) or 2 to 50, got {folds!r}.")


def cross_validate(speed, distance, degree, folds, seed):
    """Out-of-fold predictions of the degree-`degree` least-squares fit: RMSE and R²."""
    predictions = np.empty_like(distance)
    for train, held_out in kfold_indices(len(speed), folds, seed=seed):
        coefficients = least_squares(polynomial_design_matrix(speed[train], degree), distance[train], method="lstsq")
        predictions[held_out] = polynomial_design_matrix(speed[held_out], degree) @ coefficients
    return {"folds": folds, "rmse": float(np.sqrt(np.mean((distance - predictions) ** 2))),
            "r2": r_squared(distance, predictions)}


def run(config=None, overwrite=False):
    with start_run("cars", DEFAULTS, config, overwrite, check=check_config) as run:
        degrees = run.config["degrees"]
        cars = load_cars()
        speed = cars["speed"].to_numpy("float64")
        distance = cars["dist"].to_numpy("float64")

        metrics, fits, models = {}, {}, {}
        for degree in degrees:
            name = MODEL_NAMES.get(degree, f"degree_{degree}")
            design = polynomial_design_matrix(speed, degree)
            closed_form = least_squares(design, distance, method="lstsq")
            normal_equation = least_squares(design, distance, method="normal_equation")
            model = models[name] = _fit_degree(degree, speed, distance, run)
            gradient_descent = raw_polynomial_coefficients(model)
            predictions = model.predict(speed[:, None].astype("float32"), verbose=0)[:, 0]
            relative_error = np.abs(gradient_descent - closed_form) / np.abs(closed_form)
            metrics[name] = {
                "closed_form_coefficients": closed_form.tolist(),
                "normal_equation_coefficients": normal_equation.tolist(),
                "gradient_descent_coefficients": gradient_descent.tolist(),
                "max_relative_coefficient_error": float(relative_error.max()),
                "r2_gradient_descent": r_squared(distance, predictions),
                "r2_closed_form": r_squared(distance, design @ closed_form),
            }
            if run.config["folds"]:
                metrics[name]["cross_validation"] = cross_validate(speed, distance, degree, run.config["folds"],
                                                                   run.seed)
            fits[name] = (closed_form, gradient_descent)

        _plot(speed, distance, fits, run.directory.plots / "fits.png")
        return run.finish(metrics, exports=models, sample=speed[:8, None].astype("float32"))


def _plot(speed, distance, fits, path):
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.scatter(speed, distance, color="black", s=14, label="cars data")
    grid = np.linspace(speed.min(), speed.max(), 200)
    for name, (closed_form, gradient_descent) in fits.items():
        degree = len(closed_form) - 1
        design = polynomial_design_matrix(grid, degree)
        line = axis.plot(grid, design @ gradient_descent, label=f"{name}: gradient descent")[0]
        axis.plot(grid, design @ closed_form, linestyle="--", color=line.get_color(), label=f"{name}: closed form")
    axis.set_xlabel("speed (mph)")
    axis.set_ylabel("stopping distance (ft)")
    axis.legend()
    axis.grid(alpha=0.3)
    save_figure(figure, path)
