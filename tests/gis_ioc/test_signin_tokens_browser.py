"""The token page in headless Chromium: a person creates a token, copies it, and revokes it."""

from __future__ import annotations

import pytest
import requests

from gis_ioc.models import ApiToken
from tests.dashboard.test_browser import SHOTS, browser, open_page  # noqa: F401 (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_person_creates_copies_and_revokes_a_token_in_the_browser(browser, live_server, district, gis_staff):  # noqa: F811
    page = open_page(browser, live_server, gis_staff)
    page.goto(f"{live_server.url}/")
    page.click(".shell-user summary")  # the user box of every page's top bar
    page.click(".shell-user-panel >> text=Khóa API")
    page.wait_for_url("**/account/tokens/")
    assert page.url.endswith("/account/tokens/")
    page.fill("input[name=name]", "QGIS máy phòng Tài nguyên")
    page.click("button:has-text('Tạo khóa')")
    key = page.text_content("#new-token-key").strip()
    assert page.is_visible("text=khóa chỉ hiện một lần")
    page.screenshot(path=str(SHOTS / "account-tokens.png"), full_page=True)
    tiles = f"{live_server.url}/tiles/household-businesses.json"
    assert requests.get(tiles, headers={"Authorization": f"Token {key}"}, timeout=30).status_code == 200

    page.goto(f"{live_server.url}/account/tokens/")
    assert key not in page.content()
    row = page.locator("#tokens tbody tr").first
    assert "QGIS máy phòng Tài nguyên" in row.text_content() and "chưa dùng" not in row.text_content()
    row.locator("button:has-text('Thu hồi')").click()
    page.wait_for_url(f"{live_server.url}/account/tokens/")
    assert "đã thu hồi" in page.locator("#tokens tbody tr").first.text_content()
    assert requests.get(tiles, headers={"Authorization": f"Token {key}"}, timeout=30).status_code == 401
    assert not ApiToken.objects.active().exists()
    assert page.errors == []
