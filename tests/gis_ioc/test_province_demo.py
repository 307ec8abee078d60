"""The province demo (issue 16, item 1): the real Lâm Đồng communes loaded as the province's units and filled
at Đơn Dương's densities by the district demo's generator. The whole province (~2 million parcels) is loaded by
`make demo SCALE=province` and measured in docs/benchmarks.md; here three real communes go through the same path."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from gis_ioc.models import AdminUnit
from layers import statistics
from layers.models import Dossier, LandParcel
from petitions.models import Petition
from tests.conftest import shared_file
from tests.tiles.conftest import decode, tile_of

pytestmark = pytest.mark.django_db
# Phường 1 and Phường 3 of Đà Lạt, and a rural commune of Đơn Dương (census 2009 identifiers).
TRIAL = ["6070101", "6070103", "6071101"]
DISTRICT_PARCELS_PER_KM2 = 126_482 / 612


@pytest.fixture
def province():
    out = StringIO()
    call_command(
        "load_demo", "--scale", "province", "--boundaries", str(shared_file("lam_dong_communes.geojson")),
        "--province-communes", ",".join(TRIAL), stdout=out,
    )  # fmt: skip
    return out.getvalue()


def area_km2(codes: list[str]) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(ST_Area(geom::geography)) / 1e6 FROM gis_ioc_adminunit WHERE code = ANY(%s)", [codes]
        )
        return float(cursor.fetchone()[0])


def test_the_real_communes_load_and_only_the_chosen_ones_are_filled_at_district_density(province):
    assert AdminUnit.objects.filter(level="commune").count() == 148
    assert "thửa đất / parcels: 3/3 xã" in province  # progress, commune by commune
    assert set(LandParcel.objects.values_list("commune_code", flat=True).distinct()) == set(TRIAL)
    density = LandParcel.objects.count() / area_km2(TRIAL)
    assert 0.5 * DISTRICT_PARCELS_PER_KM2 < density < 2 * DISTRICT_PARCELS_PER_KM2  # Đà Lạt wards are urban
    # District totals scaled by area: 5,000 petitions and 20,000 dossiers on Đơn Dương's 612 km².
    scale = area_km2(TRIAL) / 612
    assert Petition.objects.count() == round(5000 * scale)
    assert Dossier.objects.count() == round(20000 * scale)


def test_tiles_feature_pages_and_statistics_answer_on_the_province(province, client, gis_staff):
    client.force_login(gis_staff)
    parcel = LandParcel.objects.filter(commune_code="6071101").first()
    z, x, y = tile_of(parcel.geom.centroid.x, parcel.geom.centroid.y, 15)
    tile = client.get(f"/tiles/land-parcels/{z}/{x}/{y}.mvt")
    assert tile.status_code == 200 and decode(tile)["land-parcels"]["features"]
    page = client.get("/api/v1/layers/land-parcels/features/", {"limit": 50, "commune_code": "6070101"})
    assert page.status_code == 200 and len(page.json()["features"]) == 50
    today = dt.date.today()
    values = statistics.commune_values("parcels", dt.date(today.year, 1, 1), today)
    assert len(values) == 148  # every unit of the province, filled or not
    counted = dict(LandParcel.objects.values_list("commune_code").annotate(n=Count("id")))
    assert {c: values[c] for c in TRIAL} == {c: float(counted[c]) for c in TRIAL}


def test_a_database_holding_the_district_demo_is_not_mixed_with_the_province(district):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="gis_ioc_province"):
        call_command("load_demo", "--scale", "province", "--province-communes", TRIAL[0], stdout=StringIO())
