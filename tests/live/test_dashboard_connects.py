"""How the dashboard finds the stream on uvicorn's port: its address in the page, the page's CSP letting it
connect, and CORS answers for this host's pages only."""

from __future__ import annotations

import json
import re


def _config(response) -> dict:
    match = re.search(rb'<script id="page-config" type="application/json">(.*?)</script>', response.content, re.S)
    assert match, "page-config missing"
    return json.loads(match.group(1))


def test_a_signed_in_page_is_given_the_stream_on_the_live_port_and_may_connect_to_it(client, leader, settings):
    settings.IOC_LIVE_PORT = 8001
    client.force_login(leader)
    response = client.get("/")
    assert _config(response)["live"]["url"] == "http://testserver:8001/live/events"
    policy = response["Content-Security-Policy"]
    assert re.search(r"connect-src [^;]*http://testserver:8001", policy)


def test_behind_a_proxy_the_stream_is_on_the_pages_origin(client, leader, settings):
    settings.IOC_LIVE_PORT = 0
    client.force_login(leader)
    response = client.get("/")
    assert _config(response)["live"]["url"] == "/live/events"
    assert "8001" not in response["Content-Security-Policy"]


def test_visitors_get_no_stream(client, district):
    assert _config(client.get("/"))["live"] is None


def test_cors_allows_this_hosts_pages_only(client):
    ours = client.get("/live/events", HTTP_ORIGIN="http://testserver:8000")
    assert ours["Access-Control-Allow-Origin"] == "http://testserver:8000"
    assert ours["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in client.get("/live/events", HTTP_ORIGIN="http://evil.example")
