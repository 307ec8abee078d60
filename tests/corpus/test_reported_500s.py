"""The requests of issue 14 that answered 500: each is now a 4xx naming what to change, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from layers.importers.base import ImportOptions
from layers.importers.pipeline import run_import
from layers.importers.safety import ImportRefused
from layers.models import ImportJob
from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db

HUGE_BBOX = "bbox=-1e15,-1e15,1e15,1e15&bbox-crs=EPSG:5899"
HUGE_POLYGON = "POLYGON((-1e15 -1e15, 1e15 -1e15, 1e15 1e15, -1e15 1e15, -1e15 -1e15))"


def _description(response) -> str:
    data = body(response)
    if isinstance(data, list):  # Open311 errors are a list
        data = data[0]
    return str(data.get("description") or data.get("detail") or data)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/layers/schools/features/", "/ogc/collections/schools/items"],
    ids=["rest", "ogc"],
)
def test_a_bbox_of_1e15_metres_in_vn2000_is_refused_with_the_usable_range(client, sample, url):
    response = client.get(f"{url}?{HUGE_BBOX}", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    text = _description(response)
    assert "5899" in text and "bbox" in text  # names the CRS and the parameter, with the usable range


def test_a_bbox_inside_vn2000s_domain_still_works(client, sample):
    # Đơn Dương in VN-2000 / TM-3 107-45: the domain check does not refuse real requests.
    response = client.get(
        "/ogc/collections/schools/items?bbox=550000,1280000,620000,1340000&bbox-crs=EPSG:5899",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content


def test_a_cql2_filter_polygon_at_1e15_in_vn2000_is_refused(client, sample):
    expr = quote(f"S_INTERSECTS(geometry, {HUGE_POLYGON})")
    url = f"/ogc/collections/schools/items?filter-crs=EPSG:5899&filter={expr}"
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "5899" in _description(response)


def test_a_cql2_json_polygon_with_nan_is_refused(client, sample):
    doc = '{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [NaN, 1]}]}'
    response = client.get(
        f"/ogc/collections/schools/items?filter-lang=cql2-json&filter={quote(doc)}", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("terms", [1_900, 150])
def test_a_cql2_arithmetic_chain_too_deep_is_refused_with_the_limit(client, sample, terms):
    expr = "pupils > " + " + ".join(["1"] * terms)
    response = client.get(f"/ogc/collections/schools/items?filter={quote(expr)}", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "100" in _description(response)  # says how deep a filter may nest


def test_a_cql2_json_nested_ten_thousand_levels_is_refused(client, sample):
    doc = '{"op": "not", "args": [' * 10_000 + "true" + "]}" * 10_000
    response = client.get(
        f"/ogc/collections/schools/items?filter-lang=cql2-json&filter={quote(doc)}", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400


def test_a_chain_of_80_ors_still_works(client, sample):
    expr = " OR ".join(f"pupils = {n}" for n in range(80))
    response = client.get(f"/ogc/collections/schools/items?filter={quote(expr)}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content


def test_a_reasonable_arithmetic_filter_still_works(client, sample):
    expr = "pupils > 100 + 50 * 2"
    response = client.get(f"/ogc/collections/schools/items?filter={quote(expr)}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert body(response)["numberReturned"] == 4  # 150, 320, 410, 650, 900 pupils: four above 200


@pytest.mark.parametrize("page", ["1000000000000000000", "1e18"])
def test_an_open311_page_beyond_any_offset_is_refused(client, district, page):
    response = client.get(f"/open311/v2/requests.json?page={page}")
    assert response.status_code == 400
    assert "page" in _description(response)


RING_OF_TWO = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "a"},
            "geometry": {"type": "Polygon", "coordinates": [[[108.5, 11.8], [108.6, 11.9]]]},
        }
    ],
}
NAN_POINT = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"a"},'
    '"geometry":{"type":"Point","coordinates":[NaN, 11.8]}}]}'
)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    # GDAL reads [NaN, 11.8] as an empty point; a reader handing over the NaN itself gets "NaN" in the reason.
    [("ring.geojson", json.dumps(RING_OF_TWO), "LinearRing"), ("nan.geojson", NAN_POINT, "rỗng")],
    ids=["two-point-ring", "nan-coordinate"],
)
def test_a_geojson_with_a_broken_shape_gets_a_preview_naming_the_row(client, gis_staff, name, text, reason):
    client.force_login(gis_staff)
    upload = SimpleUploadedFile(name, text.encode(), content_type="application/geo+json")
    response = client.post("/api/v1/imports/", {"file": upload, "preview_only": "1"})
    assert response.status_code == 201, response.content
    issues = response.json()["preview"]["issues"]
    assert issues and issues[0]["row"] == 1 and reason in issues[0]["reason"]


def test_the_import_page_previews_a_two_point_ring(client, gis_staff):
    client.force_login(gis_staff)
    upload = SimpleUploadedFile("ring.geojson", json.dumps(RING_OF_TWO).encode())
    response = client.post("/imports/", {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "LinearRing" in page.content.decode()


def test_a_geojson_at_1e15_degrees_is_refused_at_commit_and_writes_nothing(district, tmp_path: Path):
    path = tmp_path / "far.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"n": 1},
                        "geometry": {"type": "Point", "coordinates": [1e15, 1e15]},
                    }
                ],
            }
        )
    )
    jobs_before = ImportJob.objects.count()
    with pytest.raises(ImportRefused, match="4326"):
        run_import(path, path.name, ImportOptions(target="new:far"))
    assert ImportJob.objects.count() == jobs_before
    from layers.models import Layer

    assert not Layer.objects.filter(slug="far").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/ogc/?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/schools/items?f=html",
        "/ogc/api?f=json",
        "/api/v1/layers/schools/features/",
    ],
)
def test_lang_en_works_on_the_ogc_and_rest_addresses_too(client, sample, url):
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}lang=en")
    assert response.status_code == 200, response.content[:300]
    assert response.headers["Content-Language"] == "en"
