"""Bad input to the OGC API: a 400 with an OGC exception body naming the parameter — never a 500, never a
changed row."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from layers.models import Layer, School
from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db
ITEMS = "/ogc/collections/schools/items"


@pytest.fixture
def one_school(sample) -> School:
    return sample.schools[0]


def bad(client, query: str, parameter: str, url: str = ITEMS) -> dict:
    response = client.get(f"{url}?{query}", HTTP_ACCEPT="application/json")
    assert response.status_code == 400, response.content
    data = body(response)
    assert data["code"] and parameter in data["description"], data
    return data


@pytest.mark.parametrize("value", ["1,2,3", "1,2,3,4,5"])
def test_a_bbox_with_3_or_5_numbers(client, value):
    bad(client, f"bbox={value}", "bbox")


def test_a_bbox_with_min_greater_than_max(client):
    bad(client, "bbox=108.6,11.7,108.4,11.9", "bbox")


def test_a_bbox_with_latitude_95(client):
    bad(client, "bbox=108.4,11.7,108.6,95", "bbox")


def test_a_bbox_that_is_not_numbers(client):
    bad(client, "bbox=a,b,c,d", "bbox")


@pytest.mark.parametrize("parameter", ["crs", "bbox-crs", "filter-crs"])
def test_an_unknown_crs_uri(client, parameter):
    extra = "&bbox=1,2,3,4" if parameter == "bbox-crs" else "&filter=pupils>1" if parameter == "filter-crs" else ""
    data = bad(client, f"{parameter}={quote('http://www.opengis.net/def/crs/EPSG/0/4979')}{extra}", parameter)
    assert "EPSG/0/5899" in data["description"]  # says which CRSs are offered


def test_an_unknown_crs_for_one_item(client, one_school):
    bad(client, "crs=EPSG:1234", "crs", url=f"{ITEMS}/{one_school.pk}")


def test_cql2_with_a_syntax_error(client):
    data = bad(client, f"filter={quote('pupils >')}", "filter")
    assert "CQL2" in data["description"]


def test_cql2_with_an_unknown_property(client):
    data = bad(client, f"filter={quote('owner_phone = 1')}", "filter")
    assert "owner_phone" in data["description"]


def test_cql2_on_a_field_hidden_from_the_user_is_an_unknown_property(client):
    data = bad(
        client,
        f"filter={quote(chr(39).join(['reporter_phone = ', '0987654321', '']))}",
        "filter",
        "/ogc/collections/petitions/items",
    )
    assert "reporter_phone" in data["description"]


@pytest.mark.parametrize("expr", ["pupils = 'many'", "name > 5", "T_AFTER(pupils, TIMESTAMP('2024-01-01T00:00:00Z'))"])
def test_cql2_with_a_type_mismatch(client, expr):
    bad(client, f"filter={quote(expr)}", "filter")


@pytest.mark.parametrize(
    "expr",
    [
        # a self-intersecting "bow-tie" polygon
        "S_INTERSECTS(geometry, POLYGON((108.4 11.7, 108.6 11.9, 108.6 11.7, 108.4 11.9, 108.4 11.7)))",
        # a ring that does not close is not even parsed
        "S_INTERSECTS(geometry, POLYGON((108.4 11.7, 108.6 11.9)))",
        "S_INTERSECTS(geometry, POINT(500 11.7))",
    ],
)
def test_cql2_with_an_invalid_geometry_literal(client, expr):
    bad(client, f"filter={quote(expr)}", "filter")


def test_cql2_json_that_is_not_json(client):
    bad(client, "filter-lang=cql2-json&filter={not json", "filter")


def test_an_unknown_filter_language(client):
    bad(client, "filter-lang=sql&filter=pupils>1", "filter-lang")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=-1", "limit"),
        ("limit=1000000000", "limit"),
        ("limit=0", "limit"),
        ("offset=abc", "offset"),
        ("offset=-5", "offset"),
    ],
)
def test_bad_limit_and_offset(client, query, parameter):
    bad(client, query, parameter)


def test_sortby_on_a_field_that_is_not_exposed(client):
    bad(client, "sortby=owner_phone", "sortby", "/ogc/collections/petitions/items")
    bad(client, "sortby=-geom", "sortby")


def test_properties_naming_a_field_that_is_not_exposed(client):
    bad(client, "properties=name,reporter_phone", "properties", "/ogc/collections/petitions/items")


def test_an_unknown_parameter(client):
    bad(client, "colour=red", "colour")


def test_a_bad_datetime(client):
    bad(client, "datetime=yesterday", "datetime", "/ogc/collections/petitions/items")
    bad(client, "datetime=2024-02-01/2024-01-01", "datetime", "/ogc/collections/petitions/items")


def test_an_unknown_output_format(client):
    bad(client, "f=xml", "f")


INJECTIONS = ["'; DROP TABLE layers_school; --", "1) OR 1=1 --", "name'); DELETE FROM layers_school; --"]
PARAMETERS = [
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "count",
    "f",
    "q",
    "level",
    "name",
]


@pytest.mark.parametrize("parameter", PARAMETERS)
def test_sql_injection_in_every_parameter_changes_nothing(client, one_school, parameter):
    before = list(School.objects.order_by("pk").values_list("pk", "name", "pupils"))
    extra = "&bbox=1,2,3,4" if parameter == "bbox-crs" else ""
    for payload in INJECTIONS:
        response = client.get(f"{ITEMS}?{quote(parameter)}={quote(payload)}{extra}", HTTP_ACCEPT="application/json")
        if response.status_code == 200:
            # A plain string value (text search, an equality on a text field) simply matches nothing.
            assert parameter in ("q", "level", "name") and body(response)["numberReturned"] == 0
        else:
            assert response.status_code == 400 and body(response)["code"], (payload, response.content)
    assert list(School.objects.order_by("pk").values_list("pk", "name", "pupils")) == before
    assert Layer.objects.filter(slug="schools").exists()


def test_sql_injection_in_the_collection_and_feature_ids(client, one_school):
    assert client.get("/ogc/collections/" + quote("schools';--") + "/items").status_code == 404
    response = client.get(f"{ITEMS}/" + quote("1 OR 1=1"), HTTP_ACCEPT="application/json")
    assert response.status_code == 404 and body(response)["code"] == "NotFound"
    assert School.objects.count() == 5


def test_a_cql2_json_injection_in_a_property_name(client, one_school):
    expr = {"op": "=", "args": [{"property": 'name"; DROP TABLE layers_school; --'}, "x"]}
    bad(client, f"filter-lang=cql2-json&filter={quote(json.dumps(expr))}", "filter")
    assert School.objects.count() == 5
