"""Trends and anomalies in each commune's monthly series (petitions, dossiers, revenue).

A month is anomalous when its robust z-score against the trailing 12 months is large:
    z = (x − median) / scale,   scale = 1.4826 · MAD   (the MAD of a normal sample estimates σ)
with a floor on the scale so a series that is flat (MAD 0) or made of small counts does not turn every
change into an alarm: √max(median, 1) for counts (Poisson noise), 5 % of the median for money.
|z| ≥ threshold (3.5 by default, Iglewicz–Hoaglin) is a warning, ≥ 2·threshold is critical. The trend is
the Theil–Sen slope of the last 12 months, in % of the median per month (robust to one odd month).
The series come from layers.statistics, the same figures the dashboard shows.
"""

from __future__ import annotations

import datetime as dt
import statistics as pystats
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from scipy.stats import theilslopes

from analysis.registry import AnalysisError, AnalysisType, Outcome, register, table
from analysis.results import Column, FeatureSet


@dataclass(frozen=True)
class Series:
    key: str
    statistic: str
    title_vi: str
    title_en: str
    counts: bool


SERIES = {
    "petitions": Series("petitions", "petitions_received", "Phản ánh tiếp nhận", "Petitions received", True),
    "dossiers": Series("dossiers", "dossiers_received", "Hồ sơ TTHC tiếp nhận", "Dossiers received", True),
    "revenue": Series("revenue", "revenue_actual", "Thực thu ngân sách", "Revenue collected", False),
}
DEFAULT_THRESHOLD = 3.5
HISTORY = 12


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def robust_z(value: float, history: list[float], counts: bool) -> tuple[float, float] | None:
    """(z, expected) of value against its history, or None with fewer than 6 months of history."""
    if len(history) < 6:
        return None
    med = pystats.median(history)
    mad = pystats.median([abs(h - med) for h in history])
    floor = max(med, 1.0) ** 0.5 if counts else max(abs(med) * 0.05, 1e-9)
    scale = max(1.4826 * mad, floor)
    return (value - med) / scale, med


def trend_pct(values: list[float]) -> float | None:
    """Theil–Sen slope of the series in % of its median per month (None if too short or median 0)."""
    if len(values) < 6:
        return None
    med = pystats.median(values)
    if med == 0:
        return None
    slope = theilslopes(values, range(len(values)))[0]
    return round(100 * slope / abs(med), 2)


def _series_by_commune(stat: str, start: dt.date, end: dt.date, communes: Iterable[str] | None) -> dict:
    from layers.statistics import commune_timeseries

    return commune_timeseries(stat, start, end, list(communes) if communes is not None else None, interval="month")


def latest_month(today: dt.date | None = None) -> dt.date:
    """The last complete month before today."""
    return add_months(month_start(today or dt.date.today()), -1)


def evaluate(
    month: dt.date, communes: Iterable[str] | None = None, series: Iterable[str] = tuple(SERIES), threshold: float = 3.5
) -> list[dict[str, Any]]:
    """One row per (commune, series) for the month: value, expected, z, trend, and the alert level."""
    month = month_start(month)
    start = add_months(month, -HISTORY)
    end = add_months(month, 1) - dt.timedelta(days=1)
    out = []
    for key in series:
        spec = SERIES[key]
        for code, points in sorted(_series_by_commune(spec.statistic, start, end, communes).items()):
            values = {label: (v or 0.0) for label, v in points}
            history = [values.get(add_months(month, -i), 0.0) for i in range(HISTORY, 0, -1)]
            x = values.get(month, 0.0)
            scored = robust_z(x, history, spec.counts)
            if scored is None:
                continue
            z, expected = scored
            level = "critical" if abs(z) >= 2 * threshold else "warning" if abs(z) >= threshold else ""
            out.append(
                {
                    "commune_code": code,
                    "series": key,
                    "series_title_vi": spec.title_vi,
                    "series_title_en": spec.title_en,
                    "month": month.isoformat(),
                    "value": round(x, 2),
                    "expected": round(expected, 2),
                    "z": round(z, 2),
                    "trend_pct_per_month": trend_pct([*history, x]),
                    "direction": "up" if z > 0 else "down",
                    "severity": level,
                }
            )
    return out


class TrendForm(forms.Form):
    month = forms.DateField(label=_("Tháng cần xét (ngày bất kỳ trong tháng)"), required=False)
    threshold = forms.FloatField(label=_("Ngưỡng điểm z"), initial=DEFAULT_THRESHOLD, min_value=1, max_value=20)
    series = forms.MultipleChoiceField(
        label=_("Chuỗi số liệu"),
        choices=[(k, s.title_vi) for k, s in SERIES.items()],
        initial=list(SERIES),
        required=False,
    )
    communes = forms.JSONField(label=_("Giới hạn xã"), required=False)

    def clean_month(self) -> dt.date | None:
        month = self.cleaned_data.get("month")
        if month and month_start(month) > month_start(dt.date.today()):
            raise forms.ValidationError(_("Tháng cần xét không được ở tương lai."))
        return month


@register
class TrendAnomalies(AnalysisType):
    code = "trends"
    title_vi = "Xu hướng và bất thường"
    title_en = "Trends and anomalies"
    form_class = TrendForm

    def run(self, params: dict[str, Any], progress: Any, communes: list[str] | None) -> Outcome:
        from gis_ioc.models import AdminUnit

        month = dt.date.fromisoformat(params["month"]) if params.get("month") else latest_month()
        progress(10, "Đang đọc chuỗi số liệu theo tháng")
        rows = evaluate(month, communes, params.get("series") or list(SERIES), params["threshold"])
        if not rows:
            raise AnalysisError(_("Không đủ số liệu (cần ít nhất 6 tháng trước tháng cần xét)."))
        progress(70, "Đang tạo lớp xã có bất thường")
        units = AdminUnit.objects.current(on=month).communes()
        if communes:
            units = units.filter(code__in=communes)
        features = []
        for unit in units.order_by("code"):
            mine = [r for r in rows if r["commune_code"] == unit.code]
            flagged = [r for r in mine if r["severity"]]
            top = max(mine, key=lambda r: abs(r["z"]), default=None)
            features.append(
                {
                    "commune_code": unit.code,
                    "name": unit.name,
                    "alerts": len(flagged),
                    "max_abs_z": abs(top["z"]) if top else None,
                    "top_series": top["series_title_vi"] if top else "",
                    "geom": unit.geom,
                }
            )
        columns = [
            Column("commune_code", "Mã xã", "Commune code"),
            Column("name", "Tên xã", "Commune"),
            Column("alerts", "Số cảnh báo", "Alerts", "integer"),
            Column("max_abs_z", "|z| lớn nhất", "Largest |z|", "number"),
            Column("top_series", "Chuỗi bất thường nhất", "Most unusual series"),
        ]
        stat_cols = [
            ("commune_code", "Mã xã", "Commune"),
            ("series_title_vi", "Chuỗi", "Series"),
            ("value", "Giá trị tháng", "Value"),
            ("expected", "Trung vị 12 tháng trước", "Median of previous 12 months"),
            ("z", "Điểm z", "z-score"),
            ("trend_pct_per_month", "Xu hướng (%/tháng)", "Trend (%/month)"),
            ("severity", "Mức cảnh báo", "Alert level"),
        ]
        return Outcome(
            FeatureSet("MultiPolygon", columns, features, style={"kind": "graduated", "field": "max_abs_z"}),
            f"Bất thường tháng {month:%m/%Y}",
            f"Anomalies {month:%Y-%m}",
            [table("series", "Các chuỗi theo xã", "Series by commune", stat_cols, rows)],
        )
