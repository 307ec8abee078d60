"""docker-compose.yml is valid for Debian's docker-compose and runs what docs/architecture.md says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: scripts/ensure-system installs Debian's docker-compose")
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "--project-directory", str(ROOT), *args],
        env=environment, capture_output=True, text=True,
    )  # fmt: skip


SECRETS = {"SECRET_KEY": "a-long-random-value-" + "z" * 30, "POSTGRES_PASSWORD": "pw"}


def test_docker_compose_config_is_valid():
    result = compose("config", "-q", **SECRETS)
    assert result.returncode == 0, result.stderr


def test_it_refuses_to_run_without_a_secret_key():
    result = compose("config", "-q", POSTGRES_PASSWORD="pw")
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_services_postgis_healthchecked_web_on_gunicorn_processes_worker_and_mapproxy():
    result = compose("config", **SECRETS)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"postgis", "setup", "web", "live", "worker", "mapproxy"}
    assert "pg_isready" in " ".join(services["postgis"]["healthcheck"]["test"])
    web = (
        " ".join(services["web"]["command"])
        if isinstance(services["web"]["command"], list)
        else services["web"]["command"]
    )
    assert web.startswith("gunicorn gis_ioc.wsgi") and re.search(r"--workers \d+", web)
    assert "--threads" not in web and "gthread" not in web  # processes: GDAL is not thread-safe
    assert services["web"]["depends_on"]["postgis"]["condition"] == "service_healthy"
    assert services["web"]["environment"]["DATABASE_URL"] == "postgresql://gis_ioc:pw@postgis:5432/gis_ioc"
    # The same supervisor as `make demo`: one procrastinate worker per queue, restarted when it dies.
    assert "scripts/ioc-run --no-web" in str(services["worker"]["command"])
    # Long-lived streams on uvicorn, never on gunicorn's sync workers; pages are told its port.
    assert str(services["live"]["command"]).startswith("uvicorn gis_ioc.asgi:application")
    assert services["web"]["environment"]["IOC_LIVE_PORT"] == "8001"
    assert "mapproxy_config" in str(services["setup"]["command"])
    assert "mapproxy.wsgiapp:make_wsgi_app('/data/mapproxy/mapproxy-public.yaml'" in str(
        services["mapproxy"]["command"]
    )


def test_the_dockerfile_copies_only_files_that_exist():
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = [
        part
        for line in dockerfile.splitlines()
        if line.startswith("COPY ")
        for part in line.split()[1:-1]
        if not part.startswith("--")
    ]
    assert sources, "no COPY lines"
    for source in sources:
        assert (ROOT / source).exists(), source
