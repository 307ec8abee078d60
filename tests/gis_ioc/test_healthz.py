"""/healthz: 200 with the database versions and the job queue (workers alive, waiting jobs, the oldest
one's age), "degraded" when no worker runs; 503 when the database cannot be reached."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_postgresql_and_postgis_versions(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
        pg_version, postgis_version = cursor.fetchone()
    assert (body["database"], body["postgresql"], body["postgis"]) == ("ok", pg_version, postgis_version)
    assert body["postgresql"].startswith("15.") and body["postgis"].startswith("3.")


def closed_port() -> int:
    """A local port nobody listens on: bind it, then let it go."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_is_503_while_the_database_is_down_and_recovers(db):
    # A separate process whose DATABASE_URL points at a closed port: the real driver really fails to
    # connect. Then the same process is pointed at the running server and the next probe is 200 again.
    good = connection.settings_dict
    good_url = f"postgresql://{good['USER']}:{good['PASSWORD']}@{good['HOST']}:{good['PORT']}/{good['NAME']}"
    script = """
import json, os, django
django.setup()
import pytest
from django.db import connection
from django.test import Client
down = Client().get("/healthz")
connection.close()
connection.settings_dict.update(HOST=os.environ["GOOD_HOST"], PORT=os.environ["GOOD_PORT"])
up = Client().get("/healthz")
print(json.dumps([down.status_code, down.json(), up.status_code, up.json()]))
"""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "gis_ioc.settings",
        "SECRET_KEY": "s" * 40 + "-healthz-test",
        "DATABASE_URL": good_url.replace(f":{good['PORT']}/", f":{closed_port()}/"),
        "GOOD_HOST": str(good["HOST"]),
        "GOOD_PORT": str(good["PORT"]),
    }
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    down_status, down, up_status, up = json.loads(result.stdout.strip().splitlines()[-1])
    assert down_status == 503
    assert down["status"] == "error" and down["database"] == "unreachable"
    assert "refused" in down["detail"].lower() or "connect" in down["detail"].lower()
    assert up_status == 200 and up["postgis"].startswith("3.")


@pytest.fixture
def no_workers(db) -> None:
    """No worker has registered (a killed one of an earlier test is gone; rolled back after the test)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers")


def register_worker() -> int:
    """What a procrastinate worker does when it starts (its first heartbeat is now)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT procrastinate_register_worker_v1()")
        return cursor.fetchone()[0]


def test_healthz_says_degraded_and_why_when_no_worker_runs(client, no_workers):
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["queue"]["workers_alive"] == 0
    assert body["detail"].startswith("Chưa có tiến trình xử lý nào đang chạy")
    assert client.get("/healthz").status_code == 200  # the web process itself is fine: not taken out of service


def test_healthz_counts_live_workers_and_waiting_jobs(client, no_workers, district, gis_staff):
    before = client.get("/healthz").json()["queue"]
    waiting_before = before["queues"].get("analysis", {}).get("waiting", 0)
    worker_id = register_worker()
    client.force_login(gis_staff)
    started = client.post("/api/v1/analyses/", {"type": "trends", "parameters": {}}, content_type="application/json")
    assert started.status_code == 201, started.content
    assert "worker_notice" not in started.json()  # a worker is alive: nothing to warn about

    body = client.get("/healthz").json()
    assert body["status"] == "ok" and "detail" not in body
    assert body["queue"]["workers_alive"] == 1
    analysis = body["queue"]["queues"]["analysis"]
    assert analysis["waiting"] == waiting_before + 1
    assert analysis["oldest_waiting_seconds"] is not None and analysis["oldest_waiting_seconds"] >= 0
    assert body["queue"]["waiting"] >= analysis["waiting"]

    # Three missed heartbeats: the worker is dead, even though its row is still there.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' WHERE id = %s", [worker_id]
        )
    body = client.get("/healthz").json()
    assert (body["status"], body["queue"]["workers_alive"]) == ("degraded", 0)
