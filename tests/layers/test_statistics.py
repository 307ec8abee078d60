"""Commune statistics against hand-computed figures on small factory data, one query per statistic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from gis_ioc.models import AdminUnit
from layers import statistics
from layers.models import Dossier, HouseholdBusiness
from petitions.models import Status
from tests import factories as f

JAN = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
TWO = ["24931", "24937"]
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=VN)


@pytest.fixture
def people(district):
    for code, pop, hh, poor in [("24931", 10000, 2500, 4.0), ("24937", 5000, 1000, 10.0)]:
        f.IndicatorFactory(in_commune=code, code="population", year=2024, value=pop)
        f.IndicatorFactory(in_commune=code, code="households", year=2024, value=hh, unit="hộ")
        f.IndicatorFactory(in_commune=code, code="poor_household_rate", year=2024, value=poor, unit="%")
    # A later figure must not leak into 2024.
    f.IndicatorFactory(in_commune="24928", code="population", year=2025, value=99999)


def test_population_comes_from_the_indicator_of_the_year_else_from_the_census(people):
    values = statistics.commune_values("population", *JAN)
    assert values["24931"] == 10000
    assert values["24928"] == 14196  # no 2024 indicator: the 2019 census figure
    assert values["24955"] == 5381 + 6009  # the merged Quảng Lập, from its predecessors' census rows
    assert "24946" not in values  # communes are the current ones (9 after the 2025 merger)
    assert len(values) == 9


def test_poor_household_rate_of_several_communes_is_weighted_by_households(people):
    assert statistics.commune_values("poor_household_rate", *JAN, communes=TWO) == {"24931": 4.0, "24937": 10.0}
    assert statistics.district_value("poor_household_rate", *JAN, communes=TWO) == pytest.approx(20000 / 3500)


def test_density_divides_population_by_the_commune_area(people):
    area = AdminUnit.objects.current().get(code="24931").area_km2
    assert statistics.commune_values("area_km2", *JAN)["24931"] == pytest.approx(area)
    assert statistics.commune_values("population_density", *JAN)["24931"] == pytest.approx(10000 / area)


def test_schools_and_health_facilities_per_ten_thousand_residents_and_pupils_per_teacher(people):
    f.SchoolFactory(in_commune="24931", pupils=400, teachers=20)
    f.SchoolFactory(in_commune="24931", pupils=200, teachers=20)
    f.SchoolFactory(in_commune="24937", pupils=300, teachers=10)
    f.HealthFacilityFactory(in_commune="24937")
    per_10k = statistics.commune_values("schools_per_10k", *JAN, communes=TWO)
    assert per_10k == {"24931": pytest.approx(2.0), "24937": pytest.approx(2.0)}
    assert statistics.commune_values("health_facilities_per_10k", *JAN, communes=TWO) == {"24931": 0, "24937": 2.0}
    assert statistics.commune_values("pupils_per_teacher", *JAN, communes=TWO) == {"24931": 15.0, "24937": 30.0}
    assert statistics.district_value("pupils_per_teacher", *JAN, communes=TWO) == pytest.approx(900 / 50)
    assert statistics.district_value("schools", *JAN) == 3


def test_active_household_businesses_at_the_end_of_the_period(district):
    f.HouseholdBusinessFactory.create_batch(2, registration_date=dt.date(2020, 1, 1))
    f.HouseholdBusinessFactory(status=HouseholdBusiness.Status.CLOSED)
    f.HouseholdBusinessFactory(registration_date=dt.date(2024, 3, 1))  # registered after January
    assert statistics.commune_values("household_businesses_active", *JAN)["24931"] == 2


def test_parcels_and_area_by_land_use_group(district):
    f.LandParcelFactory(land_use="CLN", area_m2=1000)
    f.LandParcelFactory(land_use="ONT", area_m2=200)
    f.LandParcelFactory(land_use="BCS", area_m2=300)
    got = {code: statistics.commune_values(code, *JAN)["24931"] for code in statistics.STATISTICS if "land" in code}
    assert got == {
        "land_agricultural_ha": pytest.approx(0.1),
        "land_non_agricultural_ha": pytest.approx(0.02),
        "land_unused_ha": pytest.approx(0.03),
    }
    assert statistics.commune_values("parcels", *JAN)["24931"] == 3
    assert statistics.commune_values("parcel_area_ha", *JAN)["24931"] == pytest.approx(0.15)
    assert statistics.commune_values("parcels", *JAN)["24937"] == 0


@pytest.fixture
def petitions(district):
    p = f.PetitionFactory
    p(in_commune="24931", received_at=at(2024, 1, 5), resolved_at=at(2024, 1, 8), status=Status.RESOLVED)
    p(in_commune="24931", received_at=at(2024, 1, 10), due_at=at(2024, 1, 20), status=Status.IN_PROGRESS)
    # 00:30 on 1 February in Đơn Dương is still 31 January in UTC: it belongs to February.
    p(in_commune="24931", received_at=at(2024, 2, 1, 0, 30), due_at=at(2024, 2, 10))
    p(in_commune="24937", received_at=at(2023, 12, 20), resolved_at=at(2024, 1, 4), status=Status.RESOLVED)
    # Resolved only in February: open (and overdue) at the end of January.
    p(
        in_commune="24937",
        received_at=at(2024, 1, 15),
        due_at=at(2024, 1, 25),
        resolved_at=at(2024, 2, 10),
        status=Status.RESOLVED,
    )


def test_petitions_received_open_overdue_in_january(petitions):
    assert statistics.commune_values("petitions_received", *JAN, communes=TWO) == {"24931": 2, "24937": 1}
    assert statistics.commune_values("petitions_open", *JAN, communes=TWO) == {"24931": 1, "24937": 1}
    assert statistics.commune_values("petitions_overdue", *JAN, communes=TWO) == {"24931": 1, "24937": 1}


def test_petition_resolution_rate_and_average_days(petitions):
    assert statistics.commune_values("petition_resolution_rate", *JAN, communes=TWO) == {"24931": 50.0, "24937": 100.0}
    assert statistics.district_value("petition_resolution_rate", *JAN, communes=TWO) == pytest.approx(200 / 3)
    days = statistics.commune_values("petition_avg_resolution_days", *JAN, communes=TWO)
    assert days == {"24931": pytest.approx(3.0), "24937": pytest.approx(15.0)}
    assert statistics.district_value("petition_avg_resolution_days", *JAN, communes=TWO) == pytest.approx(9.0)


def test_dossiers_received_on_time_and_overdue(district):
    d = f.DossierFactory
    d(received_date=dt.date(2024, 1, 2), due_date=dt.date(2024, 1, 10), resolved_date=dt.date(2024, 1, 9))
    d(received_date=dt.date(2024, 1, 3), due_date=dt.date(2024, 1, 10), resolved_date=dt.date(2024, 1, 12))
    d(received_date=dt.date(2024, 1, 5), due_date=dt.date(2024, 1, 20), resolved_date=None)
    d(
        in_commune="24937",
        received_date=dt.date(2023, 12, 28),
        due_date=dt.date(2024, 1, 5),
        resolved_date=dt.date(2024, 1, 5),
    )
    assert statistics.commune_values("dossiers_received", *JAN, communes=TWO) == {"24931": 3, "24937": 0}
    assert statistics.commune_values("dossier_on_time_rate", *JAN, communes=TWO) == {"24931": 50.0, "24937": 100.0}
    assert statistics.commune_values("dossiers_overdue", *JAN, communes=TWO) == {"24931": 1, "24937": 0}
    assert statistics.district_value("dossier_on_time_rate", *JAN, communes=TWO) == pytest.approx(200 / 3)


def test_records_of_a_commune_merged_away_count_under_the_merged_commune(district):
    old = AdminUnit.objects.get(code="24946", valid_to=dt.date(2025, 1, 1))
    Dossier.objects.create(
        commune=old,
        commune_code="24946",
        procedure_code="x",
        procedure_name="x",
        field="x",
        received_date=dt.date(2024, 1, 2),
        due_date=dt.date(2024, 1, 9),
    )
    f.DossierFactory(in_commune="24955", received_date=dt.date(2024, 1, 3))
    assert statistics.commune_values("dossiers_received", *JAN, communes=["24955"]) == {"24955": 2}


@pytest.fixture
def revenue(district):
    r = f.BudgetRevenueFactory
    r(month=dt.date(2024, 1, 1), source="thue", planned=Decimal(100_000_000), actual=Decimal(90_000_000))
    r(month=dt.date(2024, 1, 1), source="phi_le_phi", planned=Decimal(20_000_000), actual=Decimal(30_000_000))
    r(month=dt.date(2024, 2, 1), source="thue", planned=Decimal(100_000_000), actual=Decimal(50_000_000))


def test_revenue_against_plan_per_period_and_as_a_monthly_series(revenue):
    assert statistics.commune_values("revenue_actual", *JAN)["24931"] == 120_000_000
    assert statistics.commune_values("revenue_vs_plan", *JAN)["24931"] == pytest.approx(100.0)
    two_months = (dt.date(2024, 1, 1), dt.date(2024, 2, 29))
    assert statistics.district_value("revenue_vs_plan", *two_months) == pytest.approx(17000 / 220)
    series = statistics.timeseries("revenue_vs_plan", *two_months, communes=["24931"], interval="month")
    assert series == [(dt.date(2024, 1, 1), pytest.approx(100.0)), (dt.date(2024, 2, 1), pytest.approx(50.0))]
    assert statistics.commune_values("revenue_vs_plan", *JAN)["24937"] is None  # no plan: no rate, not 0


def test_kpis_give_every_headline_figure_for_a_scope(people, revenue):
    got = statistics.kpis(*JAN, communes=TWO)
    assert set(got) == set(statistics.KPI_CODES)
    assert got["population"] == 15000
    assert got["revenue_vs_plan"] == pytest.approx(100.0)


def test_every_statistic_has_titles_in_both_languages_and_a_unit():
    for stat in statistics.STATISTICS.values():
        assert stat.title_vi and stat.title_en and stat.unit and stat.unit_en
        assert stat.title("en") == stat.title_en


def test_each_statistic_is_one_query_for_all_communes(people, petitions, revenue, django_assert_num_queries):
    start, end = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
    statistics.commune_values("population", start, end)  # the unit-set weights, memoised per process
    # Two queries whatever the number of units and periods: the unit sets' fingerprint (is the memo of
    # weights still right?) and the statistic itself.
    for code in statistics.STATISTICS:
        with django_assert_num_queries(2):
            values = statistics.commune_values(code, start, end)
        assert len(values) == 9, code
        with django_assert_num_queries(2):
            statistics.district_value(code, start, end)
        with django_assert_num_queries(2):
            series = statistics.timeseries(code, start, end, interval="quarter")
        assert [label for label, _v in series][:2] == [dt.date(2023, 1, 1), dt.date(2023, 4, 1)], code
        assert len(series) == 8, code


def test_unknown_statistic_and_reversed_period_are_rejected_clearly(district):
    with pytest.raises(KeyError, match="unknown statistic"):
        statistics.commune_values("nope", *JAN)
    with pytest.raises(ValueError, match="before its start"):
        statistics.commune_values("population", dt.date(2024, 2, 1), dt.date(2024, 1, 1))


def test_periods_follow_the_calendar_and_clip_to_the_range():
    weeks = statistics.periods(dt.date(2024, 1, 3), dt.date(2024, 1, 20), "week")
    assert weeks[0] == (dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 8))  # Monday label
    assert weeks[-1] == (dt.date(2024, 1, 15), dt.date(2024, 1, 15), dt.date(2024, 1, 21))
    years = statistics.periods(dt.date(2023, 7, 1), dt.date(2024, 6, 30), "year")
    assert [y[0] for y in years] == [dt.date(2023, 1, 1), dt.date(2024, 1, 1)]


def test_commune_timeseries_gives_one_series_per_commune_in_one_query(revenue, django_assert_num_queries):
    statistics.commune_values("population", dt.date(2024, 1, 1), dt.date(2024, 1, 31))  # memoise the weights
    with django_assert_num_queries(2):  # the unit sets' fingerprint, then the statistic
        series = statistics.commune_timeseries(
            "revenue_actual", dt.date(2024, 1, 1), dt.date(2024, 2, 29), communes=TWO, interval="month"
        )
    assert series == {
        "24931": [(dt.date(2024, 1, 1), 120_000_000), (dt.date(2024, 2, 1), 50_000_000)],
        "24937": [(dt.date(2024, 1, 1), 0), (dt.date(2024, 2, 1), 0)],
    }


def test_open_and_overdue_petitions_counted_from_events_equal_the_direct_definition(district):
    """Open/overdue petitions are counted from their opening and closing events (periods + records); this
    compares them with the definition applied to every record and period directly, on varied petitions."""
    import random

    from petitions.models import Petition

    rng = random.Random(15)
    statuses = [Status.RECEIVED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED]
    for i in range(120):
        received = at(2023, 1, 1) + dt.timedelta(hours=rng.randrange(0, 24 * 700))
        status = rng.choice(statuses)
        resolved = received + dt.timedelta(hours=rng.randrange(1, 24 * 120)) if status == Status.RESOLVED else None
        due = received + dt.timedelta(days=rng.randrange(1, 40)) if rng.random() < 0.9 else None
        f.PetitionFactory(
            in_commune=rng.choice(["24931", "24937"]), received_at=received, resolved_at=resolved, due_at=due,
            status=status, tracking_code=f"PA-P{i:05d}",
        )  # fmt: skip
    start, end = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
    now = timezone.now()
    for code, overdue in (("petitions_open", False), ("petitions_overdue", True)):
        series = statistics.commune_timeseries(code, start, end, interval="month")
        for commune in ("24931", "24937"):
            for label, value in series[commune]:
                nxt = statistics.periods(label, label + dt.timedelta(days=40), "month")[1][0]  # next month
                pe = timezone.make_aware(dt.datetime.combine(min(nxt, end + dt.timedelta(days=1)), dt.time()))
                asof = min(pe, now)
                expected = sum(
                    1
                    for p in Petition.objects.filter(commune_code=commune)
                    if p.received_at < pe
                    and (
                        (p.resolved_at and p.resolved_at >= pe) or (p.resolved_at is None and p.status in statuses[:2])
                    )
                    and (not overdue or (p.due_at is not None and p.due_at < asof))
                )
                assert value == expected, (code, commune, label)
