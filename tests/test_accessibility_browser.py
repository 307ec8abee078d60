"""Accessibility and phones (issue 18, item 6): every public page and the field app, opened in headless
Chromium at a phone's 360 px and a laptop's 1366 px, pass axe-core (the engine of Lighthouse and of the
browsers' own checkers, from node_modules, never a CDN) with no serious or critical violation, and at 360 px
nothing is wider than the screen.

How fast they load on the demo is measured by benchmarks/pages.py (no timing in tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gis_ioc import roles
from tests.browser import chromium
from tests.conftest import make_user
from tests.dashboard.conftest import client_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
SETTLED = "() => (window.iocMaps || []).every((m) => m.loaded() && m.areTilesLoaded())"


def public_pages(commune: str, tracking_code: str) -> list[str]:
    """The pages anyone may open without signing in."""
    return [
        "/",
        "/communes/",
        f"/communes/{commune}/",
        "/planning/compare/",
        "/planning/lookup/",
        "/planning/lookup/?lon=108.489&lat=11.7687",
        "/petitions/",
        "/petitions/track/",
        f"/petitions/track/{tracking_code}/",
        "/login/",
        "/field/login/",
        "/ogc/?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/schools/items?f=html",
        "/khong-co-trang-nay/",  # the 404 page
    ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A/AA and best practice)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"] if v["impact"] in SERIOUS
    ]  # fmt: skip


def check(browser: Any, url: str, cookie: dict[str, str] | None = None) -> dict[str, Any]:
    """Open url at 360 and at 1366 px; return what failed (empty when the page passes)."""
    failures: dict[str, Any] = {}
    for width, height in ((360, 740), (1366, 768)):
        # bypass_csp: axe is injected as a script the page's policy would (rightly) refuse.
        context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", bypass_csp=True)
        if cookie:
            context.add_cookies([cookie])
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("load")
        page.wait_for_function(SETTLED, timeout=30_000)
        found = violations(page)
        if found:
            failures[f"{width}px axe"] = found
        overflow = page.evaluate("document.documentElement.scrollWidth")
        if width == 360 and overflow > width:
            failures["360px width"] = overflow
        context.close()
    return failures


def test_public_pages_pass_axe_and_fit_a_phone(district, live_server, browser):
    from tests.dashboard import demo_data
    from tests.factories import PetitionFactory

    demo_data.build()
    petition = PetitionFactory(in_commune="24931")
    failed = {}
    for path in public_pages("24931", petition.tracking_code):
        result = check(browser, live_server.url + path)
        if result:
            failed[path] = result
    assert not failed, json.dumps(failed, ensure_ascii=False, indent=1)


def test_the_field_app_passes_axe_and_fits_a_phone(district, live_server, browser):
    officer = make_user("a11y-field", roles.FIELD_OFFICER)
    cookie = {"name": "sessionid", "value": client_for(officer).cookies["sessionid"].value, "url": live_server.url}
    result = check(browser, live_server.url + "/field/", cookie)
    assert not result, json.dumps(result, ensure_ascii=False, indent=1)
