"""Forecasts (issue 19, item 4): the next six months with an 80 % band, backtested on the last twelve against
the same-month-last-year forecast; only for the statistics the user may see, in his communes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gis_ioc import roles
from layers import forecast
from petitions.models import Petition
from tests.conftest import make_user
from tests.dashboard.conftest import client_for
from tests.factories import point_in

pytestmark = pytest.mark.django_db


def _petitions(months: int, code: str = "24931") -> None:
    """A seasonal series: more petitions in the rainy months, a slow rise over the years."""
    today = timezone.localdate()
    rows = []
    geom = point_in(code, 1)
    for back in range(1, months + 1):
        first = forecast._month(today, -back)
        n = 10 + (6 if first.month in (6, 7, 8, 9) else 0) + (months - back) // 6
        received = timezone.make_aware(dt.datetime(first.year, first.month, 10, 9))
        rows += [Petition(category="giao_thong_ha_tang", description="Đường hư hỏng", geom=geom, received_at=received,
                          commune_code=code) for _ in range(n)]  # fmt: skip
    for row in rows:
        row.assign_commune()
    Petition.objects.bulk_create(rows)


def test_a_leader_gets_six_months_ahead_with_a_band_and_a_backtest(district, leader):
    _petitions(36)
    body = client_for(leader).get("/dashboard/api/forecast", {"stat": "petitions_received"}).json()
    assert len(body["forecast"]) == 6 and body["interval"] == 0.8
    for _month, mean, low, high in body["forecast"]:
        assert 0 <= low <= mean <= high
    # The rainy season comes back in the forecast: July above January when both are ahead.
    ahead = {dt.date.fromisoformat(m).month: mean for m, mean, _lo, _hi in body["forecast"]}
    if 7 in ahead and 1 in ahead:
        assert ahead[7] > ahead[1]
    back = body["backtest"]
    assert back["months"] == 12 and len(back["predicted"]) == 12
    assert back["mae"] >= 0 and back["naive_mae"] >= 0
    assert sum(v for _d, v in body["history"][-12:]) == sum(
        10 + (6 if dt.date.fromisoformat(d).month in (6, 7, 8, 9) else 0) + (36 - i) // 6
        for i, (d, _v) in zip(range(12, 0, -1), body["history"][-12:], strict=True)
    )


def test_a_forecast_is_refused_with_a_reason(district, leader, field_officer):
    _petitions(12)
    client = client_for(leader)
    short = client.get("/dashboard/api/forecast", {"stat": "petitions_received"})
    assert short.status_code == 400 and "24 tháng" in short.json()["error"]
    other = client.get("/dashboard/api/forecast", {"stat": "schools"})
    assert other.status_code == 400 and "petitions_received" in other.json()["error"]
    # Revenue is the leaders' and agency staff's: for a field officer the statistic does not exist.
    hidden = client_for(field_officer).get("/dashboard/api/forecast", {"stat": "revenue_actual"})
    assert hidden.status_code == 404


def test_a_scoped_officer_forecasts_only_his_communes(district):
    _petitions(36, "24931")
    _petitions(36, "24937")
    scoped = make_user("forecast-scoped", roles.FIELD_OFFICER, communes=["24931"])
    client = client_for(scoped)
    mine = client.get("/dashboard/api/forecast", {"stat": "petitions_received"}).json()
    one = client.get("/dashboard/api/forecast", {"stat": "petitions_received", "commune": "24931"}).json()
    assert mine["history"] == one["history"]  # his district is his one commune
    assert client.get("/dashboard/api/forecast", {"stat": "petitions_received", "commune": "24937"}).status_code == 404
