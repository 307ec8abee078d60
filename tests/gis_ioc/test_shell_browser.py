"""The one shell in headless Chromium, for every role: the menu button opens the menu with exactly the role's
pages (tests/gis_ioc/test_shell.py holds the table and ties each entry to its page's own rule), a click on an
entry opens that page, Escape closes the menu, and a refused page is the friendly one inside the shell.

Screenshots go to build/screenshots/ (IOC_SCREENSHOT_DIR=docs/screenshots to refresh the committed ones).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis_ioc import roles
from tests.browser import chromium
from tests.conftest import make_user
from tests.dashboard.conftest import client_for
from tests.gis_ioc.test_shell import EXPECTED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("IOC_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "build" / "screenshots"))


@pytest.fixture
def browser(transactional_db) -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(["--lang=vi-VN"]) as instance:
        yield instance


def _page(browser, live_server, user, *, width: int = 1366, height: int = 768):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    if user is not None:
        context.add_cookies([{"name": "sessionid", "value": client_for(user).cookies["sessionid"].value,
                              "url": live_server.url}])  # fmt: skip
    return context.new_page()


def _open_menu(page) -> set[str]:
    page.locator(".shell-menu summary").click()
    links = page.locator(".shell-menu-panel a")
    links.first.wait_for(state="visible")
    return {links.nth(i).get_attribute("data-menu") for i in range(links.count()) if links.nth(i).is_visible()}


def test_every_role_sees_its_own_menu_and_the_menu_leads_to_the_page(district, live_server, browser):
    for role, expected in EXPECTED.items():
        user = None if role == "anonymous" else make_user(f"menu-{role}", role)
        page = _page(browser, live_server, user)
        page.goto(live_server.url + "/communes/")
        assert _open_menu(page) == expected, role
        if user is not None:
            page.locator(".shell-user summary").click()  # the menu closes when the user box opens
            assert not page.locator(".shell-menu-panel").is_visible()
            assert page.locator('[data-who="roles"]').inner_text() == str(roles.ROLES[role])
        page.keyboard.press("Escape")
        assert not page.locator(".shell-user-panel, .shell-menu-panel").first.is_visible()
        page.context.close()


def test_a_gis_officer_on_the_map_finds_imports_analyses_and_the_admin(district, live_server, browser):
    officer = make_user("menu-gis", roles.GIS_STAFF)
    page = _page(browser, live_server, officer)
    page.goto(live_server.url + "/")
    shown = _open_menu(page)
    assert {"imports", "analyses", "admin"} <= shown and "desk" not in shown
    page.screenshot(path=str(SHOTS / "shell-menu-gis-officer.png"))
    page.locator('.shell-menu-panel a[data-menu="imports"]').click()
    page.wait_for_url(live_server.url + "/imports/")
    assert page.locator("h1").first.inner_text() == "Nhập dữ liệu GIS"
    assert page.locator(".shell-bar").count() == 1
    # The petition desk is not his: a page in the shell says so in Vietnamese, with a way back.
    page.goto(live_server.url + "/petitions/desk/")
    assert page.locator("h1").inner_text() == "Bạn không có quyền mở trang này"
    assert page.locator(".error-message").inner_text() == "Chỉ cán bộ được mở bàn làm việc phản ánh."
    page.screenshot(path=str(SHOTS / "shell-403.png"))
    page.locator("a.shell-button").click()
    page.wait_for_url(live_server.url + "/")
    page.context.close()


def test_on_a_phone_the_menu_fits_and_the_language_switch_works(district, live_server, browser):
    page = _page(browser, live_server, None, width=360, height=740)
    page.goto(live_server.url + "/petitions/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _open_menu(page)
    box = page.locator(".shell-menu-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    page.screenshot(path=str(SHOTS / "shell-menu-phone.png"))
    page.keyboard.press("Escape")
    page.locator('.shell-lang button[value="en"]').click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".shell-menu-word").inner_text() in ("Menu", "")  # the word is hidden on phones
    assert page.locator(".shell-signin").inner_text() == "Sign in"
    page.context.close()
