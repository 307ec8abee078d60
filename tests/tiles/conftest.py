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


class _Rollback(Exception):
    pass


@pytest.fixture(scope="session")
def demo_cogs(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo rasters as COGs, built once per session (deterministic) from the demo district."""
    from django.db import transaction

    from gis_ioc.demo.district import district_loaded, load_district
    from tiles import demo, rasters

    out = tmp_path_factory.mktemp("demo_cogs")
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                if not district_loaded():
                    load_district()
                sources = demo.build(out / "src")
                cogs = {slug: rasters.make_cog(path, out / f"{slug}.tif") for slug, path in sources.items()}
                raise _Rollback
        except _Rollback:
            pass
    return cogs


@pytest.fixture
def demo_rasters(district, tile_dirs, demo_cogs, settings):
    """The three demo raster layers registered, their COGs copied under this test's MEDIA_ROOT."""
    import shutil
    from pathlib import Path

    from layers.models import Layer
    from tiles import demo, rasters

    folder = Path(settings.MEDIA_ROOT) / "rasters"
    folder.mkdir(parents=True, exist_ok=True)
    for slug, spec in demo.LAYERS.items():
        shutil.copyfile(demo_cogs[slug], folder / f"{slug}.tif")
        rasters.register_layer(slug, f"rasters/{slug}.tif", **spec)
    return {slug: Layer.objects.get(slug=slug) for slug in demo.SLUGS}


@pytest.fixture
def s3_store(monkeypatch):
    """A real local S3 server (moto's, in a thread) with one bucket, and boto3's credentials pointed at it;
    yields (boto3 client, bucket name, endpoint)."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "ioc-test",
        "AWS_SECRET_ACCESS_KEY": "ioc-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "IOC_S3_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    from tiles import cache

    cache._client.cache_clear()  # a client made for another endpoint must not be reused
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="ioc-tiles")
    yield client, "ioc-tiles", endpoint
    cache._client.cache_clear()
    server.stop()

