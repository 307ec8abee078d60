"""The Django admin: accent-insensitive search, local map assets, roles and scopes visible."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from gis_ioc.models import AdminUnit
from tests.conftest import make_user


@pytest.fixture
def admin_client_vi(client, district, db):
    user = User.objects.create_superuser("root", "root@example.org", "pw-root-123456")
    client.force_login(user)
    return client


@pytest.mark.parametrize("term", ["thanh my", "Thạnh Mỹ", "THANH MY", "thạnh my"])
def test_commune_search_ignores_vietnamese_accents(admin_client_vi, term):
    response = admin_client_vi.get("/admin/gis_ioc/adminunit/", {"q": term})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thị trấn Thạnh Mỹ" in html
    assert "Xã Đạ Ròn" not in html
    assert list(response.context["cl"].result_list.values_list("code", flat=True)) == ["24931"]


def test_search_by_code_and_by_name_without_accents_of_a_d_letter(admin_client_vi):
    response = admin_client_vi.get("/admin/gis_ioc/adminunit/", {"q": "da ron"})
    assert [u.code for u in response.context["cl"].result_list] == ["24937"]
    response = admin_client_vi.get("/admin/gis_ioc/adminunit/", {"q": "2493"})
    assert {u.code for u in response.context["cl"].result_list} == {"24931", "24934", "24937"}


def test_the_validity_filter_shows_pro_only_among_past_versions(admin_client_vi):
    current = admin_client_vi.get("/admin/gis_ioc/adminunit/", {"validity": "current", "level__exact": "commune"})
    past = admin_client_vi.get("/admin/gis_ioc/adminunit/", {"validity": "past", "level__exact": "commune"})
    assert len(current.context["cl"].result_list) == 9
    assert {u.code for u in past.context["cl"].result_list} == {"24946", "24955"}


def test_the_change_page_map_loads_only_local_assets(admin_client_vi):
    unit = AdminUnit.objects.current().get(code="24937")
    response = admin_client_vi.get(f"/admin/gis_ioc/adminunit/{unit.pk}/change/")
    assert response.status_code == 200
    media = str(response.context["media"])
    assert "/static/vendor/ol/ol.js" in media
    assert not re.search(r"https?://", media)
    html = response.content.decode()
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == []
    assert "earthdata" not in html  # Django's default online basemap is replaced by the communes
    assert "Dân số theo năm" in html or "dân số theo năm" in html.lower()  # the population inline


def test_the_commune_geojson_behind_the_admin_map_is_served_by_the_platform(admin_client_vi):
    response = admin_client_vi.get("/admin/communes.geojson")
    features = response.json()["features"]
    assert len(features) == 9  # current communes, after the 2025 merger
    lon, lat = features[0]["geometry"]["coordinates"][0][0][0]
    assert 108.3 < lon < 108.8 and 11.5 < lat < 12.1  # RFC 7946: longitude, latitude


def test_the_user_list_shows_roles_and_commune_scope(admin_client_vi):
    make_user("officer_a", "field_officer", communes=["24931"])
    response = admin_client_vi.get("/admin/auth/user/", {"q": "officer_a"})
    html = response.content.decode()
    assert "Cán bộ hiện trường" in html
    assert "24931" in html


def test_the_group_list_names_each_role(admin_client_vi):
    make_user("planner_b", "planner")
    html = admin_client_vi.get("/admin/auth/group/").content.decode()
    assert "Cán bộ quy hoạch" in html and "Lãnh đạo" in html


def test_editing_a_boundary_recomputes_its_area(admin_client_vi):
    unit = AdminUnit.objects.current().get(code="24937")
    square = "SRID=4326;MULTIPOLYGON(((108.5 11.8,108.51 11.8,108.51 11.81,108.5 11.81,108.5 11.8)))"
    data = {
        "code": unit.code, "name": unit.name, "level": unit.level, "unit_type": unit.unit_type,
        "parent": unit.parent_id, "valid_from": "2009-01-01", "valid_to": "", "geom": square,
        "source": "drawn in the admin", "is_demo": "on",
        "populations-TOTAL_FORMS": "0", "populations-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = admin_client_vi.post(f"/admin/gis_ioc/adminunit/{unit.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    unit.refresh_from_db()
    assert unit.area_km2 == pytest.approx(1.2, rel=0.05)  # 0.01° × 0.01° at 11.8° N ≈ 1.09 × 1.11 km


def test_a_role_groups_permissions_are_shown_from_the_declaration_and_cannot_be_edited(admin_client_vi):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="planner")
    page = admin_client_vi.get(f"/admin/auth/group/{group.pk}/change/")
    html = page.content.decode()
    assert "quy hoạch" in html.lower() and "xem, thêm, sửa, xoá" in html
    assert 'name="permissions"' not in html  # nothing to tick: the next migrate would undo it
    admin_client_vi.post(f"/admin/auth/group/{group.pk}/change/", {"name": "renamed", "permissions": []})
    group.refresh_from_db()
    assert group.name == "planner" and group.permissions.exists()


def test_admin_access_is_shown_on_a_user_never_set_by_hand(admin_client_vi):
    user = make_user("gis_c", "gis_staff")
    html = admin_client_vi.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert 'name="is_staff"' not in html and 'name="user_permissions"' not in html
    assert 'name="groups"' in html
