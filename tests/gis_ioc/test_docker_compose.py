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
    # Services behind a profile (Citus: docs/scaling.md) start only when asked for.
    assert {name for name, service in services.items() if not service.get("profiles")} == {
        "postgis", "setup", "web", "live", "worker", "mapproxy",
    }  # fmt: skip
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


@pytest.mark.parametrize("path", ["Dockerfile", "docker/citus/Dockerfile"])
def test_the_dockerfile_copies_only_files_that_exist(path):
    dockerfile = (ROOT / path).read_text()
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


def test_the_citus_profile_adds_a_coordinator_two_workers_and_a_setup_that_distributes():
    services = yaml.safe_load(compose("config", **SECRETS).stdout)["services"]
    citus = {name for name, service in services.items() if service.get("profiles") == ["citus"]}
    assert citus == {"citus-coordinator", "citus-worker1", "citus-worker2", "citus-setup"}
    for node in ("citus-coordinator", "citus-worker1", "citus-worker2"):
        assert services[node]["build"]["dockerfile"] == "docker/citus/Dockerfile"
        assert "pg_isready" in " ".join(services[node]["healthcheck"]["test"])
    setup = " ".join(services["citus-setup"]["command"])
    assert "citus_add_node('citus-worker1', 5432)" in setup and "citus_add_node('citus-worker2', 5432)" in setup
    assert "manage.py citus_distribute" in setup
    assert services["citus-setup"]["environment"]["DATABASE_URL"].endswith("@citus-coordinator:5432/gis_ioc")
    # The platform follows IOC_DB_HOST to the coordinator.
    moved = yaml.safe_load(compose("config", IOC_DB_HOST="citus-coordinator", **SECRETS).stdout)["services"]
    assert moved["web"]["environment"]["DATABASE_URL"] == "postgresql://gis_ioc:pw@citus-coordinator:5432/gis_ioc"
