"""The zoning engine: hectares changing class between two plans, and parcels conflicting with a plan."""

from __future__ import annotations

import pytest

from analysis.zoning import compare_plans, parcel_conflicts
from layers.models import LandParcel, PlanningPlan, PlanningZone
from tests.analysis.factories import origin, square

pytestmark = pytest.mark.django_db


def _plan(name: str, start: int) -> PlanningPlan:
    return PlanningPlan.objects.create(name=name, level="su_dung_dat", period_start=start, period_end=start + 10)


@pytest.fixture
def two_plans(district):
    o = origin("24931")
    a, b = _plan("QH 2020", 2020), _plan("QH 2030", 2030)
    # Plan A: 2 ha of rural housing, 1 ha of rice.  Plan B: half the housing becomes road, 1 ha of new orchard.
    PlanningZone.objects.create(plan=a, zone_code="A1", land_use="ONT", geom=square(o, 0, 0, 200, 100))
    PlanningZone.objects.create(plan=a, zone_code="A2", land_use="LUC", geom=square(o, 300, 0, 400, 100))
    PlanningZone.objects.create(plan=b, zone_code="B1", land_use="ONT", geom=square(o, 0, 0, 100, 100))
    PlanningZone.objects.create(plan=b, zone_code="B2", land_use="DGT", geom=square(o, 100, 0, 200, 100))
    PlanningZone.objects.create(plan=b, zone_code="B3", land_use="CLN", geom=square(o, 200, 0, 300, 100))
    return a, b, o


def _ha(rows, frm, to):
    return sum(r["hectares"] for r in rows if r["from_class"] == frm and r["to_class"] == to)


def test_it_reports_the_hectares_moving_from_each_class_to_each_class(two_plans):
    a, b, _ = two_plans
    rows = compare_plans(a.id, b.id)
    assert {r["commune_code"] for r in rows} == {"24931"}
    assert _ha(rows, "ONT", "ONT") == pytest.approx(1.0, rel=0.01)
    assert _ha(rows, "ONT", "DGT") == pytest.approx(1.0, rel=0.01)
    # Land the new plan no longer plans, and land it newly plans.
    assert _ha(rows, "LUC", None) == pytest.approx(1.0, rel=0.01)
    assert _ha(rows, None, "CLN") == pytest.approx(1.0, rel=0.01)
    assert _ha(rows, "ONT", None) == 0  # all of A's housing is accounted for by B
    changed = [r for r in rows if r["changed"]]
    assert sum(r["hectares"] for r in changed) == pytest.approx(3.0, rel=0.01)


def test_it_limits_the_comparison_to_the_requested_communes(two_plans):
    a, b, _ = two_plans
    assert compare_plans(a.id, b.id, communes=["24937"]) == []
    assert compare_plans(a.id, b.id, communes=["24931"])


def test_it_lists_parcels_whose_land_use_conflicts_with_the_plan(two_plans):
    _, b, o = two_plans
    # A house on the future road, a house in the housing zone, an orchard parcel in the orchard zone,
    # a rice parcel that only grazes the road zone with a 5 m sliver, and a house in the orchard zone.
    on_road = LandParcel.objects.create(
        sheet_number=1, parcel_number=1, area_m2=2500, land_use="ONT", geom=square(o, 120, 20, 170, 70)
    )
    LandParcel.objects.create(
        sheet_number=1, parcel_number=2, area_m2=2500, land_use="ONT", geom=square(o, 20, 20, 70, 70)
    )
    LandParcel.objects.create(
        sheet_number=1, parcel_number=3, area_m2=2500, land_use="CLN", geom=square(o, 220, 20, 270, 70)
    )
    LandParcel.objects.create(
        sheet_number=1,
        parcel_number=4,
        area_m2=5000,
        land_use="LUC",
        geom=square(o, 95, 110, 195, 160).union(square(o, 95, 95, 195, 100)),
    )
    house_in_orchard = LandParcel.objects.create(
        sheet_number=2, parcel_number=7, area_m2=2500, land_use="ONT", geom=square(o, 210, 10, 260, 60)
    )
    rows = parcel_conflicts(b.id)
    by_parcel = {r["id"]: r for r in rows}
    assert set(by_parcel) == {on_road.id, house_in_orchard.id}
    road = by_parcel[on_road.id]
    assert (road["commune_code"], road["sheet_number"], road["parcel_number"]) == ("24931", 1, 1)
    assert (road["land_use"], road["planned_land_use"], road["zone_code"]) == ("ONT", "DGT", "B2")
    assert road["overlap_m2"] == pytest.approx(2500, rel=0.01)
    # Under the group rule ONT -> DGT stays non-agricultural: no permit needed, no conflict;
    # ONT -> CLN (a house in an orchard zone) changes group.
    grouped = parcel_conflicts(b.id, rule="group")
    assert [r["id"] for r in grouped] == [house_in_orchard.id]
    assert parcel_conflicts(b.id, communes=["24937"]) == []


def test_it_refuses_an_unknown_conflict_rule(two_plans):
    _, b, _ = two_plans
    with pytest.raises(ValueError):
        parcel_conflicts(b.id, rule="colour")
    with pytest.raises(ValueError):
        parcel_conflicts(b.id, min_share=1.5)
