"""/account/tokens/: each signed-in person issues named tokens (the key shown once), sees when each was
created and last used, and revokes them; nobody else's tokens, and never through a token."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from gis_ioc.models import ApiToken
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
PAGE = "/account/tokens/"


def issued_key(response) -> str:
    match = re.search(r'<code id="new-token-key">([^<]+)</code>', response.content.decode())
    assert match, "the new key is on the page"
    return match.group(1)


def test_a_person_creates_a_named_token_sees_it_once_and_it_opens_the_api(client, district, gis_staff):
    client.force_login(gis_staff)
    response = client.post(PAGE, {"name": "  QGIS   phòng Tài nguyên "})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = issued_key(response)
    assert key.startswith("ioc_") and len(key) > 40
    token = ApiToken.objects.get(user=gis_staff)
    assert token.name == "QGIS phòng Tài nguyên"
    assert key not in (token.digest, token.hint) and token.digest == ApiToken.digest_of(key)  # stored hashed
    listed = client.get(PAGE).content.decode()
    assert "QGIS phòng Tài nguyên" in listed and token.hint in listed and key not in listed  # never shown again
    assert "chưa dùng" in listed
    assert client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert "chưa dùng" not in client.get(PAGE).content.decode()  # the last use is on the page now


def test_a_revoked_token_is_refused_and_shown_as_revoked(client, district, gis_staff):
    client.force_login(gis_staff)
    key = issued_key(client.post(PAGE, {"name": "notebook"}))
    token = ApiToken.objects.get(user=gis_staff)
    response = client.post(f"/account/tokens/{token.pk}/revoke")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    page = client.get(PAGE).content.decode()
    assert "đã thu hồi" in page and f'action="/account/tokens/{token.pk}/revoke"' not in page


def test_nobody_sees_or_revokes_another_persons_tokens(client, district, gis_staff, leader):
    theirs = ApiToken.issue(gis_staff, "QGIS của anh Minh")
    client.force_login(leader)
    assert "QGIS của anh Minh" not in client.get(PAGE).content.decode()
    assert client.post(f"/account/tokens/{theirs.pk}/revoke").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_a_token_cannot_issue_or_revoke_tokens(district, gis_staff):
    """A leaked key must not be able to mint its own successor before it is revoked."""
    token = ApiToken.issue(gis_staff, "script")
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.post(PAGE, {"name": "successor"}, **auth).status_code == 403
    assert client.post(f"/account/tokens/{token.pk}/revoke", **auth).status_code == 403
    assert ApiToken.objects.filter(user=gis_staff).count() == 1 and ApiToken.objects.get().is_active


def test_the_page_asks_visitors_to_sign_in(client, district):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_a_token_needs_a_name_and_the_page_says_so(client, district, gis_staff):
    client.force_login(gis_staff)
    response = client.post(PAGE, {"name": "   "})
    assert response.status_code == 400 and "Hãy đặt tên cho khóa" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_number_of_active_tokens_is_capped(client, district):
    person = make_user("busy")
    for i in range(20):
        ApiToken.issue(person, f"máy {i}")
    client.force_login(person)
    response = client.post(PAGE, {"name": "one more"})
    assert response.status_code == 400 and "thu hồi một khóa" in response.content.decode()
    ApiToken.objects.filter(user=person).first().revoke()
    assert client.post(PAGE, {"name": "one more"}).status_code == 200


def test_the_page_reads_in_english_too(client, district, gis_staff):
    client.force_login(gis_staff)
    page = client.post(f"{PAGE}?lang=en", {"name": "QGIS"}).content.decode()
    assert "Copy the token now" in page and "Your tokens" in page and "Revoke" in page


def test_the_command_issues_a_token_for_a_service_account(client, district, gis_staff):
    out = io.StringIO()
    call_command("create_api_token", "gis_staff", "--name", "ogr2ogr đêm", stdout=out)
    key = out.getvalue().strip()
    assert ApiToken.objects.get(user=gis_staff).name == "ogr2ogr đêm"
    assert client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_an_administrator_sees_everyones_tokens_without_keys_and_revokes_them(client, district, gis_staff):
    from django.contrib.auth.models import User

    token = ApiToken.issue(gis_staff, "laptop bị mất")
    client.force_login(User.objects.create_superuser("root_t", "root@example.org", "pw-root-t-123"))
    listing = client.get("/admin/gis_ioc/apitoken/").content.decode()
    assert "laptop bị mất" in listing and token.key not in listing and token.digest not in listing
    response = client.post(
        "/admin/gis_ioc/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert not token.is_active
    assert client.get("/admin/gis_ioc/apitoken/add/").status_code == 403  # issued by owners only
