"""Tile settings, read from the environment through the project's typed helpers (fail loudly on typos)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from gis_ioc.lib.env import env_bool, env_int, env_str


def cache_enabled() -> bool:
    """Disk cache of rendered tiles on (default) or off (benchmarks of the uncached path)."""
    return env_bool("IOC_TILE_CACHE", True)


def cache_root() -> Path:
    """Where rendered vector tiles live: MEDIA_ROOT/tilecache unless IOC_TILE_CACHE_DIR says otherwise."""
    return Path(env_str("IOC_TILE_CACHE_DIR", "") or Path(settings.MEDIA_ROOT) / "tilecache")


def raster_root() -> Path:
    """Cloud-Optimized GeoTIFFs are stored here (catalog paths are relative to MEDIA_ROOT)."""
    return Path(settings.MEDIA_ROOT) / "rasters"


def max_age() -> int:
    """Seconds a browser may reuse a tile without asking; 0 means always revalidate with the ETag."""
    return env_int("IOC_TILE_MAX_AGE", 0, minimum=0)


def max_features() -> int:
    """A single feature cap for tiles at every zoom (0: the per-zoom caps of tiles.mvt.FEATURE_CAP)."""
    return env_int("IOC_TILE_MAX_FEATURES", 0, minimum=0)


def mapproxy_dir() -> Path:
    """Directory of the generated MapProxy configuration (mapproxy.yaml, seed.yaml, coverage)."""
    return Path(env_str("IOC_MAPPROXY_DIR", "") or Path(settings.BASE_DIR) / "mapproxy")


def mapproxy_cache_dir() -> Path:
    """MapProxy's disk cache."""
    return Path(env_str("IOC_MAPPROXY_CACHE_DIR", "") or Path(settings.MEDIA_ROOT) / "mapproxy_cache")


def mapproxy_upstream() -> str:
    """Base URL MapProxy uses to fetch the raster tile endpoints (the Django server itself)."""
    return env_str("IOC_MAPPROXY_UPSTREAM", "http://127.0.0.1:8000").rstrip("/")


def mapproxy_basemap_url() -> str:
    """Optional online basemap (an XYZ URL with %(z)s/%(x)s/%(y)s); empty = off, for closed networks."""
    return env_str("IOC_MAPPROXY_BASEMAP_URL", "")
