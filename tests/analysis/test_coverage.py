"""Service coverage: the share of each commune's people within reach of schools or health facilities."""

from __future__ import annotations

import math

import pytest
from django.db import connection

from layers.models import HealthFacility, Layer, School
from tests.analysis.conftest import DENSITY, run_now
from tests.analysis.factories import origin, point

pytestmark = pytest.mark.django_db


def _row(analysis, code):
    return next(r for r in analysis.table("communes")["rows"] if r["commune_code"] == code)


def test_it_gives_the_share_of_people_within_a_distance_of_a_school(gis_staff, population_raster):
    o = origin("24931")
    School.objects.create(name="TH Thạnh Mỹ", level="tieu_hoc", geom=point(o, 0, 0))
    done = run_now(gis_staff, "coverage", {"facility": "schools", "distance_m": 1000, "communes": ["24931", "24937"]})
    assert done.status == "succeeded", done.error
    own = _row(done, "24931")
    # A 1 km circle inside the commune holds π km² × 100 people/km² (±3 % from 50 m pixels).
    assert own["population_served"] == pytest.approx(math.pi * DENSITY, rel=0.03)
    assert own["population"] == pytest.approx(own["population_served"] + own["population_unserved"], abs=1)
    assert _row(done, "24937")["share_served"] == 0
    # The underserved areas are a catalog layer backed by a table every channel can serve.
    layer = Layer.objects.get(slug=f"analysis-{done.pk}")
    assert (layer.source_table, layer.visibility, layer.geometry_type) == (
        f"analysis_result_{done.pk}",
        "staff",
        "MultiPolygon",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT commune_code, population_unserved FROM analysis_result_{done.pk} ORDER BY 1")
        rows = cursor.fetchall()
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [layer.source_table])
        indexes = " ".join(r[0] for r in cursor.fetchall())
    assert [r[0] for r in rows] == ["24931", "24937"]
    assert "gist" in indexes


def test_it_refuses_a_negative_distance(gis_staff, district, client):
    client.force_login(gis_staff)
    response = client.post(
        "/api/v1/analyses/",
        {"type": "coverage", "parameters": {"facility": "schools", "distance_m": -50}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "lớn hơn 0" in response.json()["errors"]["distance_m"][0]


def test_an_empty_facility_layer_fails_with_a_reason(gis_staff, population_raster):
    HealthFacility.objects.all().delete()
    done = run_now(gis_staff, "coverage", {"facility": "health-facilities", "distance_m": 2000})
    assert done.status == "failed"
    assert "rỗng" in done.error
    assert done.result_layer is None
    assert not Layer.objects.filter(slug=f"analysis-{done.pk}").exists()


def _roads_layer(o):
    """A synthetic T-shaped road network: a 3 km east–west road (60 km/h) and a 1.5 km branch north (6 km/h)."""
    from tests.analysis.factories import UTM

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS test_roads")
        cursor.execute(
            "CREATE TABLE test_roads (id serial PRIMARY KEY, speed_kmh float, geom geometry(LineString, 4326))"
        )
        for (x0, y0, x1, y1), kmh in [((-1500, 0, 1500, 0), 60), ((0, 0, 0, 1500), 6)]:
            cursor.execute(
                "INSERT INTO test_roads (speed_kmh, geom) VALUES (%s, ST_Transform(ST_SetSRID("
                "ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), %s), 4326))",
                [kmh, o.x + x0, o.y + y0, o.x + x1, o.y + y1, UTM],
            )
    return Layer.objects.create(
        slug="roads", title_vi="Đường", title_en="Roads", source_table="test_roads", geometry_type="LineString"
    )


def test_travel_time_follows_the_roads(gis_staff, population_raster):
    o = origin("24931")
    _roads_layer(o)
    # The facility sits at the west end of the fast road.
    HealthFacility.objects.create(name="Trạm y tế", facility_type="tram_y_te", geom=point(o, -1500, 0))
    params = {
        "facility": "health-facilities",
        "mode": "travel_time",
        "minutes": 10,
        "access_m": 100,
        "communes": ["24931"],
    }
    done = run_now(gis_staff, "coverage", params)
    assert done.status == "succeeded", done.error
    served = _row(done, "24931")["population_served"]
    # 10 min at 60 km/h covers the 3 km road (a 3 km × 200 m band = 0.6 km²); the slow branch needs
    # 15 min (1.5 km at 6 km/h), so it is not reached.
    assert served == pytest.approx(3 * 0.2 * DENSITY, rel=0.1)
    slower = run_now(gis_staff, "coverage", {**params, "minutes": 20})
    assert _row(slower, "24931")["population_served"] == pytest.approx(4.5 * 0.2 * DENSITY, rel=0.1)
    # In 1 minute the first piece (−1.5 km to the junction, 90 s) is not reached: only the walk-in circle.
    quick = run_now(gis_staff, "coverage", {**params, "minutes": 1})
    assert _row(quick, "24931")["population_served"] == pytest.approx(math.pi * 0.01 * DENSITY, abs=2)


def test_travel_time_without_a_roads_layer_says_so(gis_staff, population_raster):
    School.objects.create(name="THCS", level="thcs", geom=point(origin("24931"), 0, 0))
    done = run_now(gis_staff, "coverage", {"facility": "schools", "mode": "travel_time", "minutes": 10})
    assert done.status == "failed"
    assert "đường giao thông" in done.error
