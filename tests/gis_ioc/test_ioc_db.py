"""scripts/ioc-db in a throwaway checkout: the /var/tmp fallback and a stale postmaster.pid.

Runs a real PostgreSQL cluster (initdb, pg_ctl) for a copy of the script placed under pytest's
tmp folder, which the `postgres` user cannot enter (0700, owned by root) — the situation of a CI
clone under /root. The project's main cluster is not touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow]


@pytest.fixture
def checkout(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the postgres-user fallback is exercised when run as root (as CI and `make` do)")
    base = tmp_path / "private"
    (base / "scripts").mkdir(parents=True)
    base.chmod(0o700)
    shutil.copy(ROOT / "scripts" / "ioc-db", base / "scripts" / "ioc-db")
    shutil.copytree(ROOT / "scripts" / "lib", base / "scripts" / "lib")  # the cluster helpers it sources
    yield base
    subprocess.run([base / "scripts" / "ioc-db", "stop"], capture_output=True)
    datadir = (base / ".ioc" / "datadir").read_text().strip() if (base / ".ioc" / "datadir").exists() else ""
    if datadir.startswith("/var/tmp/gis_ioc-"):
        shutil.rmtree(Path(datadir).parent, ignore_errors=True)


def ioc_db(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([checkout / "scripts" / "ioc-db", *args], capture_output=True, text=True, timeout=180)


def psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_checkout_the_postgres_user_cannot_enter_gets_a_var_tmp_cluster_that_survives_kill_9(checkout):
    started = ioc_db(checkout, "start")
    assert started.returncode == 0, started.stderr
    key = hashlib.sha1(str(checkout).encode()).hexdigest()[:12]
    datadir = Path((checkout / ".ioc" / "datadir").read_text().strip())
    assert datadir == Path(f"/var/tmp/gis_ioc-{key}/data")
    url = (checkout / ".ioc" / "database_url").read_text().strip()
    assert psql(url, "SELECT extname FROM pg_extension ORDER BY 1").split() == [
        "pg_trgm", "plpgsql", "postgis", "postgis_raster", "unaccent",
    ]  # fmt: skip

    # A killed server leaves postmaster.pid behind; start must notice nobody owns it and start again.
    pid = int((datadir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert (datadir / "postmaster.pid").exists()
    restarted = ioc_db(checkout, "start")
    assert restarted.returncode == 0, restarted.stderr
    url = (checkout / ".ioc" / "database_url").read_text().strip()
    assert psql(url, "SELECT postgis_lib_version()").startswith("3.")
    assert int((datadir / "postmaster.pid").read_text().split()[0]) != pid

    # Idempotent: a second start keeps the running server and its port.
    again = ioc_db(checkout, "start")
    assert again.returncode == 0 and (checkout / ".ioc" / "database_url").read_text().strip() == url
    assert ioc_db(checkout, "stop").stdout.strip() == "ioc-db: stopped"
    assert ioc_db(checkout, "status").returncode == 1
