import datetime as dt

import pytest

from gis_ioc.demo.facts import COMMUNES
from gis_ioc.models import AdminUnit


def test_it_builds_ten_communes_with_areas_close_to_the_official_ones(district):
    for fact in COMMUNES:
        unit = AdminUnit.objects.get(code=fact.code, valid_from=dt.date(2009, 1, 1), level="commune")
        assert unit.name == fact.name
        assert unit.area_km2 == pytest.approx(fact.area_km2, rel=0.01)
        assert unit.population(2019) == fact.pop_2019
        assert unit.is_demo


def test_the_generated_communes_tile_the_district_without_gaps_or_overlaps(district):
    """A leader's map shows one district, not ten blobs: the communes share their borders exactly."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH c AS (SELECT code, geom FROM gis_ioc_adminunit
                       WHERE level = 'commune' AND valid_from = '2009-01-01' AND is_demo)
            SELECT (SELECT ST_NumGeometries(ST_Union(geom)) FROM c),
                   (SELECT ST_NumInteriorRings(ST_GeometryN(ST_Union(geom), 1)) FROM c),
                   (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                    FROM c a JOIN c b ON a.code < b.code AND ST_Intersects(a.geom, b.geom)),
                   (SELECT count(*) FROM c a JOIN c b ON a.code < b.code AND ST_Touches(a.geom, b.geom))
            """
        )
        parts, holes, overlap_m2, neighbours = cursor.fetchone()
    assert (parts, holes) == (1, 0)
    assert overlap_m2 < 1.0  # shared edges only: floating-point slivers at most
    assert neighbours >= 12


def test_pro_is_merged_into_quang_lap_from_2025(district):
    before = AdminUnit.objects.current(dt.date(2024, 12, 31)).communes()
    after = AdminUnit.objects.current(dt.date(2025, 1, 1)).communes()
    assert before.count() == 10
    assert after.count() == 9
    merged = after.get(code="24955")
    assert merged.name == "Xã Quảng Lập"
    assert merged.population(2019) == 5381 + 6009
    assert merged.area_km2 == pytest.approx(9.72 + 88.981, rel=0.02)
    assert merged.geom.num_geom == 1, "only neighbours merge: the generated Pró and Quảng Lập share a border"


def test_district_and_province_are_dissolved_from_the_communes(district):
    district_unit = AdminUnit.objects.get(level="district", code="677")
    assert district_unit.parent.code == "68"
    assert district_unit.area_km2 == pytest.approx(612, rel=0.03)
    assert AdminUnit.objects.filter(level="commune", parent=district_unit).count() == 11


@pytest.mark.django_db
def test_load_demo_can_use_the_real_boundary_file_instead_of_generated_ones():
    from io import StringIO

    from django.core.management import call_command

    from tests.conftest import shared_file

    path = shared_file("don_duong_communes.geojson")
    out = StringIO()
    call_command("load_demo", "--boundaries", str(path), "--communes-only", stdout=out)

    unit = AdminUnit.objects.get(code="24937", valid_from=dt.date(2009, 1, 1))
    assert unit.source == str(path) and not unit.is_demo
    assert unit.area_km2 == pytest.approx(32.715, rel=0.001)  # the file's geodesic area, not the generated one
    assert AdminUnit.objects.current(dt.date(2025, 1, 1)).communes().count() == 9
    assert "overlapping pairs: 16" in out.getvalue()


@pytest.mark.django_db
def test_load_demo_picks_the_ten_communes_out_of_the_province_file():
    from io import StringIO

    from django.core.management import call_command

    from tests.conftest import shared_file

    path = shared_file("lam_dong_communes.geojson")  # 148 communes, 7 of them without a GSO code
    call_command("load_demo", "--boundaries", str(path), "--communes-only", stdout=StringIO())
    assert AdminUnit.objects.filter(level="commune", valid_from=dt.date(2009, 1, 1)).count() == 10
