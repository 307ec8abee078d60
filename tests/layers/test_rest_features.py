"""REST API /api/v1/: the catalog and feature reads (GeoJSON, CSV), docs and authentication."""

from __future__ import annotations

import csv
import io
import re

import pytest

from gis_ioc.models import ApiToken
from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db
SCHOOLS = "/api/v1/layers/schools/features/"


def test_the_catalog_lists_what_the_user_may_see(client, sample, leader):
    slugs = [layer["slug"] for layer in body(client.get("/api/v1/layers/"))]
    assert "schools" in slugs and "budget-revenue" not in slugs and "household-businesses" not in slugs
    client.force_login(leader)
    slugs = [layer["slug"] for layer in body(client.get("/api/v1/layers/"))]
    assert "budget-revenue" in slugs


def test_the_catalog_shows_only_visible_attributes(client, sample, field_officer):
    client.force_login(field_officer)
    entry = body(client.get("/api/v1/layers/household-businesses/"))
    names = [a["name"] for a in entry["attributes"]]
    assert "address" in names and "owner_phone" not in names
    assert entry["links"]["features"].endswith("/api/v1/layers/household-businesses/features/")


def test_features_are_a_geojson_feature_collection(client, sample):
    response = client.get(SCHOOLS + "?limit=2&ordering=name")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    data = body(response)
    assert data["type"] == "FeatureCollection" and data["numberReturned"] == 2 and data["numberMatched"] == 5
    assert data["next"].endswith("offset=2") or "offset=2" in data["next"]
    assert data["previous"] is None
    second = body(client.get(data["next"]))
    assert second["previous"] is not None and second["features"][0]["id"] != data["features"][0]["id"]


def test_filters_on_fields_ranges_commune_and_text(client, sample):
    data = body(client.get(SCHOOLS + "?pupils__gte=400&commune=24931"))
    assert [f["properties"]["name"] for f in data["features"]] == ["Trường THCS Thạnh Mỹ"]
    data = body(client.get(SCHOOLS + "?q=truong tieu hoc da"))
    assert {f["properties"]["name"] for f in data["features"]} == {"Trường Tiểu học Đà Loan", "Trường Tiểu học Đạ Ròn"}
    data = body(client.get(SCHOOLS + "?level__in=thpt,mam_non&fields=name"))
    assert len(data["features"]) == 2 and set(data["features"][0]["properties"]) == {"name"}


def test_date_range_on_the_temporal_field(client, sample, agency_staff):
    client.force_login(agency_staff)
    data = body(client.get("/api/v1/layers/household-businesses/features/?date_from=2022-01-01"))
    assert [f["properties"]["name"] for f in data["features"]] == ["Cà phê Đồi Thông"]
    data = body(client.get("/api/v1/layers/household-businesses/features/?date_to=2021-03-01"))
    assert [f["properties"]["name"] for f in data["features"]] == ["Tạp hóa Minh Châu"]


def test_exact_count_on_demand(client, sample):
    data = body(client.get(SCHOOLS + "?limit=1&count=exact"))
    assert data["numberMatched"] == 5 and data["numberMatchedIsEstimate"] is False


def test_csv_output_has_the_visible_fields_and_wkt(client, sample):
    response = client.get(SCHOOLS + "?format=csv&ordering=-pupils")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "name", "level"] and rows[0][-1] == "geometry"
    assert rows[1][1] == "Trường THPT Đơn Dương" and rows[1][-1].startswith("POINT(")
    assert len(rows) == 6


def test_one_feature_and_a_missing_one(client, sample):
    school = sample.schools[0]
    data = body(client.get(f"{SCHOOLS}{school.pk}/"))
    assert data["properties"]["name"] == school.name
    assert client.get(f"{SCHOOLS}999999/").status_code == 404


def test_a_private_layer_is_404_for_anonymous(client, sample):
    assert client.get("/api/v1/layers/household-businesses/features/").status_code == 404
    assert client.get("/api/v1/layers/household-businesses/").status_code == 404
    biz = sample.businesses[0]
    assert client.get(f"/api/v1/layers/household-businesses/features/{biz.pk}/").status_code == 404


def test_a_scoped_officer_cannot_read_a_feature_of_another_commune(client, sample, scoped_officer):
    client.force_login(scoped_officer)
    outside = sample.dossier  # in D'Ran (24928), outside the scope 24931/24937
    assert client.get(f"/api/v1/layers/dossiers/features/{outside.pk}/").status_code == 404


def test_hidden_fields_are_absent_for_the_role(client, sample, field_officer, agency_staff):
    client.force_login(field_officer)
    props = body(client.get("/api/v1/layers/petitions/features/"))["features"][0]["properties"]
    assert "description" in props and "reporter_phone" not in props
    client.force_login(agency_staff)
    props = body(client.get("/api/v1/layers/petitions/features/"))["features"][0]["properties"]
    assert props["reporter_phone"] == "0987654321"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bbox=1,2,3", "bbox"),
        ("limit=-1", "limit"),
        ("offset=abc", "offset"),
        ("ordering=owner_phone", "ordering"),
        ("pupils=many", "pupils"),
        ("colour=red", "colour"),
        ("commune=abc", "commune"),
        ("crs=EPSG:9999", "crs"),
        ("date_from=yesterday", "date_from"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, sample, query, parameter):
    response = client.get(f"{SCHOOLS}?{query}")
    assert response.status_code == 400
    assert body(response)["parameter"] == parameter


def test_token_authentication(client, sample, agency_staff):
    token = ApiToken.issue(agency_staff, "QGIS")
    response = client.get("/api/v1/layers/budget-revenue/features/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert client.get("/api/v1/layers/budget-revenue/features/").status_code == 404


def test_openapi_schema_describes_the_feature_endpoints(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = body(response)
    assert "/api/v1/layers/{slug}/features/" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/layers/{slug}/features/"]["get"]["parameters"]}
    assert {"bbox", "commune", "ordering", "limit", "format"} <= params
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.parametrize(
    ("url", "bundle"),
    [("/api/docs/", "/static/drf_spectacular_sidecar/"), ("/api/redoc/", "/static/vendor/redoc/")],  # vendor-assets
)
def test_api_docs_load_only_local_assets(client, url, bundle):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert bundle in html
    external = [
        u for u in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if u.startswith(("http:", "https:", "//"))
    ]
    assert external == []
    assert "googleapis" not in html and "cdn." not in html
