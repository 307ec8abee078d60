"""In Chromium: an alert raised by a threshold rule reaches an open alert centre without a reload (the
live stream), and a leader acknowledges it with a note that shows in its history."""

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


def test_an_alert_raised_by_a_threshold_rule_shows_in_the_open_alert_centre(
    stream_server, live_server, district, leader, settings
) -> None:
    settings.IOC_LIVE_PORT = int(stream_server.rsplit(":", 1)[1])
    rule = make_rule(kind="threshold", statistic="petitions_received", period="month", operator="ge", value=2)
    new_petition(point=inside("24931"))
    with chromium(["--lang=vi-VN"]) as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        session = client_for(leader).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/alerts/")
        assert "Không có cảnh báo nào." in page.inner_text("#alert-list")
        page.wait_for_selector('body[data-live="on"]', timeout=20_000)

        new_petition(point=inside("24931"))  # the second petition of the month crosses the threshold
        [alert] = evaluate_rules(rules=[rule])
        row = page.wait_for_selector(f'tr[data-alert="{alert.pk}"]', timeout=10_000)
        assert alert.message_vi in row.inner_text()

        row.query_selector("a").click()
        page.wait_for_selector("#alert-detail")
        page.fill("textarea[name=note]", "Đã giao phòng Tài nguyên kiểm tra")
        page.click("button[value=acknowledge]")
        page.wait_for_selector("#alert-detail")
        assert "Đã giao phòng Tài nguyên kiểm tra" in page.inner_text(".history")
        assert "Đã tiếp nhận" in page.inner_text("#alert-detail")
        assert errors == []
        context.close()
    gc.collect()
