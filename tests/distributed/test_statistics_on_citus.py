"""Commune statistics over distributed tables: one SQL per statistic, its CTEs joined to the shards."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from layers import statistics
from petitions.models import Status
from tests import factories as f

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")
JAN = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def at(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day, 10, tzinfo=VN)


def test_a_count_of_petitions_per_commune_adds_up_rows_of_different_shards(district):
    for code, n in [("24931", 3), ("24937", 2), ("24928", 1)]:
        for i in range(n):
            f.PetitionFactory(in_commune=code, received_at=at(5 + i))
    f.PetitionFactory(in_commune="24931", received_at=dt.datetime(2024, 2, 2, tzinfo=VN))  # outside the period
    values = statistics.commune_values("petitions_received", *JAN)
    assert values["24931"] == 3 and values["24937"] == 2 and values["24928"] == 1
    assert values["24943"] == 0  # a commune with no rows counts 0
    assert statistics.district_value("petitions_received", *JAN) == 6
    assert statistics.district_value("petitions_received", *JAN, communes=["24931", "24937"]) == 5


def test_a_rate_of_two_communes_is_weighted_by_their_rows_not_averaged(district):
    for i in range(4):  # 24931: 1 of 4 on time
        f.DossierFactory(
            in_commune="24931", received_date=dt.date(2023, 12, 1), due_date=dt.date(2024, 1, 3),
            resolved_date=dt.date(2024, 1, 2 if i == 0 else 10), status="resolved",
        )  # fmt: skip
    f.DossierFactory(
        in_commune="24937", received_date=dt.date(2023, 12, 1), due_date=dt.date(2024, 1, 20),
        resolved_date=dt.date(2024, 1, 5), status="resolved",
    )  # fmt: skip
    values = statistics.commune_values("dossier_on_time_rate", *JAN, communes=["24931", "24937"])
    assert values == {"24931": 25.0, "24937": 100.0}
    assert statistics.district_value("dossier_on_time_rate", *JAN, communes=["24931", "24937"]) == 40.0


def test_a_per_capita_rate_divides_distributed_counts_by_the_reference_population(district):
    f.IndicatorFactory(in_commune="24931", code="population", year=2024, value=10000)
    for i in range(5):
        f.PetitionFactory(in_commune="24931", received_at=at(3 + i), status=Status.RECEIVED)
    kpis = statistics.kpis(*JAN, communes=["24931"])
    assert kpis["petitions_received"] == 5
    assert statistics.commune_values("population", *JAN)["24931"] == 10000


def test_every_statistic_of_the_registry_runs_on_the_distributed_tables(district):
    f.PetitionFactory(in_commune="24931", received_at=at(9))
    f.DossierFactory(in_commune="24937")
    f.LandParcelFactory(in_commune="24931")
    f.HouseholdBusinessFactory(in_commune="24928")
    f.BudgetRevenueFactory(in_commune="24931")
    for code in statistics.STATISTICS:
        values = statistics.commune_values(code, *JAN)
        assert len(values) == 9, code  # the nine current communes, whatever the table's placement
    assert statistics.timeseries("petitions_received", dt.date(2024, 1, 1), dt.date(2024, 3, 31))[0][1] == 1


def test_the_dashboard_map_statistic_answers_every_commune_over_http(district, client, leader):
    for code, n in [("24931", 2), ("24937", 1)]:
        for i in range(n):
            f.PetitionFactory(in_commune=code, received_at=at(10 + i))
    client.force_login(leader)
    response = client.get(
        "/dashboard/api/stats", {"stat": "petitions_received", "start": "2024-01-01", "end": "2024-01-31"}
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["values"]) == 9 and body["values"]["24931"] == 2.0 and body["values"]["24937"] == 1.0
    assert body["district"] == 3
    view = client.get("/dashboard/api/view", {"start": "2024-01-01", "end": "2024-01-31"})
    assert view.status_code == 200
