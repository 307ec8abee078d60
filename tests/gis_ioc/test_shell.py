"""The one shell (gis_ioc/shell.py): every role's menu holds exactly the pages that role may open, the header
says who is signed in, and errors are friendly pages inside the shell (JSON on API paths)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django.urls import path

from gis_ioc import roles, shell
from gis_ioc import urls as site_urls
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# What each role finds in the menu, written out by hand: a change to a rule shows here as a failing role.
EXPECTED = {
    "anonymous": {"map", "communes", "compare", "catalog", "petition-new", "petition-track"},
    roles.LEADER: {"map", "communes", "compare", "alerts", "alert-rules", "desk", "exports", "catalog", "tokens",
                   "analyses"},
    roles.PLANNER: {"map", "communes", "compare", "alerts", "analyses", "exports", "catalog", "tokens", "admin"},
    roles.FIELD_OFFICER: {"map", "communes", "compare", "alerts", "desk", "field", "analyses", "exports", "catalog",
                          "tokens"},
    roles.GIS_STAFF: {"map", "communes", "compare", "alerts", "analyses", "imports", "exports", "catalog", "tokens",
                      "admin"},
    roles.AGENCY_STAFF: {"map", "communes", "compare", "alerts", "desk", "analyses", "exports", "catalog", "tokens",
                         "admin"},
    roles.ADMINISTRATOR: {entry.key for entry in shell.ENTRIES} - {"petition-new", "petition-track"},
}  # fmt: skip
for _keys in EXPECTED.values():
    _keys.add("lookup")  # the citizens' planning lookup is everyone's


def _client(role: str) -> tuple[Client, object]:
    client = Client()
    if role == "anonymous":
        return client, None
    user = make_user(f"shell-{role}", role)
    client.force_login(user)
    return client, user


def _menu_keys(html: str) -> set[str]:
    return set(re.findall(r'data-menu="([a-z-]+)"', html))


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_is_offered_exactly_the_pages_it_may_open(district, role):
    client, user = _client(role)
    home = client.get("/")
    assert home.status_code == 200
    shown = _menu_keys(home.content.decode())
    assert shown == EXPECTED[role]
    for entry in shell.ENTRIES:
        answer = client.get(entry.url, HTTP_ACCEPT="text/html")
        if entry.key in shown:
            assert answer.status_code == 200, (entry.key, answer.status_code)
        elif user is None:
            # A visitor is sent to sign in (or, for a page no account could widen, refused).
            assert answer.status_code in (302, 403), (entry.key, answer.status_code)
        elif entry.key in ("petition-new", "petition-track"):
            continue  # citizens' doors stay open to staff; the menu keeps them out of a working menu
        elif entry.key == "admin":
            assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")  # Django's own
        else:
            assert answer.status_code == 403, (entry.key, answer.status_code)
            assert 'class="shell-bar"' in answer.content.decode()


def test_the_header_names_the_user_their_role_and_their_communes(district):
    officer = make_user("scoped-officer", roles.FIELD_OFFICER, communes=["24931"])
    officer.first_name, officer.last_name = "Lan", "Nguyễn Thị"
    officer.save()
    client = Client()
    client.force_login(officer)
    html = client.get("/petitions/desk/").content.decode()
    assert "Lan Nguyễn Thị" in html
    assert '<dd data-who="roles">Cán bộ hiện trường</dd>' in html
    assert '<dd data-who="area">Thị trấn Thạnh Mỹ</dd>' in html
    # The same header on every app: the analyses, the alert centre and the field app draw it too.
    for page in ("/analyses/", "/alerts/", "/field/", "/exports/", "/account/tokens/"):
        assert '<dd data-who="area">Thị trấn Thạnh Mỹ</dd>' in client.get(page).content.decode(), page
    district_wide = make_user("district-leader", roles.LEADER)
    client.force_login(district_wide)
    assert '<dd data-who="area">Toàn huyện</dd>' in client.get("/").content.decode()


def test_a_gis_officer_on_the_petition_desk_gets_a_vietnamese_page_with_a_way_back(district, gis_staff):
    client = Client()
    client.force_login(gis_staff)
    answer = client.get("/petitions/desk/")
    html = answer.content.decode()
    assert answer.status_code == 403
    assert "Bạn không có quyền mở trang này" in html
    assert "Chỉ cán bộ được mở bàn làm việc phản ánh." in html  # the view's own reason
    assert 'href="/"' in html and "Về bản đồ điều hành" in html
    assert 'data-menu="imports"' in html  # inside the shell: the officer's own menu is there
    assert "403 Forbidden" not in html


def test_an_unknown_address_is_a_404_page_in_the_shell_in_either_language(district):
    client = Client()
    answer = client.get("/khong-co-trang-nay/")
    assert answer.status_code == 404
    assert "Không tìm thấy trang" in answer.content.decode()
    assert 'class="shell-bar"' in answer.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/no-such-page/").content.decode()
    assert "Page not found" in english and '<html lang="en">' in english


def test_an_api_path_answers_its_errors_in_json(district):
    answer = Client().get("/api/v1/no-such-thing/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["status"] == 404


def _boom(request):
    raise RuntimeError("the database went away")


urlpatterns = [path("boom/", _boom), *site_urls.urlpatterns]
handler500 = "gis_ioc.shell.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_a_friendly_page_that_hides_the_cause(district):
    answer = Client(raise_request_exception=False).get("/boom/")
    html = answer.content.decode()
    assert answer.status_code == 500
    assert "Hệ thống gặp lỗi" in html and "Dữ liệu của bạn không bị thay đổi" in html
    assert "database went away" not in html and "Server Error (500)" not in html
    assert 'class="shell-menu"' in html  # drawn in the shell, menu and all


def test_a_form_sent_without_its_csrf_token_is_refused_with_a_message(district):
    answer = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    assert answer.status_code == 403
    assert "Hãy tải lại trang rồi gửi lại" in answer.content.decode()


def test_a_method_an_address_does_not_take_is_a_405_naming_the_ones_it_does(district):
    answer = Client().post("/tiles/basemap/style.json", {})
    assert answer.status_code == 405 and answer["Allow"] == "GET"
    assert "POST" in answer.json()["detail"] and "GET" in answer.json()["detail"]
    page = Client().post("/communes/", {})
    assert page.status_code == 405 and 'class="shell-bar"' in page.content.decode()
