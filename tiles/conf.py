"""Tile settings, read from the environment through the project's typed helpers (fail loudly on typos)."""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gis_ioc.lib.env import env_bool, env_int, env_str, private_path


@functools.lru_cache(maxsize=16)
def _private(name: str, path: str) -> Path:
    # Checked once per value (tiles ask for their folder on every request; resolving costs syscalls).
    served = [Path(settings.STATIC_ROOT), *(Path(p) for p in settings.STATICFILES_DIRS)]
    return private_path(name, Path(path), served)


def cache_enabled() -> bool:
    """Disk cache of rendered tiles on (default) or off (benchmarks of the uncached path)."""
    return env_bool("IOC_TILE_CACHE", True)


def cache_root() -> Path:
    """Where rendered vector tiles live: the private data root's tilecache/ unless IOC_TILE_CACHE_DIR says
    otherwise (never under a served folder: a staff tile there would be anyone's)."""
    return _private(
        "IOC_TILE_CACHE_DIR", env_str("IOC_TILE_CACHE_DIR", "") or str(Path(settings.MEDIA_ROOT) / "tilecache")
    )


def raster_root() -> Path:
    """Cloud-Optimized GeoTIFFs are stored here, in the private data root (catalog paths are relative to it)."""
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
    """MapProxy's disk cache (private rasters included): the private data root's mapproxy_cache/."""
    default = str(Path(settings.MEDIA_ROOT) / "mapproxy_cache")
    return _private("IOC_MAPPROXY_CACHE_DIR", env_str("IOC_MAPPROXY_CACHE_DIR", "") or default)


def _s3(name: str) -> tuple[str, str] | None:
    raw = env_str(name, "")
    if not raw:
        return None
    if not raw.startswith("s3://") or not raw[5:].split("/", 1)[0]:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected s3://bucket/prefix")
    bucket, _, prefix = raw[5:].partition("/")
    return bucket, prefix.strip("/")


def mapproxy_s3() -> tuple[str, str] | None:
    """MapProxy's cache on S3-compatible storage (several web machines share one): `IOC_MAPPROXY_CACHE_S3=
    s3://bucket/prefix` gives (bucket, prefix); None keeps the disk cache. The endpoint of a non-AWS store
    (MinIO) is IOC_S3_ENDPOINT_URL; credentials and region are boto3's usual AWS_* variables."""
    return _s3("IOC_MAPPROXY_CACHE_S3")


def tile_cache_s3() -> tuple[str, str] | None:
    """The vector-tile cache on S3-compatible storage (`IOC_TILE_CACHE_S3=s3://bucket/prefix`), shared by
    every web machine so a purge made by one reaches all; None keeps it on disk (tiles/cache.py)."""
    return _s3("IOC_TILE_CACHE_S3")


def s3_endpoint_url() -> str:
    return env_str("IOC_S3_ENDPOINT_URL", "")


def mapproxy_max_size() -> int:
    """Largest WMS image side in pixels (GetMap/GetFeatureInfo WIDTH and HEIGHT); larger requests are a 400.

    A 4000×4000 GetMap took 30 s of a web worker; 2048 covers a print page at 150 dpi."""
    return env_int("IOC_MAPPROXY_MAX_SIZE", 2048, minimum=256, maximum=8192)


def mapproxy_upstream() -> str:
    """Base URL MapProxy uses to fetch the raster tile endpoints (the Django server itself)."""
    return env_str("IOC_MAPPROXY_UPSTREAM", "http://127.0.0.1:8000").rstrip("/")


def mapproxy_basemap_url() -> str:
    """Optional online basemap (an XYZ URL with %(z)s/%(x)s/%(y)s); empty = off, for closed networks."""
    return env_str("IOC_MAPPROXY_BASEMAP_URL", "")
