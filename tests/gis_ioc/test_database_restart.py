"""A PostgreSQL restart under a running server: the next requests are answered normally, not with a 500
per process (Django keeps connections for CONN_MAX_AGE; the health check at the first query of a request
replaces a dead one). For the server, a restart is its backends being terminated: this test does exactly
that with pg_terminate_backend, on its own test database (never restarting the shared cluster)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["/healthz", "/ogc/collections?f=json", "/api/v1/layers/"]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _server_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return [r[0] for r in cursor.fetchall()]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_requests_after_the_database_dropped_the_servers_connections_are_answered() -> None:
    db = connection.settings_dict
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "60",
    }
    # One sync worker: every request goes through the same kept connection.
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gis_ioc.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                first = _status(base + PATHS[0])
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert [first] + [_status(base + p) for p in PATHS[1:]] == [200, 200, 200]
        backends = _server_backends()
        assert backends, "the server keeps its connection between requests"
        with connection.cursor() as cursor:
            cursor.execute("SELECT bool_and(pg_terminate_backend(pid)) FROM unnest(%s::int[]) AS pid", [backends])
            assert cursor.fetchone()[0] is True
        # Every request after the "restart" is answered, the first one included.
        assert [_status(base + p) for p in PATHS * 2] == [200, 200, 200] * 2
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
