"""The dashboard in headless Chromium against a live server with demo-like data.

Screenshots of every page go to build/screenshots/ (IOC_SCREENSHOT_DIR to change it); a run never rewrites the
committed ones in docs/screenshots/ (those come from `benchmarks/dashboard.py --screenshots` on the demo).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium
from tests.dashboard.conftest import client_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("IOC_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "build" / "screenshots"))
YEAR = "start=2024-01-01&end=2024-12-31"
BACKGROUND = (0xEE, 0xF1, 0xF4)


@pytest.fixture
def browser(transactional_db) -> Iterator[object]:
    """Chromium (tests/browser.py), with the browser's language set to Vietnamese."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(["--lang=vi-VN"]) as instance:
        yield instance


def open_page(browser, live_server, user=None, *, width=1366, height=768):
    """A page at 1366×768 in Vietnamese, signed in as `user` (or a visitor)."""
    # bypass_csp: wait_for_function evaluates its string with eval, which the site's policy forbids; the
    # pages themselves are checked under the real policy by tests/gis_ioc/test_csp_browser.py.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", bypass_csp=True)
    if user is not None:
        session = client_for(user).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def wait_dashboard(page) -> None:
    page.wait_for_function("document.body.dataset.kpisReady && document.body.dataset.mapReady", timeout=20_000)
    # Tiles arrive after the first idle event when layers are switched on; wait for the map to settle.
    page.wait_for_function("window.dashboardMap.loaded() && window.dashboardMap.areTilesLoaded()", timeout=20_000)


def non_background_share(png: bytes) -> float:
    """Share of the screenshot's pixels that are not the map's background colour."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = list(image.getdata())
    return sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, BACKGROUND, strict=True)) > 8) / len(pixels)


def decode_mvt(body: bytes) -> dict:
    import gzip

    import mapbox_vector_tile

    return mapbox_vector_tile.decode(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)


def test_the_map_draws_tiles_choropleth_legend_then_drill_down_and_time_range(demo, leader, live_server, browser):
    page = open_page(browser, live_server, leader)
    tiles, school_tiles = [], []

    def seen(r) -> None:
        if "/tiles/schools/" in r.url:
            tiles.append(r.status)
            if r.status == 200:
                school_tiles.append(r.body())

    page.on("response", seen)
    page.goto(f"{live_server.url}/?{YEAR}&stat=petitions_received")
    wait_dashboard(page)
    map_png = page.locator("#map").screenshot()
    assert non_background_share(map_png) > 0.3
    assert tiles and set(tiles) <= {200, 204, 304}
    # At least one school per commune reaches the map from the vector tiles: counted in the tiles the page
    # received (on a clean CI clone the rendered count stayed 0 while tiles were being redrawn; see the note).
    page.wait_for_function("window.dashboardMap.loaded()", timeout=20_000)
    served = sum(len(decode_mvt(body).get("schools", {}).get("features", [])) for body in school_tiles)
    assert served >= 9
    colour = page.evaluate("window.dashboardMap.getFeatureState({source: 'communes', id: 24955}).color")
    assert colour == "#440154"  # the commune with most petitions is in the darkest viridis class
    legend = page.locator("#choropleth-legend .legend-row")
    assert legend.count() == 5
    assert "Phản ánh tiếp nhận" in page.locator("#choropleth-legend h4").inner_text()
    assert page.locator(".commune-label").count() == 9
    assert "54" in page.locator('.kpi[data-key="petitions_received"] .kpi-value').inner_text()
    assert page.errors == []
    page.screenshot(path=str(SHOTS / "dashboard.png"))
    check_a_feature_popup_shows_its_whitelisted_attributes(page)
    # The same page, on: drill-down and back, then the time selector (one page load for the three).
    check_clicking_a_commune_opens_its_profile_and_back_returns(page)
    check_the_time_selector_changes_the_kpis_and_refuses_an_inverted_range(page)


def check_a_feature_popup_shows_its_whitelisted_attributes(page):
    x, y = page.evaluate(
        """() => { const m = window.dashboardMap;
                   const r = document.getElementById('map').getBoundingClientRect();
                   // A school not hidden under a label, the legend or the layer switcher.
                   for (const f of m.queryRenderedFeatures({layers: ['lyr-schools']})) {
                     const p = m.project(f.geometry.coordinates);
                     const x = r.left + p.x, y = r.top + p.y;
                     if (document.elementFromPoint(x, y) === m.getCanvas()) return [x, y];
                   } }"""
    )
    page.mouse.click(x, y)
    popup = page.locator(".maplibregl-popup .popup")
    popup.wait_for()
    text = popup.inner_text()
    assert "Trường học" in text and "Tên trường" in text and "Số học sinh" in text
    page.locator(".maplibregl-popup-close-button").click()


def check_clicking_a_commune_opens_its_profile_and_back_returns(page):
    ready = page.evaluate("document.body.dataset.kpisReady")
    # Click the map itself where Thạnh Mỹ is (not its label): the commune under the pointer opens.
    x, y = page.evaluate(
        """() => { const f = JSON.parse(document.getElementById('communes').textContent).features
                     .find((f) => f.properties.code === '24931');
                   const p = window.dashboardMap.project(f.properties.label);
                   const r = document.getElementById('map').getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y + 14]; }"""
    )
    page.mouse.click(x, y)
    page.wait_for_function(
        f"document.body.dataset.kpisReady !== '{ready}' && document.body.dataset.view === 'commune-24931'"
    )
    assert page.url.endswith("#/communes/24931")
    assert page.locator("#profile-title").inner_text() == "Thị trấn Thạnh Mỹ"
    card = page.locator('#profile-kpis .kpi[data-key="petitions_received"]')
    assert "3" in card.locator(".kpi-value").inner_text()
    assert "Trung bình các xã: 6" in card.locator(".kpi-district").inner_text()
    assert page.locator('#profile-lists section[data-slug="petitions"] tbody tr').count() == 3
    assert page.locator('#profile-lists section[data-slug="schools"] tbody tr').count() == 2
    page.wait_for_function("window.dashboardMap.areTilesLoaded()")
    page.screenshot(path=str(SHOTS / "commune-profile.png"))
    page.click("#profile-back")
    page.wait_for_function("document.body.dataset.view === 'district'")
    assert page.locator("#overview").is_visible() and not page.locator("#profile").is_visible()
    assert page.errors == []


def check_the_time_selector_changes_the_kpis_and_refuses_an_inverted_range(page):
    value = page.locator('#kpis .kpi[data-key="petitions_received"] .kpi-value')
    assert value.inner_text().startswith("54")
    before = page.evaluate("document.body.dataset.kpisReady")
    page.fill("#timerange input[name=start]", "2024-09-01")
    page.fill("#timerange input[name=end]", "2024-09-30")
    page.click("#timerange button[type=submit]")
    page.wait_for_function(f"document.body.dataset.kpisReady !== '{before}'")
    assert value.inner_text().startswith("9")
    # End before start: the server's message is shown, the figures stay as they were.
    page.fill("#timerange input[name=start]", "2024-10-01")
    page.click("#timerange button[type=submit]")
    page.wait_for_selector("#range-error:not([hidden])")
    assert "30/09/2024" in page.locator("#range-error").inner_text()
    assert value.inner_text().startswith("9")


def check_search_results_are_written_as_text_not_markup(page):
    page.fill("#search", '<img src=x onerror="window.__xss=1">')
    page.wait_for_selector("#search-results:not([hidden])")
    assert page.locator("#search-results img").count() == 0
    assert page.evaluate("window.__xss") is None
    page.fill("#search", "thanh my")
    page.wait_for_selector("#search-results li.kind-commune")
    assert "Thạnh Mỹ" in page.locator("#search-results").inner_text()


def test_visitors_public_map_escaped_search_and_a_scoped_users_two_communes(demo, scoped_officer, live_server, browser):
    page = open_page(browser, live_server)
    page.goto(f"{live_server.url}/?{YEAR}")
    wait_dashboard(page)
    switcher = page.locator("#layer-list").inner_text()
    assert "Trường học" in switcher and "Thu ngân sách" not in switcher and "Thửa đất" not in switcher
    assert page.locator('.kpi[data-key="revenue_vs_plan"]').count() == 0
    page.screenshot(path=str(SHOTS / "public-map.png"))
    check_search_results_are_written_as_text_not_markup(page)
    page = open_page(browser, live_server, scoped_officer)
    page.goto(f"{live_server.url}/?{YEAR}&stat=petitions_received")
    wait_dashboard(page)
    assert sorted(page.locator(".commune-label").all_inner_texts()) == ["Thạnh Mỹ", "Đạ Ròn"]
    assert page.locator("#choropleth-legend .legend-row").count() == 2


def test_the_compare_view_shows_both_plans_and_the_conflict(demo, planner, live_server, browser):
    page = open_page(browser, live_server, planner)
    page.goto(f"{live_server.url}/planning/compare/?a={demo['plan_a'].pk}&b={demo['plan_b'].pk}&commune=24931")
    page.wait_for_function("document.body.dataset.mapsReady && document.body.dataset.conflictsReady", timeout=20_000)
    classes = page.evaluate(
        "window.compareMaps.map((m) => [...new Set(m.querySourceFeatures('zones').map((f) => f.properties.land_use))]"
        ".sort())"
    )
    assert classes == [["CLN", "RSX"], ["ODT"]]
    drawn = page.evaluate("window.compareMaps.map((m) => m.queryRenderedFeatures({layers: ['zones']}).length > 0)")
    assert drawn == [True, True]
    # The conflicting parcel is drawn on plan B's map (GeoJSON parsed in a worker: wait for it).
    page.wait_for_function("window.compareMaps[1].querySourceFeatures('conflicts').length >= 1", timeout=10_000)
    assert page.locator("#changes-table tbody tr").count() == 2
    assert page.locator("#conflicts-table tbody tr[data-parcel]").count() == 1
    page.wait_for_function("window.compareMaps.every((m) => m.areTilesLoaded() && m.loaded())")
    page.screenshot(path=str(SHOTS / "planning-compare.png"))
    # The maps are synchronised: moving A moves B.
    page.evaluate("window.compareMaps[0].jumpTo({center: [108.49, 11.77], zoom: 13})")
    centre = page.evaluate("window.compareMaps[1].getCenter().toArray().map((v) => v.toFixed(2))")
    assert centre == ["108.49", "11.77"]
    assert page.errors == []


def test_the_swipe_shows_plan_a_left_of_the_slider_and_plan_b_right_of_it(demo, planner, live_server, browser):
    import io

    import numpy as np
    from PIL import Image

    page = open_page(browser, live_server, planner)
    page.goto(f"{live_server.url}/planning/compare/?a={demo['plan_a'].pk}&b={demo['plan_b'].pk}&commune=24931")
    page.wait_for_function("document.body.dataset.mapsReady", timeout=20_000)
    assert not page.locator("#swipe").is_visible()  # the slider belongs to the swipe mode
    page.locator("input[name=compare-mode][value=swipe]").check()
    page.wait_for_function("document.body.dataset.compareMode === 'swipe'")
    page.wait_for_function("window.compareMaps.every((m) => m.loaded() && m.areTilesLoaded())")
    # One map area: both maps stacked in the same place, still the same view.
    boxes = [page.locator(f"#map-{x}").bounding_box() for x in "ab"]
    assert boxes[0] == boxes[1]

    def shot(value: str) -> np.ndarray:
        page.locator("#swipe").fill(value)
        page.wait_for_function("window.compareMaps.every((m) => m.loaded() && m.areTilesLoaded())")
        png = page.locator("#map-a").screenshot()  # the area both maps cover
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    only_b, only_a, half = shot("0"), shot("100"), shot("50")

    def differing(x: np.ndarray, y: np.ndarray) -> int:
        return int((np.abs(x - y).max(axis=2) > 40).sum())

    w = half.shape[1]
    left, right = slice(0, w // 2 - 6), slice(w // 2 + 6, w)
    # The plans differ on both sides of the middle (CLN/RSX against ODT) ...
    assert differing(only_a[:, left], only_b[:, left]) > 300 and differing(only_a[:, right], only_b[:, right]) > 300
    # ... and with the slider in the middle, the left shows plan A and the right plan B.
    assert differing(half[:, left], only_a[:, left]) < 0.05 * differing(only_a[:, left], only_b[:, left])
    assert differing(half[:, right], only_b[:, right]) < 0.05 * differing(only_a[:, right], only_b[:, right])
    page.screenshot(path=str(SHOTS / "planning-compare-swipe.png"))
    page.locator("input[name=compare-mode][value=pair]").check()
    page.wait_for_function("document.body.dataset.compareMode === 'pair'")
    assert page.locator("#map-a").bounding_box()["x"] < page.locator("#map-b").bounding_box()["x"]
    assert page.errors == []


def test_wall_mode_and_english_layout(demo, leader, live_server, browser):
    page = open_page(browser, live_server, leader, width=1920, height=1080)
    page.goto(f"{live_server.url}/?{YEAR}&stat=dossier_on_time_rate&mode=wall&refresh=5")
    wait_dashboard(page)
    assert "wall" in page.get_attribute("body", "class")
    # It refreshes by itself (every 5 s here, every minute by default).
    first = page.evaluate("document.body.dataset.kpisReady")
    page.wait_for_function(f"document.body.dataset.kpisReady !== '{first}'", timeout=30_000)
    page.screenshot(path=str(SHOTS / "control-room-wall.png"))
    page = open_page(browser, live_server, leader)
    page.goto(f"{live_server.url}/?{YEAR}&stat=revenue_actual")
    wait_dashboard(page)
    assert "3.015.000.000" in page.locator('.kpi[data-key="revenue_actual"] .kpi-value').inner_text()
    page.click(".shell-lang button[value=en]")
    page.wait_for_function("document.documentElement.lang === 'en' && document.body.dataset.kpisReady")
    assert "3,015,000,000" in page.locator('.kpi[data-key="revenue_actual"] .kpi-value').inner_text()


def test_the_report_prints_to_pdf(demo, leader, live_server, browser, tmp_path):
    page = open_page(browser, live_server, leader)
    page.goto(f"{live_server.url}/reports/communes/24931/?{YEAR}&stat=petitions_received")
    page.wait_for_function("window.reportReady === true")
    page.screenshot(path=str(SHOTS / "commune-report.png"), full_page=True)
    response = page.request.get(f"{live_server.url}/reports/communes/24931/pdf?{YEAR}&stat=petitions_received")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page") >= 2
    (tmp_path / "commune-report.pdf").write_bytes(pdf)
