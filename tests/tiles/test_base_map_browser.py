"""The offline base map in headless Chromium, on every kind of map page: relief shading over the page's flat
colours, commune names drawn, and not one request leaving the server.

Screenshots go to build/screenshots/ (IOC_SCREENSHOT_DIR=docs/screenshots to refresh the committed ones).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import chromium
from tests.dashboard.conftest import client_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("IOC_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "build" / "screenshots"))
# A promise awaited in the page, given up after `ms` (a bare evaluate of a promise that never settles waits forever).
def within(promise: str, ms: int = 30_000) -> str:
    fail = f"new Promise((_, no) => setTimeout(() => no(new Error('not settled in {ms} ms: ' + {promise!r})), {ms}))"
    return f"() => Promise.race([{promise}, {fail}])"


SETTLED = "() => (window.iocMaps || []).length && window.iocMaps.every((m) => m.loaded() && m.areTilesLoaded())"


@pytest.fixture
def browser(transactional_db) -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(["--lang=vi-VN"]) as instance:
        yield instance


def open_map_page(browser, live_server, path: str, user=None, *, width=1366, height=768):
    """The page at `path` with its maps' base drawn and settled; returns (page, every URL it requested)."""
    # bypass_csp: wait_for_function evaluates a string (the pages run under the policy in test_csp_browser).
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", bypass_csp=True)
    if user is not None:
        session = client_for(user).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    requested: list[str] = []
    failed: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    done: set[str] = set()
    page.on("requestfinished", lambda r: done.add(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + path)
    try:
        page.wait_for_function("() => (window.iocMaps || []).length > 0", timeout=20_000)
        page.evaluate(within("Promise.all(window.iocMaps.map((m) => m.baseReady))"))
        page.wait_for_function(SETTLED, timeout=30_000)
    except Exception as exc:  # the page's own errors say why its maps never settled
        unanswered = [u for u in requested if u not in done]
        raise AssertionError(f"{path}: {exc}; errors: {errors}; failed: {failed}; unanswered: {unanswered}") from exc
    assert not failed, failed
    return page, requested


def assert_all_local(requested: list[str], live_server) -> None:
    outside = [u for u in requested if not u.startswith(live_server.url) and not u.startswith(("data:", "blob:"))]
    assert not outside, outside


def map_pixels(page, selector: str = "#map") -> np.ndarray:
    png = page.locator(selector).first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L")).astype(float)


def shading(page, selector: str = "#map") -> np.ndarray:
    """How much the hillshade changes each pixel of the map: the map with it minus the map without it."""
    with_relief = map_pixels(page, selector)
    page.evaluate("() => window.iocMaps.forEach((m) => m.setLayoutProperty('base-hillshade', 'visibility', 'none'))")
    page.wait_for_function(SETTLED, timeout=20_000)
    page.evaluate(within("new Promise((r) => window.iocMaps[0].once('idle', r).triggerRepaint())", 20_000))
    without = map_pixels(page, selector)
    page.evaluate("() => window.iocMaps.forEach((m) => m.setLayoutProperty('base-hillshade', 'visibility', 'visible'))")
    page.wait_for_function(SETTLED, timeout=20_000)
    return with_relief - without


def test_the_dashboard_map_shows_relief_over_its_choropleth_all_from_this_server(
    demo_rasters, leader, live_server, browser
):
    page, requested = open_map_page(browser, live_server, "/", leader)
    page.wait_for_function("document.body.dataset.mapReady", timeout=20_000)
    page.locator("#map").screenshot(path=str(SHOTS / "basemap-dashboard.png"))
    diff = shading(page)
    # Shadows and lit slopes across the communes, where the choropleth alone is one flat colour per commune.
    assert (diff < -6).mean() > 0.05 and (diff > 3).mean() > 0.02, (diff.min(), diff.max())
    assert any("/tiles/raster/hillshade/" in u for u in requested)
    assert_all_local(requested, live_server)


def test_the_public_petition_map_names_the_communes_with_their_diacritics(demo_rasters, live_server, browser):
    page, requested = open_map_page(browser, live_server, "/petitions/", width=390, height=844)
    names = page.evaluate(
        "() => window.iocMaps[0].queryRenderedFeatures({layers: ['base-labels']}).map((f) => f.properties.name)"
    )
    assert "Thị trấn Thạnh Mỹ" in names, names  # placed and drawn (MapLibre drops labels it has no glyphs for)
    assert any("/static/vendor/glyphs/DejaVu%20Sans%20Bold/7680-7935.pbf" in u for u in requested)
    assert (np.abs(shading(page)) > 6).mean() > 0.02
    page.screenshot(path=str(SHOTS / "basemap-public-petition.png"))
    assert_all_local(requested, live_server)


def test_the_field_app_and_the_comparison_draw_the_same_base(
    demo_rasters, field_officer, planner, live_server, browser
):
    for path, user, shot in [("/field/", field_officer, "basemap-field.png"), ("/planning/compare/", planner, None)]:
        page, requested = open_map_page(browser, live_server, path, user, width=390 if shot else 1366)
        layers = page.evaluate("() => window.iocMaps.map((m) => m.getStyle().layers.map((l) => l.id))")
        for ids in layers:
            assert {"base-hillshade", "base-boundaries", "base-labels"} <= set(ids), ids
            # The page's own layers sit between the background and the names.
            assert ids[0] == "base-background" and ids[-1] == "base-labels", ids
        page.screenshot(path=str(SHOTS / (shot or "basemap-compare.png")))
        assert_all_local(requested, live_server)
