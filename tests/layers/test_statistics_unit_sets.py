"""Statistics on any unit set, as of any date: figures move through crosswalks with no break at a reform.

The demo Đơn Dương has two commune sets: 2009–2024 (10 communes) and from 2025-01-01 (Pró and old Quảng Lập
merged into a new Quảng Lập that keeps Pró's code 24955). The split tests add a third set on 2026-01-01
in which Thạnh Mỹ (24931) is cut in two. Records keep the code they were filed under at their date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from gis_ioc.admin_units import UnitInput
from gis_ioc.crosswalks import CrosswalkInput, import_crosswalk
from gis_ioc.models import AdminUnit, UnitSet
from gis_ioc.unit_sets import UnitSetError, resolve
from layers import statistics
from layers.models import BudgetRevenue, Dossier

pytestmark = pytest.mark.django_db

OLD, NEW = "commune-2009-01-01", "commune-2025-01-01"
YEARS = range(2021, 2027)
# Counts, sums and rates.
STATS = ("dossiers_received", "revenue_actual", "revenue_vs_plan", "dossier_on_time_rate")


def unit(code: str, day: dt.date) -> AdminUnit:
    return AdminUnit.objects.communes().current(day).get(code=code)


def file_records(day: dt.date, code: str, n: int, amount: int) -> None:
    """`n` dossiers received on `day` (half resolved late) and one month of revenue, filed under the
    version of `code` valid that day."""
    commune = unit(code, day)
    Dossier.objects.bulk_create(
        [
            Dossier(
                commune=commune,
                commune_code=code,
                procedure_code="1.001",
                procedure_name="Cấp giấy chứng nhận",
                field="Đất đai",
                received_date=day,
                due_date=day + dt.timedelta(days=10),
                resolved_date=day + dt.timedelta(days=5 if i % 2 else 15),
                status="resolved",
            )
            for i in range(n)
        ]
    )
    BudgetRevenue.objects.create(
        commune=commune,
        commune_code=code,
        month=day.replace(day=1),
        source="thue",
        planned=Decimal(amount),
        actual=Decimal(amount * 9 // 10 + n),
    )


@pytest.fixture
def history(district):
    """Five years of records in the merged communes and in two others, each under the unit of its date."""
    for year in YEARS:
        day = dt.date(year, 3, 15)
        if year < 2025:
            file_records(day, "24946", 3 + year % 3, 40_000_000)  # old Quảng Lập
            file_records(day, "24955", 2 + year % 2, 30_000_000)  # Pró
        else:
            file_records(day, "24955", 7, 75_000_000)  # the merged Quảng Lập
        file_records(day, "24931", 4, 100_000_000)
        file_records(day, "24937", 1 + year % 4, 20_000_000)


def year(y: int) -> tuple[dt.date, dt.date]:
    return dt.date(y, 1, 1), dt.date(y, 12, 31)


@pytest.mark.parametrize("code", STATS)
def test_a_series_on_todays_units_equals_the_units_valid_each_year_through_a_merge(history, code):
    for y in YEARS:
        today = statistics.commune_values(code, *year(y))
        if y < 2025:
            merged_then = statistics.district_value(code, *year(y), communes=["24946", "24955"], units=OLD)
        else:
            merged_then = statistics.commune_values(code, *year(y), units=NEW)["24955"]
        assert today["24955"] == pytest.approx(merged_then), (code, y)
        # A commune the reform left alone has the same figure on either set.
        assert today["24931"] == pytest.approx(statistics.commune_values(code, *year(y), units=OLD)["24931"])
        # The whole territory is the same on both sets.
        assert statistics.district_value(code, *year(y)) == pytest.approx(
            statistics.district_value(code, *year(y), units=OLD)
        ), (code, y)


def test_the_five_year_series_on_todays_communes_has_no_break_at_the_merger(history):
    series = statistics.timeseries(
        "dossiers_received", dt.date(2021, 1, 1), dt.date(2026, 12, 31), communes=["24955"], interval="year"
    )
    # Before 2025 the merged commune's figure is old Quảng Lập + Pró; after, its own.
    assert [v for _label, v in series] == [3 + y % 3 + 2 + y % 2 if y < 2025 else 7 for y in YEARS]


def test_the_old_communes_get_the_merged_communes_later_records_by_population_share(history):
    values = statistics.commune_values("dossiers_received", *year(2026), units=OLD)
    census = {
        c: AdminUnit.objects.get(code=c, valid_to=dt.date(2025, 1, 1)).population(2019) for c in ("24946", "24955")
    }
    share = census["24946"] / (census["24946"] + census["24955"])
    assert values["24946"] == pytest.approx(7 * share)
    assert values["24946"] + values["24955"] == pytest.approx(7)
    assert statistics.methods("dossiers_received", units=OLD)["24946"] == "population"
    assert statistics.methods("dossiers_received")["24955"] == "exact"  # merged whole: nothing estimated
    assert statistics.methods("parcels", units=OLD)["24955"] == "area"


def test_rates_are_recombined_from_numerators_and_denominators_not_averaged(history):
    parts = [
        statistics.commune_values(c, *year(2023), communes=["24946", "24955"], units=OLD)
        for c in ("revenue_actual", "revenue_planned")
    ]
    expected = 100 * sum(parts[0].values()) / sum(parts[1].values())
    assert statistics.commune_values("revenue_vs_plan", *year(2023))["24955"] == pytest.approx(expected)


def split_thanh_my(day: dt.date, population_share: float) -> tuple[float, float]:
    """Cut Thạnh Mỹ (24931) by the north–south line through its centroid: the west keeps the code, the
    east becomes 24999. Returns the area shares (west, east)."""
    old = unit("24931", day - dt.timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH g AS (SELECT geom, ST_X(ST_Centroid(geom)) AS x, ST_Envelope(geom) AS box FROM gis_ioc_adminunit
                       WHERE id = %s),
                 halves AS (SELECT ST_Multi(ST_Intersection(geom, ST_MakeEnvelope(ST_XMin(box) - 1, ST_YMin(box) - 1,
                                   x, ST_YMax(box) + 1, 4326))) AS west,
                                   ST_Multi(ST_Intersection(geom, ST_MakeEnvelope(x, ST_YMin(box) - 1,
                                   ST_XMax(box) + 1, ST_YMax(box) + 1, 4326))) AS east FROM g)
            SELECT ST_AsText(west), ST_AsText(east), ST_Area(west::geography), ST_Area(east::geography) FROM halves
            """,
            [old.id],
        )
        west, east, west_m2, east_m2 = cursor.fetchone()
    share = west_m2 / (west_m2 + east_m2)
    rows = [
        CrosswalkInput(row=i, old_code=c, new_code=c, effective_date=day)
        for i, c in enumerate(
            sorted(set(UnitSet.objects.get(slug=NEW).members.values_list("code", flat=True)) - {"24931"})
        )
    ]
    rows += [
        CrosswalkInput(
            row=90, old_code="24931", new_code="24931", new_name="Thị trấn Thạnh Mỹ", effective_date=day,
            area_share=share, population_share=population_share, legal_basis="test split",
        ),
        CrosswalkInput(
            row=91, old_code="24931", new_code="24999", new_name="Xã Thạnh Mỹ Đông", effective_date=day,
            area_share=1 - share, population_share=1 - population_share, legal_basis="test split",
        ),
    ]  # fmt: skip
    boundaries = [
        UnitInput(code="24931", name="Thị trấn Thạnh Mỹ", geom=GEOSGeometry(west, srid=4326)),
        UnitInput(code="24999", name="Xã Thạnh Mỹ Đông", geom=GEOSGeometry(east, srid=4326)),
    ]
    import_crosswalk(rows, source="test split", boundaries=boundaries)
    return share, 1 - share


@pytest.mark.parametrize("code", STATS)
def test_a_split_shares_earlier_figures_by_population_and_later_ones_add_back_up(history, code):
    split_day = dt.date(2026, 1, 1)
    split_thanh_my(split_day, population_share=0.7)
    latest = f"commune-{split_day:%Y-%m-%d}"
    assert resolve().slug == latest  # today's communes are the set after the split
    # Records of 2026 were filed under the old Thạnh Mỹ (the fixture ran before the split); move half to
    # the east part, as the re-assignment by date would for records located there.
    east = unit("24999", split_day)
    moved = Dossier.objects.filter(commune_code="24931", received_date__year=2026)[:2]
    Dossier.objects.filter(id__in=[d.id for d in moved]).update(commune=east, commune_code="24999")
    for y in (2024, 2025):
        before = statistics.commune_values(code, *year(y), units=NEW)["24931"]
        after = statistics.commune_values(code, *year(y), units=latest)
        # The two parts together are the old commune: exact for counts, sums and rates.
        assert statistics.district_value(code, *year(y), communes=["24931", "24999"], units=latest) == pytest.approx(
            before
        ), (code, y)
        if not statistics.STATISTICS[code].ratio:
            assert after["24931"] == pytest.approx(0.7 * before), (code, y)
            assert after["24999"] == pytest.approx(0.3 * before), (code, y)
    # Going back: the parts' 2026 records add up on the old commune, exactly.
    back = statistics.commune_values(code, *year(2026), units=NEW)["24931"]
    parts = statistics.district_value(code, *year(2026), communes=["24931", "24999"], units=latest)
    assert back == pytest.approx(parts), code
    methods = statistics.methods(code, units=latest)
    assert methods["24931"] == methods["24999"] == "population"
    assert methods["24937"] == "exact"


def test_an_unknown_set_or_a_date_before_any_set_is_a_clear_error(district):
    with pytest.raises(UnitSetError, match="unknown unit set 'nope'.*commune-2009-01-01"):
        statistics.commune_values("population", *year(2024), units="nope")
    with pytest.raises(UnitSetError, match="before the first commune unit set"):
        statistics.commune_values("population", *year(2024), as_of=dt.date(2000, 1, 1))


def test_as_of_picks_the_set_in_force_that_day(history):
    assert set(statistics.commune_values("dossiers_received", *year(2024), as_of=dt.date(2024, 6, 1))) >= {
        "24946",
        "24955",
    }
    assert "24946" not in statistics.commune_values("dossiers_received", *year(2024), as_of=dt.date(2025, 6, 1))
