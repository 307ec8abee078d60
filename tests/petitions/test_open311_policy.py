"""Open311 reads petitions under the same policy as the feature APIs: commune scope, layer and field rules."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from layers.models import Layer
from tests.petitions.conftest import inside, new_petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_communes(district):
    """A petition in Thạnh Mỹ (the scoped officer's) and one in Ka Đô (not his)."""
    mine = new_petition(point=inside("24931"), description="Cống nghẹt ở Thạnh Mỹ")
    theirs = new_petition(point=inside("24943"), description="Nhà bà Năm ở Ka Đô bị ngập")
    return mine, theirs


def test_a_scoped_officer_lists_only_his_communes_requests(client, two_communes, scoped_officer):
    mine, theirs = two_communes
    client.force_login(scoped_officer)
    rows = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in rows] == [mine.tracking_code]
    assert rows[0]["description"] == "Cống nghẹt ở Thạnh Mỹ"
    asked = client.get("/open311/v2/requests.json", {"service_request_id": theirs.tracking_code}).json()
    assert asked == []
    xml = client.get("/open311/v2/requests.xml").content.decode()
    assert mine.tracking_code in xml and theirs.tracking_code not in xml and "Ka Đô bị ngập" not in xml


def test_a_scoped_officer_cannot_read_another_communes_request_by_id(client, two_communes, scoped_officer):
    mine, theirs = two_communes
    client.force_login(scoped_officer)
    for fmt in ("json", "xml"):
        response = client.get(f"/open311/v2/requests/{theirs.tracking_code}.{fmt}")
        assert response.status_code == 404
        assert "Ka Đô bị ngập" not in response.content.decode()
        assert client.get(f"/open311/v2/requests/{mine.tracking_code}.{fmt}").status_code == 200


def test_unscoped_staff_still_read_every_commune(client, two_communes, leader):
    client.force_login(leader)
    assert len(client.get("/open311/v2/requests.json").json()) == 2


def test_anonymous_sees_only_the_fields_the_catalog_marks_public(client, two_communes):
    mine, _theirs = two_communes
    layer = Layer.objects.get(slug="petitions")
    layer.attributes = [
        {**a, "visibility": "staff"} if a["name"] in ("category", "received_at") else a for a in layer.attributes
    ]
    layer.save()
    [row] = client.get(f"/open311/v2/requests/{mine.tracking_code}.json").json()
    assert row["service_request_id"] == mine.tracking_code and row["status"] == "open"
    assert row["description"] is None  # staff-only in the default catalog
    assert row["service_code"] is None and row["service_name"] is None and row["requested_datetime"] is None
    root = ET.fromstring(client.get(f"/open311/v2/requests/{mine.tracking_code}.xml").content)
    assert not root.findtext("request/service_code") and not root.findtext("request/description")


def test_anonymous_reads_nothing_when_the_catalog_makes_petitions_staff_only(client, two_communes):
    mine, _theirs = two_communes
    Layer.objects.filter(slug="petitions").update(visibility="staff")
    for url in ("/open311/v2/requests.json", f"/open311/v2/requests/{mine.tracking_code}.xml"):
        response = client.get(url)
        assert response.status_code == 403
        assert mine.tracking_code not in response.content.decode()
