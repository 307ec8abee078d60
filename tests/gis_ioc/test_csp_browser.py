"""The pages work under their Content-Security-Policy in a real browser: the policy refuses nothing they need.

(Script errors that have nothing to do with the policy are the other browser tests' business.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gis_ioc import roles
from tests.browser import chromium
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Pages with maps (MapLibre's blob: workers), charts, inline data and start-up scripts, and the API docs.
PAGES = [
    "/",
    "/petitions/",
    "/field/",
    "/ogc/collections/communes/items?f=html",
    "/api/docs/",
    "/api/redoc/",
    "/imports/",
    "/exports/",
    "/reports/district/",
    "/planning/compare/",
    "/analyses/",
    "/account/tokens/",
]


@pytest.fixture
def browser(transactional_db) -> Iterator[object]:
    with chromium() as instance:
        yield instance


def _signed_in_context(browser, live_server, user: User):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # the real policy
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context


def _refused(text: str) -> bool:
    # Nothing is refused on purpose: Redoc's CDN logo is gone from the copy served (scripts/vendor-assets).
    return "Content Security Policy" in text


def _problems(page, url: str) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(f"{url}: {msg.text}") if _refused(msg.text) else None)
    response = page.goto(url, wait_until="networkidle", timeout=30_000)
    assert response is not None and response.status == 200, url
    return seen


def test_every_page_runs_under_its_policy(live_server, district, browser) -> None:
    user = make_user("everyone", *roles.ROLES)
    user.is_staff = user.is_superuser = True
    user.save()
    context = _signed_in_context(browser, live_server, user)
    problems: list[str] = []
    for path in PAGES:
        page = context.new_page()
        problems += _problems(page, live_server.url + path)
        page.close()
    from gis_ioc.models import AdminUnit

    unit = AdminUnit.objects.current().get(code="24937")
    page = context.new_page()
    problems += _problems(page, f"{live_server.url}/admin/gis_ioc/adminunit/{unit.pk}/change/")
    # The admin map widget started from its JSON options (no inline script) and drew its canvas.
    assert page.locator(".dj_map canvas, .dj_map .ol-viewport").count() >= 1
    context.close()
    assert problems == [], "\n".join(problems)
