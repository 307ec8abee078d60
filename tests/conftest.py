"""Shared fixtures: the demo district in the test database, and one persona per role."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from gis_ioc import roles

# tests/distributed/ runs against Citus clusters: only `make test-distributed` (IOC_DISTRIBUTED=1) collects it.
collect_ignore = [] if os.environ.get("IOC_DISTRIBUTED") == "1" else ["distributed"]

# ../shared/data next to the checkout; IOC_SHARED_DATA points elsewhere (a CI clone in another folder).
SHARED_DATA = Path(os.environ.get("IOC_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def shared_file(name: str) -> Path:
    """A file of ../shared/data; skipped outside CI when absent, a failure under CI (SOURCES.md)."""
    path = SHARED_DATA / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test data missing: {path}")
        pytest.skip(f"shared test data not found: {path}")
    return path


@pytest.fixture(autouse=True)
def _own_tile_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own tile cache and MapProxy folders. The database rolls back after every test, and
    with it the tile cache generation (tiles.cache.state_for); a shared folder would then serve a later test
    the tiles an earlier test rendered from other data under the same generation number, and a MapProxy
    configuration written from one test's catalog would outlive it. The folders are only created when used.
    (tests/leak_matrix overrides this fixture: it keeps one layout for its whole module.)"""
    _own_tile_cache.count += 1  # type: ignore[attr-defined]
    base = tmp_path_factory.getbasetemp() / "tilecaches" / str(_own_tile_cache.count)  # type: ignore[attr-defined]
    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(base / "tiles"))
    monkeypatch.setenv("IOC_MAPPROXY_DIR", str(base / "mapproxy"))
    monkeypatch.setenv("IOC_MAPPROXY_CACHE_DIR", str(base / "mapproxy_cache"))


_own_tile_cache.count = 0  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _empty_cache():
    """The database rolls back after every test but Django's cache (in-process in tests) does not: clear it,
    so no test is answered from what an earlier one cached over other data."""
    from django.core.cache import cache

    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (vi). A request through the test client leaves the language it
    negotiated active in the thread (LocaleMiddleware never deactivates it), so without this a message read
    outside a request would be in whatever language the previous test's last request chose."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs ~0.5 s per user on a busy machine; tests create many users and need no real hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def district(db):
    """The demo Đơn Dương (generated boundaries; Pró merged into Quảng Lập from 2025-01-01)."""
    from gis_ioc.demo.district import district_loaded, load_district
    from gis_ioc.models import AdminUnit

    if not district_loaded():
        load_district()
    return AdminUnit.objects.current().communes()


def make_user(username: str, *role_names: str, communes: list[str] | None = None) -> User:
    from gis_ioc.models import UserScope

    roles.ensure_role_groups()
    user = User.objects.create_user(username=username, password="pw-" + username + "-123")
    user.groups.set(Group.objects.filter(name__in=role_names))
    if communes:
        UserScope.objects.create(user=user, commune_codes=communes)
    return user


@pytest.fixture
def leader(db) -> User:
    return make_user("leader", roles.LEADER)


@pytest.fixture
def planner(db) -> User:
    return make_user("planner", roles.PLANNER)


@pytest.fixture
def field_officer(db) -> User:
    return make_user("field_officer", roles.FIELD_OFFICER)


@pytest.fixture
def gis_staff(db) -> User:
    return make_user("gis_staff", roles.GIS_STAFF)


@pytest.fixture
def agency_staff(db) -> User:
    return make_user("agency_staff", roles.AGENCY_STAFF)


@pytest.fixture
def administrator(db) -> User:
    return make_user("administrator", roles.ADMINISTRATOR)


@pytest.fixture
def scoped_officer(db) -> User:
    """A field officer limited to Thạnh Mỹ (24931) and Đạ Ròn (24937)."""
    return make_user("scoped_officer", roles.FIELD_OFFICER, communes=["24931", "24937"])
