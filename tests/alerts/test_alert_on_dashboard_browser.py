"""In Chromium: an alert raised for a leader is shown on his open dashboard (the "just changed" list of
the live stream), marked as an alert and linking to it in the alert centre, without a reload."""

from __future__ import annotations

import gc

import pytest

from alerts.evaluate import evaluate_rules
from tests.alerts.conftest import make_rule
from tests.browser import chromium
from tests.dashboard.conftest import client_for
from tests.live.conftest import stream_server as stream_server  # the uvicorn fixture of the live tests
from tests.petitions.conftest import inside, new_petition

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_alert_for_a_leader_appears_on_his_open_dashboard(
    stream_server, live_server, district, leader, settings
) -> None:
    settings.IOC_LIVE_PORT = int(stream_server.rsplit(":", 1)[1])
    rule = make_rule(
        kind="threshold", statistic="petitions_received", period="month", operator="ge", value=1, severity="critical"
    )
    with chromium(["--lang=vi-VN"]) as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        session = client_for(leader).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/")
        page.wait_for_selector("body[data-kpis-ready]", timeout=20_000)
        page.wait_for_selector('body[data-live="on"]', timeout=20_000)

        new_petition(point=inside("24931"))
        [alert] = evaluate_rules(rules=[rule])
        item = page.wait_for_selector(f'#live-feed li.live-alert[data-alert="{alert.pk}"]', timeout=10_000)
        assert alert.message_vi in item.inner_text()
        assert "sev-critical" in (item.get_attribute("class") or "")
        item.query_selector("a").click()
        page.wait_for_selector("#alert-detail")
        assert alert.message_vi in page.inner_text("#alert-detail")
        assert errors == []
        context.close()
    gc.collect()
