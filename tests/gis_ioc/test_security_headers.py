"""Every page carries a Content-Security-Policy its own scripts satisfy; TLS deployments get HSTS and
secure cookies; the production settings pass `manage.py check --deploy`."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)

PUBLIC_PAGES = [
    "/",
    "/login/",
    "/admin/login/",
    "/field/login/",
    "/petitions/",
    "/petitions/track/",
    "/ogc/",
    "/ogc/collections/communes/items?f=html",
    "/api/docs/",
    "/api/redoc/",
]
STAFF_PAGES = [
    "/imports/",
    "/exports/",
    "/reports/district/",
    "/planning/compare/",
    "/analyses/",
    "/field/",
    "/account/tokens/",
]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def _assert_scripts_obey_the_policy(url: str, response) -> None:
    assert response.status_code == 200, (url, response.status_code)
    policy = _policy(response)
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"], url
    assert "blob:" in policy["worker-src"] and "blob:" in policy["child-src"]  # MapLibre's workers
    body = response.content.decode()
    nonces = [s[len("'nonce-") : -1] for s in policy["script-src"] if s.startswith("'nonce-")]
    for attrs in INLINE_SCRIPT.findall(body):
        if "application/json" in attrs:
            continue  # data (json_script), never executed
        assert nonces and f'nonce="{nonces[0]}"' in attrs, f"{url}: inline script without the nonce: <script{attrs}>"
    assert not INLINE_HANDLER.search(body), f"{url}: an inline event handler, which the policy blocks"


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_carry_a_policy_their_scripts_obey(client, district, url) -> None:
    _assert_scripts_obey_the_policy(url, client.get(url))


@pytest.mark.django_db
def test_staff_pages_carry_a_policy_their_scripts_obey(client, district, gis_staff, leader) -> None:
    from gis_ioc import roles
    from tests.conftest import make_user

    everyone = make_user("everyone", *roles.ROLES)
    client.force_login(everyone)
    for url in STAFF_PAGES:
        _assert_scripts_obey_the_policy(url, client.get(url))


@pytest.mark.django_db
def test_the_admin_map_widget_needs_no_inline_script(client, district) -> None:
    from django.contrib.auth.models import User

    from gis_ioc.models import AdminUnit

    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root-123456"))
    unit = AdminUnit.objects.current().get(code="24937")
    url = f"/admin/gis_ioc/adminunit/{unit.pk}/change/"
    response = client.get(url)
    _assert_scripts_obey_the_policy(url, response)
    assert "gis_ioc/local_map_widget.js" in response.content.decode()


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IOC_", "SECURE", "DEBUG"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ioc.example.vn",
        IOC_HTTPS="1",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/gis_ioc"),
    )
    env.update(extra)
    return env


def test_manage_py_check_deploy_is_clean_under_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PROBE = """
import json, django
django.setup()
from django.test import Client
c = Client(HTTP_HOST="ioc.example.vn")
plain = c.get("/login/")
tls = c.get("/login/", secure=True)
probe = c.get("/healthz")
print(json.dumps({
    "redirect": [plain.status_code, plain.get("Location")],
    "hsts": tls.get("Strict-Transport-Security"),
    "csrf_secure": bool(tls.cookies["csrftoken"]["secure"]),
    "healthz_not_redirected": probe.status_code != 301,
}))
"""


@pytest.mark.django_db
def test_a_tls_deployment_sends_hsts_secure_cookies_and_redirects_plain_http() -> None:
    from django.db import connection

    # The sign-in page draws the site menu, which reads the catalog: the probe uses the test database.
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = _production_env(DJANGO_SETTINGS_MODULE="gis_ioc.settings", DATABASE_URL=url)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["redirect"] == [301, "https://ioc.example.vn/login/"]
    assert seen["hsts"].startswith("max-age=31536000") and "includeSubDomains" in seen["hsts"]
    assert seen["csrf_secure"]
    assert seen["healthz_not_redirected"]


@pytest.mark.django_db
def test_without_tls_no_hsts_is_sent(client) -> None:
    response = client.get("/login/")
    assert "Strict-Transport-Security" not in response
    assert response["X-Frame-Options"] == "DENY"
