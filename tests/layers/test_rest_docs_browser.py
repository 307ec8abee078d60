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
        # Not even asked for: a request to another host fails the test, also one the page's own CSP would block
        # (Redoc's CDN logo is gone from the copy served, scripts/vendor-assets).
        page.on(
            "request",
            lambda r: (
                r.url.startswith(("http:", "https:"))
                and not r.url.startswith(live_server.url)
                and left_the_host.append(r.url)
            ),
        )
        page.goto(live_server.url + path, wait_until="networkidle")
        page.wait_for_selector("text=/api/v1/layers/{slug}/features/", timeout=30_000)
        html = page.content()
        assert "{#" not in page.inner_text("body")  # no template comment left on the page
        scripts = page.eval_on_selector_all("script[src]", "(nodes) => nodes.map((n) => n.src)")
        browser.close()
    assert marker in html.lower()
    if marker == "redoc":
        assert any("/static/vendor/redoc/bundles/redoc.standalone.js" in src for src in scripts), scripts
    assert left_the_host == []
