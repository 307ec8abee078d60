"""The demo roads step gives travel-time coverage a network on the demo district."""

from __future__ import annotations

import io

import pytest
from django.db import connection

from analysis import demo
from layers.models import HealthFacility, Layer
from tests.analysis.conftest import run_now
from tests.analysis.factories import origin, point

pytestmark = pytest.mark.django_db


def test_demo_roads_join_communes_and_facilities_and_carry_travel_time(gis_staff, population_raster):
    HealthFacility.objects.create(
        name="Trạm y tế Thạnh Mỹ", facility_type="tram_y_te", geom=point(origin("24931"), 800, 0)
    )
    out = io.StringIO()
    demo.load(out, reset=False)
    assert "demo roads:" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT road_class, count(*) FROM demo_roads GROUP BY 1 ORDER BY 1")
        classes = dict(cursor.fetchall())
    # 9 commune centres triangulate into at least 8 inter-commune roads; one access road per facility.
    assert classes["lien_xa"] >= 8 and classes["duong_thon"] == 1
    layer = Layer.objects.get(slug="roads")
    assert (layer.source_table, layer.visibility) == ("demo_roads", "public")
    done = run_now(gis_staff, "coverage", {"facility": "health-facilities", "mode": "travel_time", "minutes": 10})
    assert done.status == "succeeded", done.error
    assert sum(r["population_served"] for r in done.table("communes")["rows"]) > 0
    demo.load(io.StringIO(), reset=False)  # idempotent
    demo.clear()
    assert not Layer.objects.filter(slug="roads").exists()
