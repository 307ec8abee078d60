"""Photos are served through the policy by unguessable keys: citizens' photo copies follow the petition's
public face, field-report photos are never public, originals (with EXIF) only reach staff entitled to the
petition's private data in its commune."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from gis_ioc import roles
from layers.models import Layer
from petitions import attachments
from petitions.models import Attachment, FieldReport, Petition
from tests.conftest import make_user
from tests.petitions.conftest import inside, jpeg, new_petition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(photo: Attachment, kind: str) -> str:
    return f"/petitions/photos/{photo.key}/{kind}.jpg"


def citizen_photo(petition: Petition) -> Attachment:
    return attachments.save_attachment(attachments.process_image(jpeg(), "a.jpg"), petition=petition)


def field_photo(petition: Petition | None, officer, commune: str = "24931") -> Attachment:
    report = FieldReport.objects.create(
        client_uuid=uuid.uuid4(),
        content_hash="x",
        petition=petition,
        officer=officer,
        geom=inside(commune),
        accuracy_m=5,
        captured_at=timezone.now() - dt.timedelta(hours=1),
        commune_code=commune,
    )
    return attachments.save_attachment(
        attachments.process_image(jpeg(color=(0, 90, 0)), "f.jpg"), petition=petition, report=report
    )


@pytest.fixture
def scoped_leader(db):
    """A leader limited to Thạnh Mỹ (24931)."""
    return make_user("scoped_leader", roles.LEADER, communes=["24931"])


def test_photos_have_unguessable_addresses_and_the_old_sequential_ones_are_gone(client, district):
    petition = new_petition()
    photo = citizen_photo(petition)
    assert client.get(f"/petitions/attachments/{photo.pk}/public.jpg").status_code == 404
    assert client.get(f"/petitions/attachments/{photo.pk}/thumb.jpg").status_code == 404
    page = client.get(f"/petitions/track/{petition.tracking_code}/").content.decode()
    assert url(photo, "thumb") in page and url(photo, "public") in page and "/media/" not in page
    response = client.get(url(photo, "public"))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert client.get(f"/petitions/photos/{uuid.uuid4()}/public.jpg").status_code == 404


def test_anonymous_never_gets_a_field_report_photo(client, district, field_officer):
    petition = new_petition()
    photo = field_photo(petition, field_officer)
    for kind in ("public", "thumb", "original"):
        assert client.get(url(photo, kind)).status_code == 404, kind
    page = client.get(f"/petitions/track/{petition.tracking_code}/").content.decode()
    assert str(photo.key) not in page
    [row] = client.get(f"/open311/v2/requests/{petition.tracking_code}.json").json()
    assert row["media_url"] is None


def test_a_scoped_leader_is_refused_another_communes_originals(client, district, scoped_leader, field_officer):
    mine = new_petition(point=inside("24931"))
    theirs = new_petition(point=inside("24943"))
    client.force_login(scoped_leader)
    assert client.get(url(citizen_photo(mine), "original")).status_code == 200
    for photo in (citizen_photo(theirs), field_photo(theirs, field_officer, "24943")):
        response = client.get(url(photo, "original"))
        assert response.status_code == 403
        assert "địa bàn" in response.content.decode()
    loose = field_photo(None, field_officer, "24943")  # a report about no petition, in another commune
    assert client.get(url(loose, "original")).status_code == 403
    assert client.get(url(field_photo(None, field_officer, "24931"), "original")).status_code == 200


def test_staff_without_private_rights_get_copies_but_not_originals(client, district, planner, field_officer):
    petition = new_petition()
    photo = citizen_photo(petition)
    client.force_login(planner)
    assert client.get(url(photo, "thumb")).status_code == 200
    assert client.get(url(photo, "original")).status_code == 403
    assert client.get(url(field_photo(petition, field_officer), "thumb")).status_code == 403
    client.force_login(field_officer)  # his own report about no petition
    own = field_photo(None, field_officer)
    assert client.get(url(own, "original")).status_code == 200


def test_copies_follow_the_catalog_when_petitions_become_staff_only(client, district, leader):
    petition = new_petition()
    photo = citizen_photo(petition)
    Layer.objects.filter(slug="petitions").update(visibility="staff")
    assert client.get(url(photo, "public")).status_code == 404
    assert str(photo.key) not in client.get(f"/petitions/track/{petition.tracking_code}/").content.decode()
    client.force_login(leader)
    response = client.get(url(photo, "public"))
    assert response.status_code == 200 and response["Cache-Control"].startswith("private")
