"""Monthly forecasts with prediction intervals, backtested (issue 19, item 4): petitions, dossiers and budget
revenue, for the district or one commune, the next six months.

The history is the statistic itself (layers/statistics.timeseries, so the figures are those of the
dashboard, with the same unit sets); the model is statsmodels' exponential smoothing state-space model (ETS:
additive error, damped additive trend, additive yearly season once two years are known), whose simulated
intervals are the 80 % band drawn on the dashboard. The backtest refits on the history without its last 12
months, forecasts them, and reports the mean absolute error next to a seasonal-naïve forecast (the same month
a year before) — a forecast that cannot beat that baseline says so.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np

from layers import statistics

FORECASTABLE = ("petitions_received", "dossiers_received", "revenue_actual")
HORIZON = 6
HISTORY_MONTHS = 36
BACKTEST_MONTHS = 12
INTERVAL = 0.8


class ForecastError(ValueError):
    """A forecast that cannot be made (a statistic without one, too short a history)."""


def _month(day: dt.date, delta: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


def _fit(values: np.ndarray, first: dt.date) -> Any:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = "add" if len(values) >= 24 else None
    series = pd.Series(values, index=pd.date_range(first, periods=len(values), freq="MS"))
    model = ETSModel(series, error="add", trend="add", damped_trend=True, seasonal=seasonal,
                     seasonal_periods=12 if seasonal else None)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of short series; the backtest judges the fit
        return model.fit(disp=False, maxiter=500)


def history(code: str, communes: list[str], today: dt.date, *, units: str | None = None) -> list[tuple[dt.date, float]]:
    """The complete months before the current one (HISTORY_MONTHS of them), a month without data counting 0."""
    first = _month(today, -HISTORY_MONTHS)
    last = _month(today, 0) - dt.timedelta(days=1)
    rows = statistics.timeseries(code, first, last, communes=communes, interval="month", units=units)
    return [(day, float(value or 0.0)) for day, value in rows]


def forecast(
    code: str, communes: list[str], today: dt.date | None = None, *, units: str | None = None
) -> dict[str, Any]:
    """History, the next HORIZON months with their INTERVAL band, and the backtest of the last 12 months."""
    if code not in FORECASTABLE:
        raise ForecastError(code)
    today = today or dt.date.today()
    past = history(code, communes, today, units=units)
    # Leading months before the first record are not zeros of the district: start at the first non-zero month.
    start = next((i for i, (_d, v) in enumerate(past) if v), len(past))
    past = past[start:]
    if len(past) < BACKTEST_MONTHS + 12:
        raise ForecastError(code)
    values = np.array([v for _d, v in past])
    fitted = _fit(values, past[0][0])
    prediction = fitted.get_prediction(start=len(values), end=len(values) + HORIZON - 1)
    frame = prediction.summary_frame(alpha=1 - INTERVAL)
    lows = np.maximum(frame["pi_lower"].to_numpy(), 0.0)
    future = [
        [_month(past[-1][0], i + 1).isoformat(), round(float(mean), 2), round(float(lo), 2), round(float(hi), 2)]
        for i, (mean, lo, hi) in enumerate(
            zip(np.maximum(frame["mean"].to_numpy(), 0.0), lows, frame["pi_upper"].to_numpy(), strict=True)
        )
    ]
    train, test = values[:-BACKTEST_MONTHS], values[-BACKTEST_MONTHS:]
    back = np.maximum(_fit(train, past[0][0]).forecast(BACKTEST_MONTHS).to_numpy(), 0.0)
    naive = values[-BACKTEST_MONTHS - 12 : -12]
    mae = float(np.mean(np.abs(back - test)))
    mask = test > 0
    return {
        "stat": code,
        "history": [[d.isoformat(), v] for d, v in past],
        "forecast": future,
        "interval": INTERVAL,
        "backtest": {
            "months": BACKTEST_MONTHS,
            "mae": round(mae, 2),
            "mape": round(float(np.mean(np.abs(back[mask] - test[mask]) / test[mask])) * 100, 1)
            if mask.any()
            else None,
            "naive_mae": round(float(np.mean(np.abs(naive - test))), 2),
            "predicted": [round(float(v), 2) for v in back],
        },
        "method": "ETS (statsmodels): additive error, damped additive trend, additive yearly season",
    }
