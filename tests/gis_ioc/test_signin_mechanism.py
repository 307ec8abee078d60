"""The one sign-in itself: CSRF only for cookies, last use written at most once a minute, a deactivated
account or revoked token refused on the next request, the tile path paying one statement for a token and
nothing for anonymous or session requests, DRF's old keys kept by the data migration."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gis_ioc.models import ApiToken
from tests.factories import HouseholdBusinessFactory, SchoolFactory, point_in
from tests.tiles.conftest import tile_dirs, tile_of  # noqa: F401 (an isolated tile cache for each test)

pytestmark = pytest.mark.django_db
SCHOOLS = "/api/v1/layers/schools/features/"
SHOP_TILE = "/tiles/household-businesses/{}/{}/{}.mvt".format(*tile_of(108.45, 11.75, 14))


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def new_school(client: Client, **headers: str):
    point = point_in("24934", 7)
    data = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        "properties": {"name": "Trường Tiểu học Lạc Xuân 2", "level": "tieu_hoc", "pupils": 210},
    }
    return client.post(SCHOOLS, json.dumps(data), content_type="application/json", **headers)


def test_a_token_writes_without_csrf_and_a_session_or_basic_write_still_needs_it(district, gis_staff):
    client = Client(enforce_csrf_checks=True)
    token = ApiToken.issue(gis_staff, "script")
    assert new_school(client, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 201
    # A browser sends cached Basic credentials and cookies by itself, so neither may write without CSRF.
    refused = new_school(client, HTTP_AUTHORIZATION=basic("gis_staff", token.key))
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.force_login(gis_staff)
    assert new_school(client).status_code == 403


def test_a_token_also_writes_to_plain_django_views_without_csrf(district, gis_staff):
    """The raster upload is a plain Django view behind CsrfViewMiddleware: a token passes, a session does not."""
    client = Client(enforce_csrf_checks=True)
    token = ApiToken.issue(gis_staff, "script")
    with_token = client.post("/tiles/raster/upload", {"slug": "x"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert with_token.status_code == 400  # past CSRF and the role check: the file is missing
    client.force_login(gis_staff)
    assert client.post("/tiles/raster/upload", {"slug": "x"}).status_code == 403


def test_last_use_is_written_at_most_once_a_minute(client, district, gis_staff):
    SchoolFactory(in_commune="24934")
    token = ApiToken.issue(gis_staff, "QGIS")
    assert token.last_used_at is None
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get(SCHOOLS, **auth).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < dt.timedelta(minutes=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(seconds=30))
    client.get(SCHOOLS, **auth)
    token.refresh_from_db()
    assert token.last_used_at == first - dt.timedelta(seconds=30)  # used 30 s ago: not written again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get(SCHOOLS, HTTP_AUTHORIZATION=basic("gis_staff", token.key))
    token.refresh_from_db()
    assert token.last_used_at > first - dt.timedelta(minutes=2)


def test_a_deactivated_account_or_a_revoked_token_is_refused_on_the_next_tile(client, district, gis_staff):
    HouseholdBusinessFactory(name="Tạp hóa Bí Mật", geom="POINT(108.45 11.75)")
    token = ApiToken.issue(gis_staff, "QGIS")
    assert client.get(SHOP_TILE, HTTP_AUTHORIZATION=basic("gis_staff", token.key)).status_code == 200
    gis_staff.is_active = False
    gis_staff.save()
    refused = client.get(SHOP_TILE, HTTP_AUTHORIZATION=basic("gis_staff", token.key))
    assert refused.status_code == 401 and "bị khóa" in refused.json()["detail"]
    gis_staff.is_active = True
    gis_staff.save()
    assert client.get(SHOP_TILE, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    token.revoke()
    assert client.get(SHOP_TILE, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode()],
)
def test_an_unreadable_authorization_header_is_a_401_saying_what_to_send(client, district, header):
    response = client.get("/tiles/schools.json", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "Authorization" in response.json()["detail"]


def test_another_scheme_is_left_alone_and_the_request_is_anonymous(client, district):
    assert client.get("/tiles/schools.json", HTTP_AUTHORIZATION='Digest username="x"').status_code == 200
    assert client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION='Digest username="x"').status_code == 404


def test_an_english_client_reads_the_refusal_in_english(client, district):
    response = client.get("/tiles/schools.json?lang=en", HTTP_AUTHORIZATION="Token ioc_wrong")
    assert response.status_code == 401 and response.json()["detail"] == "Wrong or revoked API token."


def _statements(client: Client, url: str, **headers: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_token_costs_a_tile_one_statement_and_anonymous_or_session_tiles_nothing_new(client, district, gis_staff):
    school = SchoolFactory(in_commune="24934")
    public_tile = "/tiles/schools/{}/{}/{}.mvt".format(*tile_of(school.geom.x, school.geom.y, 14))
    token = ApiToken.issue(gis_staff, "QGIS")
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    for _warm_up in range(2):  # the process's copy of the layer and its cache state, the cached tile
        client.get(public_tile)
    anonymous = _statements(client, public_tile)
    assert len(anonymous) == 1  # a cache hit: the copy's hash is confirmed, nothing else
    first_use = _statements(client, public_tile, **auth)  # + the last use, written once a minute at most
    assert len(first_use) == len(anonymous) + 2 and first_use[1].startswith('UPDATE "gis_ioc_apitoken"')
    with_token = _statements(client, public_tile, **auth)
    assert len(with_token) == len(anonymous) + 1 and "gis_ioc_apitoken" in with_token[0]
    client.force_login(gis_staff)
    session = _statements(client, public_tile)  # the session row and the one-query user, as before
    assert len(session) == 3 and not any("apitoken" in sql for sql in session)


def test_the_migration_keeps_the_keys_drf_issued(client, district, gis_staff):
    """Existing DRF tokens (plain text, one per user) become named, hashed tokens that still open the API."""
    migration = importlib.import_module("gis_ioc.migrations.0002_api_tokens")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id int)")
        cursor.execute(
            "INSERT INTO authtoken_token VALUES ('0123456789abcdef0123456789abcdef01234567', now(), %s)", [gis_staff.pk]
        )
    migration.adopt_rest_framework_tokens(None, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token')")
        assert cursor.fetchone()[0] is None  # no plain-text key left behind
    kept = ApiToken.objects.get(user=gis_staff)
    assert kept.hint == "01234567" and "0123456789abcdef" not in kept.digest
    auth = "Token 0123456789abcdef0123456789abcdef01234567"
    assert client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION=auth).status_code == 200


def test_the_openapi_document_offers_token_basic_and_session(client):
    schema = client.get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {"type": "http", "scheme": "basic", "description": "user name + API token"}
    assert schemes["tokenAuth"]["in"] == "header" and "cookieAuth" in schemes
    security = schema["paths"]["/api/v1/layers/{slug}/features/"]["get"]["security"]
    assert {"tokenAuth": []} in security and {"basicAuth": []} in security  # each enough alone


def test_basic_can_be_left_to_a_reverse_proxy(client, district, gis_staff, settings):
    """Behind a proxy that asks for its own Basic password (IOC_API_BASIC_AUTH=0) its header is not a token."""
    settings.IOC_API_BASIC_AUTH = False
    proxy = basic("district", "proxy-password")
    assert client.get("/tiles/schools.json", HTTP_AUTHORIZATION=proxy).status_code == 200
    assert client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION=proxy).status_code == 404
    token = ApiToken.issue(gis_staff, "script")
    ok = client.get("/tiles/household-businesses.json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ok.status_code == 200


def test_async_code_sees_the_token_user_too(rf, gis_staff):
    """Django's async accessor (`await request.auser()`) agrees with `request.user`."""
    from asgiref.sync import async_to_sync
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    from gis_ioc.middleware import SignInMiddleware

    token = ApiToken.issue(gis_staff, "script")
    request = rf.get("/", HTTP_AUTHORIZATION=f"Token {token.key}")
    seen = {}

    def view(req):
        seen["sync"], seen["async"] = req.user, async_to_sync(req.auser)()
        return None

    SessionMiddleware(AuthenticationMiddleware(SignInMiddleware(view)))(request)
    assert seen["sync"] == gis_staff and seen["async"] == gis_staff
