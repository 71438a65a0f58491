"""Forecasting a real series (SPEC §7): yearly sunspot numbers 1700–2008, the dataset statsmodels
ships, one year ahead with LSTM and GRU many-to-one models, against a seasonal-naive forecast
(the value one 11-year solar cycle earlier) and an ARIMA from statsmodels, all on the same split.

The last `test_years` are the test set; every forecast is one step ahead from the true history
(the ARIMA keeps the parameters fitted on the training years and is only fed the new values).
The networks read the previous `window` years, scaled by the training maximum, and stop early on
the last `validation_years` of the training span.
"""


import matplotlib.pyplot as plt
import numpy as np

from mlkit.data.pipeline import array_dataset
from mlkit.models import sequence_model
from mlkit.plotting import save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run

DESCRIPTION = "Yearly sunspots one year ahead: LSTM and GRU vs seasonal-naive (11 years) and ARIMA (statsmodels)."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "epochs": 300,
    "batch_size": 32,
    "window": 22,  # two solar cycles of history
    "units": 32,
    "cells": ["lstm", "gru"],
    "test_years": 60,
    "validation_years": 40,
    "season": 11,  # the solar cycle, in years
    "arima_orders": [[2, 0, 0], [3, 0, 1], [9, 0, 0], [2, 0, 2]],  # the lowest training AIC is used
    "early_stopping_patience": 40,
}


def run(config=None, overwrite=False):
    import statsmodels.api as sm

    with start_run("sunspots", DEFAULTS, config, overwrite) as run:
        config = run.config
        frame = sm.datasets.sunspots.load_pandas().data
        years, series = frame["YEAR"].to_numpy().astype(int), frame["SUNACTIVITY"].to_numpy("float64")
        window, test_start = config["window"], len(series) - config["test_years"]
        validation_start = test_start - config["validation_years"]
        truth = series[test_start:]
        forecasts = {"seasonal naive": series[test_start - config["season"]:len(series) - config["season"]]}
        forecasts["ARIMA"], arima_order = _arima_forecast(series, test_start, config["arima_orders"])

        scale = series[:test_start].max()
        scaled = series / scale
        inputs = np.stack([scaled[t - window:t] for t in range(window, len(series))])[..., None].astype("float32")
        targets = scaled[window:, None].astype("float32")
        target_index = np.arange(window, len(series))
        train, validation, test = (target_index < validation_start, (target_index >= validation_start)
                                   & (target_index < test_start), target_index >= test_start)
        batch, exports, histories = run.global_batch_size, {}, {}
        for cell in config["cells"]:
            with run.strategy.scope():
                model = sequence_model(input_shape=(window, 1), cell=cell, units=(config["units"],), name=cell)
                model.compile(optimizer=run.optimizer(total_steps=run.total_steps(train.sum())), loss="mse",
                              metrics=["mae"])
            run.record_model(cell, model)
            best, history = fit(model, array_dataset(inputs[train], targets[train], batch, shuffle=True,
                                                     seed=config["seed"]),
                                array_dataset(inputs[validation], targets[validation], batch), run.child(cell),
                                config["epochs"], early_stopping_patience=config["early_stopping_patience"])
            forecasts[cell.upper()] = best.predict(inputs[test], verbose=0)[:, 0] * scale
            exports[cell], histories[cell] = best, history

        mae = {name: float(np.mean(np.abs(values - truth))) for name, values in forecasts.items()}
        figure, axis = plt.subplots(figsize=(9, 4))
        axis.plot(years, series, color="black", linewidth=1, label="observed")
        for name, values in forecasts.items():
            axis.plot(years[test_start:], values, marker=".", linewidth=1, label=f"{name} (MAE {mae[name]:.1f})")
        axis.axvline(years[test_start] - 0.5, color="gray", linestyle="--")
        axis.set_xlim(years[validation_start] - 20, years[-1] + 1)
        axis.set_xlabel("year")
        axis.set_ylabel("sunspot number")
        axis.set_title("one year ahead, test years")
        axis.legend(fontsize=8)
        save_figure(figure, run.path / "plots" / "forecasts.png")

        networks = [cell.upper() for cell in config["cells"]]
        metrics = {
            "years": [int(years[0]), int(years[-1])],
            "test_years": [int(years[test_start]), int(years[-1])],
            "test_mae": mae,
            "arima_order": arima_order,
            "beats_both_baselines": {name: mae[name] < min(mae["seasonal naive"], mae["ARIMA"]) for name in networks},
            "epochs_run": {cell: int(len(history)) for cell, history in histories.items()},
        }
        return run.finish(metrics, exports=exports, sample=inputs[test][:8], input_range=(0.0, float(scaled.max())))


def _arima_forecast(series, test_start, orders):
    """One-step-ahead test forecasts of the ARIMA order with the lowest AIC on the training years."""
    import warnings

    from statsmodels.tsa.arima.model import ARIMA

    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the higher orders
        for order in orders:
            fits.append((ARIMA(series[:test_start], order=tuple(order)).fit(), list(order)))
        best, order = min(fits, key=lambda pair: pair[0].aic)
        extended = best.apply(series)  # the same parameters, filtered over the whole series
    return np.asarray(extended.predict(start=test_start, end=len(series) - 1)), order
