"""The demo data: deterministic, inside the communes, plausible, idempotent and removable.

The full demo (130,000 parcels) is loaded by `make demo`; here one commune at 2% of the record counts.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import shapely
from django.db import connection
from django.utils import timezone

from layers import demo
from layers.demo import geometry
from layers.landuse import AGRICULTURAL, LAND_USE_CODES, group_of
from layers.models import Dossier, HouseholdBusiness, LandParcel, Layer, PlanningPlan, PlanningZone, School
from petitions.models import Petition

THANH_MY = "24931"


@pytest.fixture
def thanh_my(district):
    return [c for c in demo.current_communes() if c.code == THANH_MY]


def test_parcels_are_deterministic_keyed_valid_and_inside_their_commune(thanh_my):
    first = geometry.parcels(thanh_my, seed=7)
    again = geometry.parcels(thanh_my, seed=7)
    assert len(first) > 5000
    assert first["area_m2"].tolist() == again["area_m2"].tolist()
    assert not first.duplicated(["commune_code", "sheet_number", "parcel_number"]).any()
    geoms = first["geom"].to_numpy()
    assert shapely.is_valid(geoms).all()
    assert shapely.contains(shapely.buffer(to_deg(thanh_my[0].shape), 1e-6), geoms).all()
    assert set(first["land_use"]) <= set(LAND_USE_CODES)
    assert first["area_m2"].between(50, 200_000).all()


def to_deg(shape):
    return geometry.to_degrees(shape)


def test_parcels_are_mostly_agricultural_by_area(thanh_my):
    table = geometry.parcels(thanh_my, seed=7)
    agricultural = table[table["land_use"].map(group_of) == AGRICULTURAL]["area_m2"].sum()
    assert agricultural / table["area_m2"].sum() > 0.5


def test_a_small_demo_loads_counts_flags_bumps_versions_and_clears(district):
    versions = dict(Layer.objects.values_list("slug", "version"))
    out = io.StringIO()
    demo.load(out, only=[THANH_MY], scale=0.02)
    report = out.getvalue()
    assert "land-parcels" in report and "bản ghi / rows" in report
    parcels = LandParcel.objects.filter(is_demo=True)
    assert parcels.count() > 5000 and set(parcels.values_list("commune_code", flat=True)) == {THANH_MY}
    assert HouseholdBusiness.objects.filter(is_demo=True).count() == 60
    assert Petition.objects.filter(is_demo=True).count() == 100
    assert Dossier.objects.filter(is_demo=True).count() == 400
    assert School.objects.filter(is_demo=True, commune_code=THANH_MY).count() >= 5
    plans = PlanningPlan.objects.filter(is_demo=True).order_by("period_start")
    assert [(p.period_start, p.period_end, p.status) for p in plans] == [
        (2015, 2025, "approved"),
        (2025, 2035, "draft"),
    ]
    approved, draft = (dict(PlanningZone.objects.filter(plan=p).values_list("zone_code", "land_use")) for p in plans)
    assert approved.keys() == draft.keys() and approved != draft  # the draft differs in places
    assert Layer.objects.get(slug="land-parcels").version == versions["land-parcels"] + 1
    # Every point lies in the commune it is assigned to (the same rule as SectorFeature.assign_commune).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM petitions_petition p JOIN gis_ioc_adminunit u ON u.code = p.commune_code "
            "AND u.valid_to IS NULL AND u.level = 'commune' WHERE p.is_demo AND NOT ST_Covers(u.geom, p.geom)"
        )
        assert cursor.fetchone()[0] == 0

    again = io.StringIO()
    demo.load(again, only=[THANH_MY], scale=0.02)
    assert "already loaded" in again.getvalue()
    assert Petition.objects.filter(is_demo=True).count() == 100

    demo.clear()
    assert not LandParcel.objects.filter(is_demo=True).exists()
    assert not Petition.objects.filter(is_demo=True).exists()
    assert not PlanningPlan.objects.filter(is_demo=True).exists()


def test_demo_petitions_span_24_months_with_some_overdue(thanh_my):
    from layers.demo import records

    today = timezone.localdate()
    records.petitions(thanh_my, seed=3, today=today, total=400)
    rows = Petition.objects.filter(is_demo=True)
    first = min(rows.values_list("received_at", flat=True))
    assert (today - timezone.localtime(first).date()).days > 600
    assert rows.overdue().exists() and rows.filter(status="resolved").count() > 200
    assert all(p.resolved_at >= p.received_at for p in rows.exclude(resolved_at=None))


def test_demo_dossiers_are_mostly_on_time(thanh_my):
    from layers.demo import records

    records.dossiers(thanh_my, seed=3, today=timezone.localdate(), total=500)
    flags = [d.on_time for d in Dossier.objects.filter(is_demo=True)]
    on_time = np.mean([f is True for f in flags])
    assert 0.75 < on_time < 0.97


def test_the_demo_files_each_record_under_the_unit_of_its_date(district):
    """Before 2025-01-01 the merged Quảng Lập was Pró (24955) and the old Quảng Lập (24946): records of
    that time carry their units; later ones the merged commune."""
    import datetime as dt

    from gis_ioc.models import AdminUnit
    from layers.models import BudgetRevenue, Indicator

    merger = dt.date(2025, 1, 1)
    merged = AdminUnit.objects.get(code="24955", valid_from=merger)
    old = {u.id: u.code for u in AdminUnit.objects.filter(valid_to=merger, level="commune")}
    demo.load(io.StringIO(), only=["24955"], scale=0.05)
    before = timezone.make_aware(dt.datetime(2025, 1, 1))
    early = Petition.objects.filter(received_at__lt=before)
    assert early.exists() and Petition.objects.filter(received_at__gte=before).exists()
    assert set(early.values_list("commune_id", flat=True)) <= set(old)
    assert set(Petition.objects.filter(received_at__gte=before).values_list("commune_id", flat=True)) == {merged.id}
    for model, field in ((Dossier, "received_date"), (BudgetRevenue, "month")):
        rows = model.objects.filter(**{f"{field}__lt": merger})
        # Both predecessors get their share, under their own unit and code.
        assert set(rows.values_list("commune_id", "commune_code").distinct()) == set(old.items()), model
        assert not model.objects.filter(**{f"{field}__gte": merger}).exclude(commune_id=merged.id).exists(), model
    population = dict(
        Indicator.objects.filter(code="population", year=2023).values_list("commune_code", "value")
    )
    assert set(population) == {"24946", "24955"} and all(v > 1000 for v in population.values())
