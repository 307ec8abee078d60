"""The API documentation pages render in a real browser without fetching anything from another host."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]


@pytest.mark.parametrize(("path", "marker"), [("/api/docs/", "swagger-ui"), ("/api/redoc/", "redoc")])
def test_api_docs_render_from_local_assets_only(live_server, path, marker):
    from playwright.sync_api import sync_playwright

    left_the_host: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        # A request that completes (or fails for a reason other than the page's own CSP) left this host.
        page.on(
            "requestfinished",
            lambda r: (
                r.url.startswith(("http:", "https:"))
                and not r.url.startswith(live_server.url)
                and left_the_host.append(r.url)
            ),
        )
        page.on(
            "requestfailed",
            lambda r: (
                r.url.startswith(("http:", "https:"))
                and r.failure != "csp"
                and not r.url.startswith(live_server.url)
                and left_the_host.append(r.url)
            ),
        )
        page.goto(live_server.url + path, wait_until="networkidle")
        page.wait_for_selector("text=/api/v1/layers/{slug}/features/", timeout=30_000)
        html = page.content()
        browser.close()
    assert marker in html.lower()
    assert left_the_host == []
