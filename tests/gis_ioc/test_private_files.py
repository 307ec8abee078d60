"""Private files (tile caches, imports, rasters, photos) are never served raw: no URL maps onto the data root.

`make demo` runs with IOC_SERVE_STATIC=1, so these tests load the URL map the way it does.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver
from django.views.static import serve

from tests.factories import LandParcelFactory
from tests.tiles.conftest import tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def served_like_make_demo(settings, tmp_path, monkeypatch):
    """The URL map with IOC_SERVE_STATIC on, and the data root (caches included) in a temporary folder."""
    import gis_ioc.urls

    settings.MEDIA_ROOT = tmp_path / "data"
    monkeypatch.delenv("IOC_TILE_CACHE_DIR", raising=False)
    settings.IOC_SERVE_STATIC = True
    importlib.reload(gis_ioc.urls)
    clear_url_caches()
    yield Path(settings.MEDIA_ROOT)
    settings.IOC_SERVE_STATIC = False
    importlib.reload(gis_ioc.urls)
    clear_url_caches()


def _serve_roots(patterns: list[URLPattern | URLResolver]) -> list[Path]:
    """Every folder a `django.views.static.serve` route of the URL map hands out."""
    roots: list[Path] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            roots.extend(_serve_roots(pattern.url_patterns))
        elif pattern.callback is serve:
            roots.append(Path(pattern.default_args["document_root"]).resolve())
    return roots


def test_a_staff_tile_drawn_for_staff_is_not_readable_anonymously_at_any_url(
    client, district, gis_staff, served_like_make_demo
):
    parcel = LandParcelFactory()
    centre = parcel.geom.centroid
    z, x, y = tile_of(centre.x, centre.y, 16)
    client.force_login(gis_staff)
    drawn = client.get(f"/tiles/land-parcels/{z}/{x}/{y}.mvt", HTTP_ACCEPT_ENCODING="gzip")
    assert drawn.status_code == 200
    client.logout()

    cached = [p for p in served_like_make_demo.rglob("*.mvt*") if "land-parcels" in p.parts]
    assert cached, "the staff tile was not cached under the data root"
    for path in cached:
        relative = path.relative_to(served_like_make_demo).as_posix()
        for url in (
            f"/media/{relative}",
            f"/media/{path.relative_to(served_like_make_demo / 'tilecache').as_posix()}",
            f"/data/{relative}",
            f"/{relative}",
            f"/static/../data/{relative}",
        ):
            assert client.get(url).status_code in (400, 404), url  # 400: a path escaping a served folder
        for root in _serve_roots(get_resolver().url_patterns):
            assert not path.resolve().is_relative_to(root), f"{path} is served from {root}"


def test_the_only_raw_file_route_serves_the_collected_static_files(served_like_make_demo):
    roots = _serve_roots(get_resolver().url_patterns)
    assert roots == [Path(settings.STATIC_ROOT).resolve()]
    assert not any(Path(settings.MEDIA_ROOT).resolve().is_relative_to(root) for root in roots)


def test_a_tile_cache_folder_inside_the_static_files_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from tiles import conf

    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(Path(settings.STATIC_ROOT) / "tilecache"))
    with pytest.raises(ImproperlyConfigured, match="IOC_TILE_CACHE_DIR"):
        conf.cache_root()
    monkeypatch.setenv("IOC_MAPPROXY_CACHE_DIR", str(Path(settings.STATICFILES_DIRS[0]) / "mp"))
    with pytest.raises(ImproperlyConfigured, match="IOC_MAPPROXY_CACHE_DIR"):
        conf.mapproxy_cache_dir()


def test_a_data_root_inside_a_served_folder_stops_the_start():
    from tests.gis_ioc.test_settings import GOOD_KEY, GOOD_URL, refused, start

    inside = str(Path(settings.BASE_DIR) / "static" / "data")
    message = refused(start(SECRET_KEY=GOOD_KEY, DATABASE_URL=GOOD_URL, IOC_DATA_ROOT=inside))
    assert "IOC_DATA_ROOT" in message and "served folder" in message


def test_the_data_root_defaults_outside_every_served_folder():
    root = Path(settings.MEDIA_ROOT).resolve()
    for served in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
        assert not root.is_relative_to(Path(served).resolve())
