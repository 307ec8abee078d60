"""API tokens (`Authorization: Token <key>`) on the feature APIs: who the token stands for, with their roles and
communes, checked on every request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gis_ioc.models import ApiToken
from tests.conftest import make_user
from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db
OGC = "/ogc/collections/{}/items"
REST = "/api/v1/layers/{}/features/"


def get(client, url, token=None, **params):
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"} if token else {}
    return client.get(url, params, HTTP_ACCEPT="application/geo+json", **auth)


def test_a_deactivated_users_token_is_refused_on_the_next_request(client, sample, agency_staff):
    token = ApiToken.issue(agency_staff, "QGIS")
    url = OGC.format("household-businesses")
    assert get(client, url, token).status_code == 200
    agency_staff.is_active = False
    agency_staff.save()
    response = get(client, url, token)
    assert response.status_code == 401 and body(response)["code"] == "Unauthorized"
    assert get(client, REST.format("household-businesses"), token).status_code == 401


def test_a_revoked_or_deleted_token_is_refused_on_the_next_request(client, sample, agency_staff):
    token = ApiToken.issue(agency_staff, "QGIS")
    url = OGC.format("household-businesses")
    assert get(client, url, token).status_code == 200
    token.revoke()
    assert get(client, url, token).status_code == 401
    assert get(client, REST.format("household-businesses"), token).status_code == 401
    other = ApiToken.issue(agency_staff, "notebook")
    assert get(client, url, other).status_code == 200
    ApiToken.objects.filter(user=agency_staff).delete()
    token = other
    assert get(client, url, token).status_code == 401
    assert get(client, REST.format("household-businesses"), token).status_code == 401


def test_a_token_carries_the_users_roles(client, sample, agency_staff, field_officer):
    staff_token, officer_token = ApiToken.issue(agency_staff, "QGIS"), ApiToken.issue(field_officer, "QGIS")
    url = OGC.format("household-businesses")
    assert "owner_phone" in body(get(client, url, staff_token))["features"][0]["properties"]
    assert "owner_phone" not in body(get(client, url, officer_token))["features"][0]["properties"]
    assert (
        "owner_phone"
        not in body(get(client, REST.format("household-businesses"), officer_token))["features"][0]["properties"]
    )


def test_a_token_carries_the_users_communes(client, sample, district):
    officer = make_user("scoped_token", "field_officer", communes=["24937"])
    token = ApiToken.issue(officer, "QGIS")
    for url in (OGC.format("schools"), REST.format("schools")):
        data = body(get(client, url, token, limit=100))
        assert {f["properties"]["commune_code"] for f in data["features"]} == {"24937"}
        assert data["numberMatched"] == 2


def test_a_token_request_for_a_page_is_three_statements(client, sample, agency_staff):
    token = ApiToken.issue(agency_staff, "QGIS")
    url = OGC.format("household-businesses")
    get(client, url, token)  # the process's first look at the layer loads its row
    with CaptureQueriesContext(connection) as ctx:
        assert get(client, url, token).status_code == 200
    sent = [x["sql"] for x in ctx.captured_queries if not x["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    # The token with its user, scope and roles; the layer's row version; the page.
    assert len(sent) == 3, sent


def test_a_bad_token_on_the_rest_api_is_a_401_with_a_challenge(client, sample):
    """A client that sent a wrong token must learn to authenticate again (401), not that it is forbidden."""
    for url in (REST.format("household-businesses"), "/api/v1/layers/"):
        response = client.get(url, HTTP_AUTHORIZATION="Token not-a-real-token")
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == 'Token realm="gis_ioc", Basic realm="gis_ioc", charset="UTF-8"'
        assert "Khóa API không đúng" in body(response)["detail"]
