"""/healthz: 200 with the database versions, 503 when the database cannot be reached."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_postgresql_and_postgis_versions(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
        pg_version, postgis_version = cursor.fetchone()
    assert body == {"status": "ok", "database": "ok", "postgresql": pg_version, "postgis": postgis_version}
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
