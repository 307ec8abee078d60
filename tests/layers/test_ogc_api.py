"""OGC API – Features: what QGIS, GDAL and a browser see under /ogc/."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db
ITEMS = "/ogc/collections/schools/items"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


def get(client, url, **extra):
    return client.get(url, HTTP_ACCEPT=extra.pop("accept", "application/json"), **extra)


def test_landing_page_links_the_api_conformance_and_collections(client):
    data = body(get(client, "/ogc/"))
    rels = {link["rel"] for link in data["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels


def test_conformance_lists_parts_1_2_and_3(client):
    classes = body(get(client, "/ogc/conformance"))["conformsTo"]
    for suffix in ("features-1/1.0/conf/core", "features-1/1.0/conf/oas30", "features-2/1.0/conf/crs"):
        assert any(c.endswith(suffix) for c in classes)
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes


def test_the_openapi_document_is_served(client):
    response = get(client, "/ogc/api")
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    doc = body(response)
    assert doc["openapi"].startswith("3.0") and "/collections/{collectionId}/items" in doc["paths"]


def test_anonymous_sees_only_public_collections(client, sample):
    ids = {c["id"] for c in body(get(client, "/ogc/collections"))["collections"]}
    assert {"communes", "schools", "petitions"} <= ids
    assert "household-businesses" not in ids and "budget-revenue" not in ids
    assert get(client, "/ogc/collections/budget-revenue").status_code == 404
    assert get(client, "/ogc/collections/budget-revenue/items").status_code == 404


def test_a_collection_advertises_its_crs_and_extent(client, sample):
    data = body(get(client, "/ogc/collections/schools"))
    assert EPSG.format(5899) in data["crs"] and data["storageCrs"].endswith("CRS84")
    minx, miny, maxx, maxy = data["extent"]["spatial"]["bbox"][0]
    assert 108 < minx <= maxx < 109 and 11 < miny <= maxy < 12.5


def test_items_are_geojson_with_counts_and_a_next_link(client, sample):
    response = get(client, ITEMS + "?limit=2")
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    data = body(response)
    assert data["numberReturned"] == 2 and data["numberMatched"] == 5
    next_url = next(link["href"] for link in data["links"] if link["rel"] == "next")
    assert "offset=2" in next_url
    last = body(get(client, ITEMS + "?limit=2&offset=4"))
    assert last["numberReturned"] == 1 and not any(link["rel"] == "next" for link in last["links"])


def test_default_limit_is_10(client, sample):
    assert body(get(client, "/ogc/collections/communes/items"))["numberReturned"] == 9


def test_one_item_and_a_missing_one(client, sample):
    school = sample.schools[0]
    data = body(get(client, f"{ITEMS}/{school.pk}"))
    assert data["id"] == school.pk and data["properties"]["name"] == school.name
    assert get(client, f"{ITEMS}/999999").status_code == 404
    assert get(client, f"{ITEMS}/abc").status_code == 404


def test_epsg_4326_output_is_latitude_first_and_says_so(client, sample):
    school = sample.schools[0]
    response = get(client, f"{ITEMS}/{school.pk}?crs={quote(EPSG.format(4326))}")
    assert response["Content-Crs"] == f"<{EPSG.format(4326)}>"
    assert body(response)["geometry"]["coordinates"] == pytest.approx([school.geom.y, school.geom.x], abs=1e-6)


def test_bbox_crs_epsg_4326_takes_latitude_first(client, sample):
    s = sample.schools[3]
    box = f"{s.geom.y - 1e-4},{s.geom.x - 1e-4},{s.geom.y + 1e-4},{s.geom.x + 1e-4}"
    data = body(get(client, f"{ITEMS}?bbox={box}&bbox-crs={quote(EPSG.format(4326))}"))
    assert [f["properties"]["name"] for f in data["features"]] == [s.name]


def test_vn2000_output_is_in_metres(client, sample):
    data = body(get(client, f"{ITEMS}?crs={quote(EPSG.format(5899))}&limit=1"))
    x, y = data["features"][0]["geometry"]["coordinates"]
    assert 560_000 < x < 610_000 and 1_280_000 < y < 1_330_000


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("pupils > 400", {"Trường THCS Thạnh Mỹ", "Trường THPT Đơn Dương", "Trường Tiểu học Đạ Ròn"}),
        ("level = 'tieu_hoc' AND pupils < 400", {"Trường Tiểu học Đà Loan"}),
        ("pupils BETWEEN 300 AND 420", {"Trường Tiểu học Đà Loan", "Trường Tiểu học Đạ Ròn"}),
        ("level IN ('thpt','mam_non')", {"Trường THPT Đơn Dương", "Trường Mầm non Hoa Hồng"}),
        ("name LIKE 'Trường Tiểu%'", {"Trường Tiểu học Đà Loan", "Trường Tiểu học Đạ Ròn"}),
        ("ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('%thanh my%'))", {"Trường THCS Thạnh Mỹ"}),
        ("NOT (commune_code = '24931')", {"Trường THPT Đơn Dương", "Trường Tiểu học Đạ Ròn"}),
    ],
)
def test_cql2_text_comparisons(client, sample, cql, expected):
    data = body(get(client, f"{ITEMS}?filter={quote(cql)}&filter-lang=cql2-text&limit=100"))
    assert {f["properties"]["name"] for f in data["features"]} == expected
    assert data["numberMatched"] == len(expected)


def test_cql2_spatial_predicate_with_a_commune_polygon(client, sample, district):
    commune = district.get(code="24937")
    wkt = commune.geom.wkt
    data = body(get(client, f"{ITEMS}?filter={quote(f'S_INTERSECTS(geometry, {wkt})')}&limit=100"))
    assert {f["properties"]["commune_code"] for f in data["features"]} == {"24937"}
    assert data["numberMatched"] == 2


def test_cql2_json_and_filter_crs(client, sample):
    s = sample.schools[0]
    # The same box in EPSG:4326 order (lat, lon) through filter-crs.
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [
                [s.geom.y - 1e-4, s.geom.x - 1e-4],
                [s.geom.y - 1e-4, s.geom.x + 1e-4],
                [s.geom.y + 1e-4, s.geom.x + 1e-4],
                [s.geom.y + 1e-4, s.geom.x - 1e-4],
                [s.geom.y - 1e-4, s.geom.x - 1e-4],
            ]
        ],
    }
    expr = {
        "op": "and",
        "args": [
            {"op": "s_intersects", "args": [{"property": "geometry"}, polygon]},
            {"op": ">", "args": [{"property": "pupils"}, 100]},
        ],
    }
    url = f"{ITEMS}?filter={quote(json.dumps(expr))}&filter-lang=cql2-json&filter-crs={quote(EPSG.format(4326))}"
    data = body(get(client, url))
    assert [f["properties"]["name"] for f in data["features"]] == [s.name]


def test_cql2_json_bbox(client, sample):
    s = sample.schools[1]
    box = [s.geom.x - 1e-4, s.geom.y - 1e-4, s.geom.x + 1e-4, s.geom.y + 1e-4]
    expr = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": box}]}
    data = body(get(client, f"{ITEMS}?filter={quote(json.dumps(expr))}&filter-lang=cql2-json"))
    assert [f["properties"]["name"] for f in data["features"]] == [s.name]


@pytest.mark.parametrize(
    ("cql", "codes"),
    [
        ("T_AFTER(received_at, TIMESTAMP('{mid}'))", {"PA-000002"}),
        ("T_BEFORE(received_at, TIMESTAMP('{mid}'))", {"PA-000001"}),
        ("T_DURING(received_at, INTERVAL('{mid}', '..'))", {"PA-000002"}),
        ("T_INTERSECTS(received_at, INTERVAL('..', '{mid}'))", {"PA-000001"}),
        ("T_DISJOINT(received_at, INTERVAL('{mid}', '..'))", {"PA-000001"}),
    ],
)
def test_cql2_temporal_predicates(client, sample, cql, codes):
    mid = sample.petitions[0].received_at + (sample.petitions[1].received_at - sample.petitions[0].received_at) / 2
    expr = cql.format(mid=mid.strftime("%Y-%m-%dT%H:%M:%SZ"))
    data = body(get(client, f"/ogc/collections/petitions/items?filter={quote(expr)}"))
    assert {f["properties"]["tracking_code"] for f in data["features"]} == codes


def test_datetime_parameter_on_the_temporal_field(client, sample):
    day = sample.petitions[1].received_at.date().isoformat()
    data = body(get(client, f"/ogc/collections/petitions/items?datetime={day}T00:00:00Z/.."))
    assert {f["properties"]["tracking_code"] for f in data["features"]} == {"PA-000002"}


def test_sortby_and_properties(client, sample):
    data = body(get(client, f"{ITEMS}?sortby=-pupils&properties=name,pupils&limit=3"))
    assert [f["properties"]["pupils"] for f in data["features"]] == [900, 650, 410]
    assert set(data["features"][0]["properties"]) == {"name", "pupils"}


def test_queryable_as_query_parameter(client, sample):
    data = body(get(client, f"{ITEMS}?level=tieu_hoc"))
    assert data["numberMatched"] == 2


def test_queryables_list_only_visible_fields(client, sample, agency_staff):
    data = body(get(client, "/ogc/collections/petitions/queryables"))
    assert data["type"] == "object" and "geometry" in data["properties"]
    assert "reporter_phone" not in data["properties"] and data["properties"]["received_at"]["format"] == "date-time"
    client.force_login(agency_staff)
    data = body(get(client, "/ogc/collections/petitions/queryables"))
    assert "reporter_phone" in data["properties"]


def test_hidden_fields_are_absent_from_items(client, sample, field_officer):
    client.force_login(field_officer)
    data = body(get(client, "/ogc/collections/household-businesses/items"))
    assert data["numberReturned"] == 2
    assert "owner_id_number" not in data["features"][0]["properties"]


def test_html_pages_for_every_resource(client, sample):
    school = sample.schools[0]
    for url in (
        "/ogc/",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/schools",
        ITEMS,
        f"{ITEMS}/{school.pk}",
        "/ogc/collections/schools/queryables",
        "/ogc/api",
    ):
        response = client.get(url + ("&" if "?" in url else "?") + "f=html")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html"), url
        assert b"https://" not in response.content.replace(b"https://json-schema.org", b"")
    response = client.get(ITEMS, HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response["Content-Type"].startswith("text/html") and school.name.encode() in response.content


def test_a_rest_token_opens_staff_collections_and_a_bad_one_is_401(client, sample, agency_staff):
    from gis_ioc.models import ApiToken

    token = ApiToken.issue(agency_staff, "QGIS")
    url = "/ogc/collections/household-businesses/items"
    assert get(client, url, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    assert get(client, url).status_code == 404
    response = get(client, url, HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401 and body(response)["code"] == "Unauthorized"
