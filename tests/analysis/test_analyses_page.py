"""The analyses page in a real browser: start an analysis, follow its progress, see its result on a map."""

from __future__ import annotations

import pytest
from django.test import Client

from analysis import runner
from analysis.models import Analysis

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_gis_officer_runs_an_analysis_from_the_page(live_server, gis_staff, population_raster, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls below are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    client = Client()
    client.force_login(gis_staff)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
            )
            page = context.new_page()
            page.goto(f"{live_server.url}/analyses/")
            page.select_option("#type", "zonal")
            # Only the chosen analysis's parameters are shown.
            expect(page.locator("fieldset[data-type=zonal]")).to_be_visible()
            expect(page.locator("fieldset[data-type=coverage]")).to_be_hidden()
            page.fill("#id_zonal-raster", "population-density")
            page.select_option("#communes", ["24931", "24937"])
            page.click("main button[type=submit]")
            page.wait_for_url("**/analyses/*/")
            expect(page.locator(".badge")).to_have_text("Đang chờ")
            analysis = Analysis.objects.get()
            assert analysis.parameters["communes"] == ["24931", "24937"]
            runner.execute(analysis.pk)  # the worker's code, run here; the page polls and reloads itself
            expect(page.locator(".badge").first).to_have_text("Hoàn thành", timeout=15_000)
            expect(page.locator("table").first).to_contain_text("24937")
            expect(page.locator("#map canvas")).to_be_visible()
        finally:
            browser.close()
