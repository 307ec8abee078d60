"""The admin shows petitions but changes none of what the workflow owns: status, dates, assignment, category."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from layers.models import Layer
from petitions.models import Petition, PetitionEvent
from tests.petitions.conftest import new_petition


@pytest.fixture
def root_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root-123"))
    return client


def test_the_admin_change_form_cannot_set_the_status_or_category(root_client, district):
    petition = new_petition()
    url = reverse("admin:petitions_petition_change", args=[petition.pk])
    page = root_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="status"' not in html and 'name="category"' not in html and 'name="received_at"' not in html
    assert 'name="description"' in html  # the text itself can still be corrected
    form = {
        "description": "Sửa nội dung",
        "status": "closed",
        "category": "dat_dai",
        "reporter_name": "",
        "reporter_phone": "",
        "reporter_email": "",
        "address": "",
        "geom": petition.geom.ewkt,
        "reporters-TOTAL_FORMS": "0",
        "reporters-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    version = Layer.objects.get(slug="petitions").version
    assert root_client.post(url, form).status_code == 302
    after = Petition.objects.get(pk=petition.pk)
    assert (after.status, after.category, after.description) == ("received", "moi_truong", "Sửa nội dung")
    assert Layer.objects.get(slug="petitions").version == version + 1  # the correction reaches maps and tiles
    assert list(PetitionEvent.objects.filter(petition=petition).values_list("action", flat=True)) == ["receive"]


def test_the_admin_offers_no_add_and_no_delete_of_petitions(root_client, district):
    petition = new_petition()
    assert root_client.get(reverse("admin:petitions_petition_add")).status_code == 403
    assert root_client.get(reverse("admin:petitions_petition_delete", args=[petition.pk])).status_code == 403
    assert Petition.objects.filter(pk=petition.pk).exists()
