"""Vietnamese by default, English a switch away (the VI/EN switch's cookie via /i18n/setlang/, or ?lang=en)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

HEADER_VI = "gis_ioc — Quản trị Trung tâm điều hành"
HEADER_EN = "gis_ioc — Operations Center administration"


@pytest.mark.django_db
def test_pages_are_vietnamese_by_default(client):
    html = client.get("/admin/login/").content.decode()
    assert '<html lang="vi"' in html
    assert HEADER_VI in html and "Tên đăng nhập" in html


@pytest.mark.django_db
def test_a_browser_set_to_english_still_opens_in_vietnamese(client):
    """District offices' browsers are often in English; the platform opens in Vietnamese for them."""
    response = client.get("/admin/login/", headers={"accept-language": "en-US,en;q=0.9"})
    html = response.content.decode()
    assert '<html lang="vi"' in html and HEADER_VI in html
    assert response["Content-Language"] == "vi"


@pytest.mark.django_db
def test_lang_in_the_address_switches_to_english_and_is_remembered(client):
    response = client.get("/admin/login/", {"lang": "en"})
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert HEADER_EN in html and "Username" in html
    assert response.cookies["django_language"].value == "en"
    assert HEADER_EN in client.get("/admin/login/").content.decode()
    assert HEADER_VI in client.get("/admin/login/", {"lang": "vi"}).content.decode()
    assert HEADER_VI in client.get("/admin/login/", {"lang": "xx"}).content.decode(), "unknown: no change"


@pytest.mark.django_db
def test_the_language_switch_sets_a_cookie_that_wins_over_the_browser(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
    html = client.get("/admin/login/", headers={"accept-language": "vi"}).content.decode()
    assert HEADER_EN in html
    client.post("/i18n/setlang/", {"language": "vi", "next": "/admin/login/"})
    assert HEADER_VI in client.get("/admin/login/").content.decode()


@pytest.mark.django_db
def test_model_names_and_choices_of_admin_units_are_translated(client, district):
    client.force_login(User.objects.create_superuser("root", "r@example.org", "pw-root-123456"))
    client.cookies["django_language"] = "en"
    html = client.get("/admin/gis_ioc/adminunit/", {"level__exact": "commune"}).content.decode()
    assert "Administrative units" in html and "Commune scopes" in html
    assert "Commune/Ward/Township" in html and "Township" in html
    client.cookies["django_language"] = "vi"
    html = client.get("/admin/gis_ioc/adminunit/", {"level__exact": "commune"}).content.decode()
    assert "Đơn vị hành chính" in html and "Xã/Phường/Thị trấn" in html
