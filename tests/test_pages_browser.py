"""Every HTML page, for every role, in Vietnamese and in English, opened in headless Chromium: no JavaScript
error (console error or uncaught exception) and no failed request (4xx/5xx) for anything the page loads.

One live server and one browser for the whole module; one test per language walks the roles and the pages
(each page a role may open: a page it may not open is a redirect to sign-in or a 403, whose page is the
sign-in page or an error page already visited by the visitor). The list of pages is checked against the
URL configuration, so a new page must be added here (or named as not a page).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from gis_ioc import roles
from tests.browser import chromium
from tests.conftest import make_user

ROLES = [
    "anonymous",
    roles.LEADER,
    roles.PLANNER,
    roles.FIELD_OFFICER,
    roles.GIS_STAFF,
    roles.AGENCY_STAFF,
    roles.ADMINISTRATOR,
]
# How long a page may keep fetching after `load` (tiles, polling) before the next one is opened.
IDLE_MS = 2_500
# Page URLs by route; {commune}, {code}, {analysis}, {job}, {school} are filled from the test data.
PAGES = {
    "": "/",
    "login/": "/login/",
    "communes/": "/communes/",
    "communes/<str:code>/": "/communes/{commune}/",
    "planning/compare/": "/planning/compare/",
    "planning/lookup/": "/planning/lookup/",
    "planning/lookup/print": "/planning/lookup/print?lon=108.489&lat=11.7687",
    "reports/district/": "/reports/district/",
    "reports/communes/<str:code>/": "/reports/communes/{commune}/",
    "petitions/": "/petitions/",
    "petitions/track/": "/petitions/track/",
    "petitions/track/<str:code>/": "/petitions/track/{code}/",
    "petitions/desk/": "/petitions/desk/",
    "petitions/desk/escalations/": "/petitions/desk/escalations/",
    "petitions/desk/triage/": "/petitions/desk/triage/",
    "petitions/desk/<str:code>/": "/petitions/desk/{code}/",
    "field/": "/field/",
    "field/login/": "/field/login/",
    "analyses/": "/analyses/",
    "analyses/<int:pk>/": "/analyses/{analysis}/",
    "imports/": "/imports/",
    "imports/<int:pk>/": "/imports/{job}/",
    "exports/": "/exports/",
    "ogc/": "/ogc/?f=html",
    "ogc/conformance": "/ogc/conformance?f=html",
    "ogc/api": "/ogc/api?f=html",
    "ogc/collections": "/ogc/collections?f=html",
    "ogc/collections/<slug:collection_id>": "/ogc/collections/schools?f=html",
    "ogc/collections/<slug:collection_id>/queryables": "/ogc/collections/schools/queryables?f=html",
    "ogc/collections/<slug:collection_id>/items": "/ogc/collections/schools/items?f=html",
    "ogc/collections/<slug:collection_id>/items/<str:feature_id>": "/ogc/collections/schools/items/{school}?f=html",
    "api/docs/": "/api/docs/",
    "admin/": "/admin/",
    "account/tokens/": "/account/tokens/",
    "alerts/": "/alerts/",
    "alerts/rules/": "/alerts/rules/",
}
# Routes that answer data, files or redirects rather than a page a person reads.
NOT_PAGES = re.compile(
    r"^(api/|sta/|live/events$|dashboard/api/|planning/api/|tiles/|mapproxy/|open311/|field/(api/|manifest|sw\.js|logout)|i18n/|"
    r"ogc$|healthz|logout/|account/tokens/.+|admin/.+|static/|media/|reports/.*pdf$|planning/lookup/pdf|dashboard/tables/|petitions/(attachments/|photos/|"
    r"track/<str:code>/rate/|desk/export\.csv|desk/<str:code>/act/|desk/<str:code>/category/)|analyses/<int:pk>/rerun/|alerts/<int:pk>/act/|"
    r"alerts/rules/<int:pk>/|ogc/collections/"
    r"[a-z-]+/items$)"
)


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route.lstrip("^").rstrip("$")


def test_every_route_is_a_listed_page_or_named_as_not_a_page():
    unlisted = [r for r in _routes() if r not in PAGES and not NOT_PAGES.match(r)]
    assert unlisted == [], "add the page to PAGES (or the route to NOT_PAGES)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for every page of the module (tests/browser.py)."""
    with chromium() as instance:
        yield instance


def _data() -> dict[str, str]:
    """A district with a few records of every sector, a petition, an analysis and an import job."""
    from analysis.models import Analysis
    from gis_ioc.models import AdminUnit
    from layers.models import ImportJob, School
    from petitions.models import Petition
    from tests.dashboard import demo_data
    from tests.factories import PetitionFactory

    demo_data.build()
    petition = Petition.objects.first() or PetitionFactory(in_commune="24931")
    planner = make_user("page-planner", roles.PLANNER)
    analysis = Analysis.objects.create(type="hotspots", title="Điểm nóng", created_by=planner)
    job = ImportJob.objects.create(original_name="truong.geojson", file_path="/nonexistent", preview={})
    return {
        "commune": AdminUnit.objects.current().communes().order_by("code").first().code,
        "code": petition.tracking_code,
        "analysis": str(analysis.pk),
        "job": str(job.pk),
        "school": str(School.objects.order_by("pk").first().pk),
    }


def _session(user: Any) -> str | None:
    if user is None:
        return None
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _visit(browser: Any, base: str, session: str | None, urls: list[str], lang: str) -> list[str]:
    """Open each URL in one browser context; the problems seen (JS errors, failed requests) by URL."""
    context = browser.new_context(locale="vi-VN" if lang == "vi" else "en-GB", viewport={"width": 1280, "height": 800})
    if session:
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    problems: list[str] = []
    current = {"url": ""}
    page.on("pageerror", lambda exc: problems.append(f"{current['url']}: uncaught {exc}"))

    def console(msg: Any) -> None:
        # "Failed to load resource" repeats a failed response, reported below with its URL (or the favicon).
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"{current['url']}: console {msg.text[:200]}")

    page.on("console", console)

    def failed(response: Any) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"{current['url']}: {response.status} {response.url[:160]}")

    page.on("response", failed)

    # MapLibre cancels the tile requests it no longer needs (the map moved, or the walk navigated away while
    # a map was still fetching): an aborted tile is no failure of the page.
    def request_failed(r: Any) -> None:
        if r.failure == "net::ERR_ABORTED" and "/tiles/" in r.url:
            return
        problems.append(f"{current['url']}: failed {r.url[:160]} {r.failure}")

    page.on("requestfailed", request_failed)
    for url in urls:
        current["url"] = url
        started = time.monotonic()
        separator = "&" if "?" in url else "?"
        page.goto(f"{base}{url}{separator}lang={lang}", wait_until="load")
        try:
            page.wait_for_load_state("networkidle", timeout=IDLE_MS)  # scripts fetch their data after load
        except Exception:  # noqa: BLE001 - a map still fetching tiles is not an error of the page
            pass
        print(f"{time.monotonic() - started:5.1f}s {url}")  # shown with -s: where the run's time goes
    context.close()
    return problems


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_opens_without_a_script_error_or_a_failed_request(district, live_server, browser, lang):
    values = _data()
    urls = {route: url.format(**values) for route, url in PAGES.items()}
    problems: list[str] = []
    for role in ROLES:
        user = None if role == "anonymous" else make_user(f"pages-{role}-{lang}".replace(" ", "")[:30], role)
        client = Client()
        if user is not None:
            client.force_login(user)
        # The pages this role may open (others redirect to a sign-in page the visitor already opened).
        mine = [u for u in urls.values() if client.get(u, HTTP_ACCEPT="text/html").status_code == 200]
        assert mine, role
        problems += [f"[{role}] {p}" for p in _visit(browser, live_server.url, _session(user), mine, lang)]
    assert problems == [], "\n".join(problems[:40])
