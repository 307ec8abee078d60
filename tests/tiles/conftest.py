"""Tile tests write their caches, COGs and MapProxy files under a temporary directory."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest


@pytest.fixture(autouse=True)
def tile_dirs(tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(tmp_path / "tilecache"))
    monkeypatch.setenv("IOC_MAPPROXY_DIR", str(tmp_path / "mapproxy"))
    monkeypatch.setenv("IOC_MAPPROXY_CACHE_DIR", str(tmp_path / "mapproxy_cache"))
    from tiles.styles import _district_bounds

    _district_bounds.cache_clear()
    return tmp_path


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ tile containing a WGS84 point."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def decode(response) -> dict:
    """Decode an MVT response (gzip-encoded or not) into {layer: {features: [...]}}."""
    import gzip

    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body)
