"""A user limited to two communes sees only those two in every widget, table and report."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from tests.dashboard.conftest import YEAR_RANGE

pytestmark = pytest.mark.django_db
MINE = {"24931", "24937"}


def test_the_map_draws_only_the_two_communes(demo, scoped_client):
    page = scoped_client.get("/")
    assert {f["properties"]["code"] for f in page.context["communes_geojson"]["features"]} == MINE
    fc = scoped_client.get("/dashboard/api/communes").json()
    assert {f["properties"]["code"] for f in fc["features"]} == MINE


def test_the_choropleth_and_kpis_cover_only_the_two_communes(demo, scoped_client):
    stats = scoped_client.get("/dashboard/api/stats", {"stat": "petitions_received", **YEAR_RANGE}).json()
    assert set(stats["values"]) == MINE
    view = scoped_client.get("/dashboard/api/view", {"stat": "petitions_received", **YEAR_RANGE}).json()
    assert set(view["communes"]) == MINE
    cards = {c["key"]: c["value"] for c in view["kpis"]}
    assert cards["petitions_received"] == 3 + 5  # Thạnh Mỹ (2nd) and Đạ Ròn (4th) only
    petitions = next(c for c in view["categories"] if c["slug"] == "petitions")
    assert sum(petitions["series"][0]["data"]) == 8


def test_another_communes_profile_does_not_exist_for_them(demo, scoped_client):
    assert scoped_client.get("/communes/24928/").status_code == 404
    assert scoped_client.get("/dashboard/api/view", {"commune": "24928"}).status_code == 404
    assert scoped_client.get("/dashboard/api/communes/24928/lists").status_code == 404
    assert scoped_client.get("/reports/communes/24928/").status_code == 404
    assert scoped_client.get("/communes/24931/").status_code == 200


def test_tables_hold_only_the_two_communes(demo, scoped_client):
    csv = scoped_client.get("/dashboard/tables/statistic.csv", {"stat": "petitions_received", **YEAR_RANGE})
    codes = {line.split(",")[0] for line in csv.content.decode("utf-8-sig").splitlines()[1:]} - {""}
    assert codes == MINE
    xlsx = scoped_client.get("/dashboard/tables/petitions.xlsx", YEAR_RANGE)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 8 and {r[0] for r in rows} == MINE


def test_the_district_report_covers_only_the_two_communes(demo, scoped_client):
    page = scoped_client.get("/reports/district/", {"stat": "petitions_received", **YEAR_RANGE})
    assert {r["code"] for r in page.context["commune_rows"]} == MINE
    assert {p["code"] for p in page.context["svg"]["paths"]} == MINE
    html = page.content.decode()
    assert "Lạc Lâm" not in html and "D&#x27;Ran" not in html and "D'Ran" not in html


def test_the_plan_comparison_covers_only_the_two_communes(demo, district):
    from tests.conftest import make_user
    from tests.dashboard.conftest import client_for

    planner = make_user("scoped_planner", "planner", "gis_staff", communes=["24937", "24940"])
    client = client_for(planner)
    a, b = demo["plan_a"].pk, demo["plan_b"].pk
    body = client.get("/planning/api/compare", {"a": a, "b": b}).json()
    assert {r["commune_code"] for r in body["changes"]} == {"24937"}  # the Thạnh Mỹ change is outside
    assert body["conflicts"] == []
    zones = client.get(f"/planning/api/plans/{a}/zones").json()
    assert {f["properties"]["commune_code"] for f in zones["features"]} == {"24937"}


def test_commune_labels_sit_well_inside_their_communes(demo, client):
    """A label goes where the commune is widest, not on a thin arm near its border: for the shape below
    ST_PointOnSurface lands in the 300 m arm, 150 m from the edge."""
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon

    from dashboard import data
    from gis_ioc.models import AdminUnit

    # A 4 × 4 km block with a 12 km × 300 m arm across the middle of its bounding box (≈ 110 m per 0.001°),
    # just east of the demo communes.
    block = Polygon.from_bbox((108.80, 11.70, 108.836, 11.736))
    arm = Polygon.from_bbox((108.836, 11.7166, 108.944, 11.7194))
    shape = block.union(arm)
    shape.srid = 4326
    AdminUnit.objects.create(
        code="99999",
        name="Xã Thử",
        name_ascii="Xa Thu",
        level="commune",
        unit_type="xa",
        geom=MultiPolygon(shape, srid=4326),
        area_km2=19.6,
        valid_from="2009-01-01",
    )
    for feature in data.communes_geojson(["99999", "24931"])["features"]:
        geom = GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
        x, y = feature["properties"]["label"]
        label = GEOSGeometry(f"POINT({x} {y})", srid=4326)
        assert geom.contains(label), feature["properties"]["code"]
        if feature["properties"]["code"] == "99999":
            assert label.distance(geom.boundary) > 0.01, "in the block, ~2 km from its edges"
    svg = data.communes_svg(["99999"])["paths"][0]
    assert (round(svg["lx"], 3), round(-svg["ly"], 3)) == (108.818, 11.718)
