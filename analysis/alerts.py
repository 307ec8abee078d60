"""Alerts for the dashboard: the communes whose latest monthly figures stand out (analysis/trends.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from analysis.trends import DEFAULT_THRESHOLD, SERIES, evaluate, latest_month

_DIRECTION_VI = {"up": "tăng bất thường", "down": "giảm bất thường"}
_DIRECTION_EN = {"up": "unusually high", "down": "unusually low"}


def current_alerts(
    communes: Iterable[str] | None = None,
    *,
    month: dt.date | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    series: Iterable[str] = tuple(SERIES),
) -> list[dict[str, Any]]:
    """Alerts of the last complete month (or `month`), most unusual first.

    Each: commune_code, commune_name, series, series_title_vi/en, month, value, expected (median of the
    previous 12 months), z, direction (up/down), severity (warning/critical), message_vi, message_en.
    `communes` limits them (pass the user's scope); None means every commune.
    """
    from gis_ioc.models import AdminUnit

    month = month or latest_month()
    rows = [r for r in evaluate(month, communes, series, threshold) if r["severity"]]
    names = dict(AdminUnit.objects.filter(level="commune").values_list("code", "name"))
    for r in rows:
        r["commune_name"] = names.get(r["commune_code"], r["commune_code"])
        r["message_vi"] = (
            f"{r['commune_name']}: {r['series_title_vi'].lower()} tháng {month:%m/%Y} {_DIRECTION_VI[r['direction']]} "
            f"({r['value']:g} so với trung vị {r['expected']:g} của 12 tháng trước)."
        )
        r["message_en"] = (
            f"{r['commune_name']}: {r['series_title_en'].lower()} in {month:%Y-%m} {_DIRECTION_EN[r['direction']]} "
            f"({r['value']:g} against a median of {r['expected']:g} over the previous 12 months)."
        )
    rows.sort(key=lambda r: (r["severity"] != "critical", -abs(r["z"])))
    return rows
