"""MapProxy's tile cache on S3-compatible storage (issue 16, item 5): several web machines share one cache.

A real local S3 server (moto's, in a thread) stands in for MinIO or a cloud store; MapProxy writes through
boto3 exactly as it would there."""

from __future__ import annotations

import pytest

from tests.tiles.conftest import tile_of
from tiles import mapproxy, rasters

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BUCKET = "ioc-tiles"


@pytest.fixture
def s3(s3_store, monkeypatch):
    client, bucket, _endpoint = s3_store
    monkeypatch.setenv("IOC_MAPPROXY_CACHE_S3", f"s3://{bucket}/mapproxy")
    return client


def keys(client, prefix: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_mapproxy_caches_tiles_in_the_object_store_and_a_new_raster_clears_them(s3, live_server, demo_rasters, client):
    mapproxy.write_config(upstream=live_server.url)
    z, x, y = tile_of(108.53, 11.78, 11)
    url = f"/mapproxy/wmts/elevation/webmercator/{z}/{x}/{y}.png"
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    stored = keys(s3, "mapproxy/elevation_cache/")
    assert stored, "MapProxy wrote no tile to the bucket"
    assert client.get(url).content == first.content  # the second answer comes from the bucket
    # A replaced raster drops its cached tiles from the bucket, not only from a local disk.
    layer = demo_rasters["elevation"]
    rasters.register_layer("elevation", layer.raster_path, title_vi=layer.title_vi, title_en=layer.title_en)
    assert keys(s3, "mapproxy/elevation_cache/") == []


def test_a_malformed_bucket_url_is_refused_with_a_message(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from tiles import conf

    monkeypatch.setenv("IOC_MAPPROXY_CACHE_S3", "bucket-without-scheme")
    with pytest.raises(ImproperlyConfigured, match="s3://bucket/prefix"):
        conf.mapproxy_s3()
