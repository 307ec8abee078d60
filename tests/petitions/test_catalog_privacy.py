"""Petitions are the catalog layer "petitions": every channel shows them, none shows a reporter to the public."""

from __future__ import annotations

import pytest

from gis_ioc import permissions
from layers.models import Layer
from tests.petitions.conftest import new_petition

PERSONAL = {"reporter_name", "reporter_phone", "reporter_email"}


@pytest.mark.parametrize("channel", ["rest", "ogc", "tiles", "export", "dashboard"])
def test_no_channel_offers_reporters_to_the_public_or_to_planners(district, planner, channel):
    layer = Layer.objects.get(slug="petitions")
    assert permissions.can_view_layer(None, layer)
    for user in (None, planner):
        fields = set(permissions.visible_fields(user, layer, channel))
        assert "tracking_code" in fields and "status" in fields
        assert not fields & PERSONAL


def test_leaders_and_agency_staff_are_entitled_to_the_reporter(district, leader, agency_staff):
    layer = Layer.objects.get(slug="petitions")
    for user in (leader, agency_staff):
        assert {"reporter_name", "reporter_phone"} <= set(permissions.visible_fields(user, layer, "rest"))


def test_the_rest_and_ogc_features_of_petitions_carry_no_personal_data(client, district):
    new_petition(name="Đinh Văn Bí Mật", phone="0999888777")
    for url in ("/api/v1/layers/petitions/features/", "/ogc/collections/petitions/items?f=json"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "Đinh Văn Bí Mật" not in body and "0999888777" not in body
        assert "tracking_code" in body


def test_private_petition_details_follow_role_scope_and_assignment(district, leader, planner, scoped_officer):
    from petitions.models import Petition

    petition = new_petition()
    assert permissions.can_view_petition_private(leader, petition)
    assert not permissions.can_view_petition_private(planner, petition)
    assert not permissions.can_view_petition_private(None, petition)
    elsewhere = new_petition(point=petition.geom)  # Thạnh Mỹ 24931 is in the scoped officer's communes
    assert not permissions.can_view_petition_private(scoped_officer, elsewhere)
    Petition.objects.filter(pk=elsewhere.pk).update(field_officer=scoped_officer)
    elsewhere.refresh_from_db()
    assert permissions.can_view_petition_private(scoped_officer, elsewhere)


def test_agency_membership_is_by_agency(district, agency, other_agency, agency_member):
    assert permissions.is_agency_member(agency_member, agency.pk)
    assert not permissions.is_agency_member(agency_member, other_agency.pk)
    assert not permissions.is_agency_member(None, agency.pk)
    assert not permissions.is_agency_member(agency_member, None)


def test_new_petitions_and_status_changes_refresh_the_layer(district, field_officer):
    from petitions import workflow

    layer = Layer.objects.get(slug="petitions")
    before = layer.version
    petition = new_petition()
    layer.refresh_from_db()
    assert layer.version == before + 1
    workflow.transition(petition.pk, "verify", field_officer)
    layer.refresh_from_db()
    assert layer.version == before + 2 and layer.data_updated_at is not None
