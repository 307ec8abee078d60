"""The planning lookup in headless Chromium: by key, by a tap on the map, and the printed sheet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from layers.demo import publish_cadastre
from tests.browser import chromium
from tests.dashboard.test_lookup import plan_area  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(os.environ.get("IOC_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "build" / "screenshots"))


@pytest.fixture
def browser(transactional_db) -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(["--lang=vi-VN"]) as instance:
        yield instance


def test_a_citizen_finds_the_plan_by_key_by_tap_and_prints_it(plan_area, live_server, browser):  # noqa: F811
    publish_cadastre()
    # bypass_csp: wait_for_function evaluates a string (the page runs under the policy in the pages walk).
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="vi-VN", bypass_csp=True)
    page.goto(live_server.url + "/planning/lookup/?key=24931/12/345")
    page.wait_for_function("document.body.dataset.lookupReady", timeout=30_000)
    assert "ONT-07" in page.locator("#lookup-answer").inner_text()
    assert page.locator("[data-conflict='1']").count() == 1
    page.screenshot(path=str(SHOTS / "planning-lookup.png"))
    # A tap in the middle of the parcel asks again, by the point.
    point = plan_area.geom.point_on_surface
    xy = page.evaluate(f"() => window.iocMaps[0].project([{point.x}, {point.y}])")
    box = page.locator("#lookup-map").bounding_box()
    page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])
    page.wait_for_function("Number(document.body.dataset.answered || 0) >= 1", timeout=20_000)
    assert "lon=" in page.url and "24931/12/345" in page.locator("#lookup-answer").inner_text()
    page.goto(live_server.url + "/planning/lookup/print?key=24931/12/345")
    assert page.locator("svg.extract path").count() >= 2  # the zone and the parcel
    assert page.locator(".qr svg").count() == 1
    page.close()
