"""Trends and anomalies in each commune's monthly series, feeding the dashboard's alerts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from analysis.alerts import current_alerts
from analysis.trends import add_months, robust_z, trend_pct
from petitions.models import Petition
from tests.analysis.conftest import run_now
from tests.analysis.factories import origin, point

pytestmark = pytest.mark.django_db

MONTH = dt.date(2024, 6, 1)


def _petitions(code: str, month: dt.date, n: int) -> None:
    o = origin(code)
    when = timezone.make_aware(dt.datetime(month.year, month.month, 10, 9))
    Petition.objects.bulk_create(
        [
            Petition(
                category="moi_truong",
                description="x",
                geom=point(o, i, 0),
                received_at=when,
                commune_code=code,
                tracking_code=f"T{code}{month:%y%m}{i:03d}",
                token=f"t{code}{month:%y%m}{i:03d}",
            )
            for i in range(n)
        ]
    )


@pytest.fixture
def series(district):
    # A year of 2–4 petitions a month in two communes, then a jump to 20 in June 2024 in Thạnh Mỹ only.
    for i in range(12, 0, -1):
        m = add_months(MONTH, -i)
        _petitions("24931", m, 2 + i % 3)
        _petitions("24937", m, 2 + i % 3)
    _petitions("24931", MONTH, 20)
    _petitions("24937", MONTH, 3)


def test_a_jump_in_petitions_raises_an_alert_for_that_commune_only(series):
    alerts = current_alerts(month=MONTH, series=["petitions"])
    assert [(a["commune_code"], a["direction"], a["severity"]) for a in alerts] == [("24931", "up", "critical")]
    alert = alerts[0]
    assert alert["value"] == 20 and alert["expected"] == 3
    assert "Thạnh Mỹ" in alert["message_vi"] and "tăng bất thường" in alert["message_vi"]
    assert current_alerts(communes=["24937"], month=MONTH, series=["petitions"]) == []


def test_the_trends_analysis_maps_the_communes_with_alerts(gis_staff, series):
    done = run_now(gis_staff, "trends", {"month": "2024-06-01", "series": ["petitions"]})
    assert done.status == "succeeded", done.error
    rows = {r["commune_code"]: r for r in done.table("series")["rows"]}
    assert rows["24931"]["severity"] == "critical" and rows["24937"]["severity"] == ""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT commune_code, alerts FROM analysis_result_{done.pk} WHERE alerts > 0")
        assert cursor.fetchall() == [("24931", 1)]


def test_robust_z_is_calm_on_small_counts_and_loud_on_real_jumps():
    assert robust_z(1, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], counts=True)[0] == pytest.approx(1.0)
    assert robust_z(30, [3, 2, 4, 3, 3, 2, 4, 3, 3, 2, 4, 3], counts=True)[0] > 7
    assert robust_z(5, [1, 2], counts=True) is None  # too little history
    assert trend_pct([10, 11, 12, 13, 14, 15, 16]) == pytest.approx(100 / 13, rel=0.01)


def test_a_future_month_is_refused(gis_staff, district, client):
    client.force_login(gis_staff)
    future = (dt.date.today() + dt.timedelta(days=62)).isoformat()
    response = client.post(
        "/api/v1/analyses/", {"type": "trends", "parameters": {"month": future}}, content_type="application/json"
    )
    assert response.status_code == 400
