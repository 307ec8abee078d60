"""The feature APIs keep each process's catalog rows between requests: an edit must reach the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from layers import query as q
from layers.models import Layer
from layers.models.catalog import Visibility
from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db
ITEMS = "/ogc/collections/schools/items"


def get(client, url=ITEMS, **params):
    return client.get(url, params, HTTP_ACCEPT="application/geo+json")


def test_a_layer_made_staff_only_disappears_for_anonymous_on_the_next_request(client, sample):
    assert get(client).status_code == 200
    Layer.objects.filter(slug="schools").update(visibility=Visibility.STAFF)  # no save(), no signal
    assert get(client).status_code == 404
    assert client.get("/api/v1/layers/schools/features/").status_code == 404
    # A second edit in the same transaction (same xmin) must be seen too.
    Layer.objects.filter(slug="schools").update(visibility=Visibility.PUBLIC)
    assert get(client).status_code == 200


def test_an_attribute_withdrawn_in_the_admin_is_absent_from_the_next_page(client, sample):
    assert "pupils" in body(get(client))["features"][0]["properties"]
    layer = Layer.objects.get(slug="schools")
    layer.attributes = [a for a in layer.attributes if a["name"] != "pupils"]
    layer.save()
    assert "pupils" not in body(get(client))["features"][0]["properties"]
    assert get(client, sortby="pupils").status_code == 400


def test_a_deleted_layer_is_gone(client, sample):
    assert get(client).status_code == 200
    Layer.objects.filter(slug="schools").delete()
    assert get(client).status_code == 404


def test_changing_the_returned_layer_does_not_reach_the_next_caller(sample, agency_staff):
    layer = q.get_layer("household-businesses", agency_staff)
    layer.visibility = Visibility.PUBLIC  # a caller's own change, never saved
    with pytest.raises(q.LayerNotFound):
        q.get_layer("household-businesses", AnonymousUser())


def test_an_imported_table_is_described_once_until_its_catalog_row_changes(client, sample):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE imp_cache_probe (id bigserial PRIMARY KEY, name text, geom geometry(Point, 4326))")
        cursor.execute(
            "INSERT INTO imp_cache_probe (name, geom) VALUES ('Giếng 1', ST_SetSRID(ST_MakePoint(108.5, 11.8), 4326))"
        )
    Layer.objects.create(
        slug="cache-probe",
        title_vi="Giếng",
        title_en="Wells",
        source_table="imp_cache_probe",
        geometry_field="geom",
        visibility=Visibility.PUBLIC,
        attributes=[{"name": "name", "type": "string"}],
    )
    url = "/ogc/collections/cache-probe/items"

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            data = body(get(client, url))
        assert data["features"][0]["properties"] == {"name": "Giếng 1"}
        return [x["sql"] for x in ctx.captured_queries if not x["sql"].startswith(("SAVEPOINT", "RELEASE"))]

    assert len(statements()) > 2  # first request: the row, the table's columns and SRID, the page
    assert len(statements()) == 2  # then: the row's version and the page
    Layer.objects.filter(slug="cache-probe").update(title_en="Village wells")
    assert len(statements()) > 2


def test_a_staff_layer_whose_table_is_gone_is_still_absent_for_anonymous(client, sample):
    Layer.objects.create(
        slug="gone-table",
        title_vi="Bảng đã xoá",
        title_en="Dropped table",
        source_table="imp_never_created",
        geometry_field="geom",
        visibility=Visibility.STAFF,
        attributes=[{"name": "name", "type": "string"}],
    )
    assert get(client, "/ogc/collections/gone-table/items").status_code == 404
    assert client.get("/api/v1/layers/gone-table/features/").status_code == 404
