"""Settings refuse bad environments at start-up. Each case loads gis_ioc.settings in a fresh subprocess,
so the module really runs with that environment (no patching of settings in this process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "-rAnd0m-" + "q" * 20
GOOD_URL = "postgresql://u:p@127.0.0.1:5432/gis_ioc"


def start(**env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings as `manage.py` would, with only these variables set (plus PATH)."""
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "gis_ioc.settings",
                   "IOC_SECRET_FILE": "/nonexistent/secret_key"}  # fmt: skip
    environment.update(env)
    code = "from django.conf import settings; print('DEBUG', settings.DEBUG, settings.DATABASES['default']['NAME'])"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_a_good_environment_starts():
    result = start(SECRET_KEY=GOOD_KEY, DATABASE_URL=GOOD_URL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DEBUG False gis_ioc"


@pytest.mark.parametrize(
    "url, says",
    [
        ("mysql://u:p@127.0.0.1:3306/gis_ioc", "DATABASE_URL must start with postgresql://"),
        ("postgresql://u:p@127.0.0.1:notaport/gis_ioc", "DATABASE_URL has an invalid port"),
        ("postgresql://u:p@127.0.0.1:5432/", "DATABASE_URL must name one database"),
        ("postgresql:///gis_ioc", "DATABASE_URL must name a host"),
        ("127.0.0.1:5432/gis_ioc", "DATABASE_URL must start with postgresql://"),
    ],
)
def test_a_malformed_database_url_is_refused_naming_the_setting(url, says):
    assert says in refused(start(SECRET_KEY=GOOD_KEY, DATABASE_URL=url))


def test_debug_off_without_a_secret_key_refuses_to_start():
    message = refused(start(DATABASE_URL=GOOD_URL, DEBUG="0"))
    assert "SECRET_KEY is not set and DEBUG is off" in message


def test_debug_on_without_a_secret_key_starts_for_development():
    result = start(DATABASE_URL=GOOD_URL, DEBUG="1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("key", ["short-key", "django-insecure-" + "x" * 40, "change-me-" + "y" * 40])
def test_a_short_or_placeholder_secret_key_is_refused(key):
    assert "SECRET_KEY" in refused(start(SECRET_KEY=key, DATABASE_URL=GOOD_URL))


def test_the_secret_key_is_read_from_the_checkout_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(GOOD_KEY + "\n")
    result = start(DATABASE_URL=GOOD_URL, IOC_SECRET_FILE=str(secret))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("IOC_SERVE_STATIC", "2", "IOC_SERVE_STATIC='2' is not a boolean"),
        ("DB_CONN_MAX_AGE", "sixty", "DB_CONN_MAX_AGE='sixty' is not an integer"),
        ("DB_CONN_MAX_AGE", "-5", "DB_CONN_MAX_AGE=-5 is below the minimum 0"),
        ("IOC_LOCAL_SRID", "5899.5", "IOC_LOCAL_SRID='5899.5' is not an integer"),
    ],
)
def test_bad_boolean_and_integer_values_are_refused_naming_the_variable(name, value, says):
    assert says in refused(start(SECRET_KEY=GOOD_KEY, DATABASE_URL=GOOD_URL, **{name: value}))


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("IOC_TRUSTED_PROXIES", "10.0.0.1,nginx", "IOC_TRUSTED_PROXIES: 'nginx' is not an IP address or network"),
        ("PETITIONS_TRUST_X_FORWARDED_FOR", "1", "replaced by IOC_TRUSTED_PROXIES"),
        ("IOC_HTTPS", "sometimes", "IOC_HTTPS='sometimes' is not a boolean"),
        ("IOC_LOGIN_FAILURE_LIMIT", "0", "IOC_LOGIN_FAILURE_LIMIT=0 is below the minimum 1"),
    ],
)
def test_bad_proxy_tls_and_login_settings_are_refused_naming_the_variable(name, value, says):
    assert says in refused(start(SECRET_KEY=GOOD_KEY, DATABASE_URL=GOOD_URL, **{name: value}))
