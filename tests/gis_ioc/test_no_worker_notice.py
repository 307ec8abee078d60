"""Pages and API answers that start jobs say plainly, in Vietnamese, when no job worker is alive (a queued
analysis or import would otherwise wait forever without a word), and say nothing when one is."""

from __future__ import annotations

import pytest
from django.db import connection

from analysis.models import Analysis

NOTICE = "Chưa có tiến trình xử lý nào đang chạy"


@pytest.fixture
def no_workers(db) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers")


def register_worker() -> None:
    """What a procrastinate worker does when it starts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT procrastinate_register_worker_v1()")


def test_the_analyses_page_and_api_say_no_worker_is_running(client, no_workers, district, gis_staff):
    client.force_login(gis_staff)
    assert NOTICE in client.get("/analyses/").content.decode()
    started = client.post("/api/v1/analyses/", {"type": "trends", "parameters": {}}, content_type="application/json")
    assert started.status_code == 201
    assert started.json()["worker_notice"].startswith(NOTICE)
    pk = started.json()["id"]
    assert client.get(f"/api/v1/analyses/{pk}/").json()["worker_notice"].startswith(NOTICE)
    assert NOTICE in client.get(f"/analyses/{pk}/").content.decode()

    register_worker()
    assert NOTICE not in client.get("/analyses/").content.decode()
    assert NOTICE not in client.get(f"/analyses/{pk}/").content.decode()
    assert "worker_notice" not in client.get(f"/api/v1/analyses/{pk}/").json()


def test_a_finished_analysis_does_not_warn(client, no_workers, district, gis_staff):
    client.force_login(gis_staff)
    pk = client.post("/api/v1/analyses/", {"type": "trends"}, content_type="application/json").json()["id"]
    Analysis.objects.filter(pk=pk).update(status="failed", error="x")
    assert NOTICE not in client.get(f"/analyses/{pk}/").content.decode()
    assert "worker_notice" not in client.get(f"/api/v1/analyses/{pk}/").json()


def test_the_imports_page_says_no_worker_is_running(client, no_workers, gis_staff):
    client.force_login(gis_staff)
    assert NOTICE in client.get("/imports/").content.decode()
    register_worker()
    assert NOTICE not in client.get("/imports/").content.decode()


def test_the_notice_is_in_english_too(client, no_workers, gis_staff):
    client.force_login(gis_staff)
    page = client.get("/imports/?lang=en").content.decode()
    assert "No job worker is running" in page
