"""The admin change page of a commune in headless Chromium: the map draws, with no request off the host."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import User

from gis_ioc.models import AdminUnit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip


@pytest.fixture
def signed_in_session(client, district, transactional_db):
    user = User.objects.create_superuser("root", "root@example.org", "pw-root-123456")
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_the_commune_map_draws_in_the_admin_without_leaving_the_host(live_server, signed_in_session, tmp_path):
    from playwright.sync_api import sync_playwright

    unit = AdminUnit.objects.current().get(code="24937")
    host = urlparse(live_server.url).netloc
    foreign: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1100}, locale="vi-VN")
        context.add_cookies([{"name": "sessionid", "value": signed_in_session, "url": live_server.url}])
        page = context.new_page()
        page.on("request", lambda r: urlparse(r.url).netloc not in (host, "") and foreign.append(r.url))
        page.goto(f"{live_server.url}/admin/gis_ioc/adminunit/{unit.pk}/change/")
        page.wait_for_load_state("networkidle")
        canvas = page.locator("#id_geom_map canvas").first
        canvas.wait_for(state="visible", timeout=15000)
        box = canvas.bounding_box()
        # Count non-blank pixels of the map: the commune outline and the district's boundaries are drawn.
        drawn = page.evaluate(
            """() => { const c = document.querySelector('#id_geom_map canvas');
                      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
        )
        shot = os.environ.get("IOC_SCREENSHOT_DIR")
        folder = Path(shot) if shot else tmp_path
        page.screenshot(path=str(folder / "admin_commune.png"), full_page=True)
        page.locator("#id_geom_map").screenshot(path=str(folder / "admin_commune_map.png"))
        browser.close()
    assert box and box["width"] > 300 and box["height"] > 200
    assert drawn > 1000
    assert foreign == []
