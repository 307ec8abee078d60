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
