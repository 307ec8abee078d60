"""The vector-tile cache in an S3-compatible bucket (issue 16, item 5): web machines share one cache, and a
purge made by any of them reaches all. A real local S3 server (moto's) stands in for MinIO."""

from __future__ import annotations

import pytest

from layers.models import Layer, School
from tests.factories import SchoolFactory, point_in
from tests.tiles.conftest import tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3_store, monkeypatch):
    client, name, _endpoint = s3_store
    monkeypatch.setenv("IOC_TILE_CACHE_S3", f"s3://{name}/tiles")

    def keys() -> list[str]:
        return [o["Key"] for o in client.list_objects_v2(Bucket=name, Prefix="tiles/").get("Contents", [])]

    return keys


def test_tiles_are_cached_in_the_bucket_and_an_edit_purges_them_there(
    district, client, bucket, tile_dirs, django_capture_on_commit_callbacks
):
    school = SchoolFactory(geom=point_in("24931", 1))
    z, x, y = tile_of(school.geom.x, school.geom.y, 14)
    url = f"/tiles/schools/{z}/{x}/{y}.mvt"
    first = client.get(url)
    assert first.status_code == 200 and first["X-Cache"] == "MISS"
    stored = bucket()
    assert any(k.startswith("tiles/schools/g") and f"/{z}/{x}/{y}/" in k for k in stored), stored
    assert not any(tile_dirs.rglob("*.mvt.gz")), "a tile was written to the local disk"
    second = client.get(url)
    assert second["X-Cache"] == "HIT" and second.content == first.content
    # An edit (the one change signal) purges that tile from the bucket: the next answer is fresh.
    School.objects.filter(pk=school.pk).update(name="Trường đổi tên")
    with django_capture_on_commit_callbacks(execute=True):
        Layer.objects.record_change(School, geometries=[school.geom])
    assert not any(f"/{z}/{x}/{y}/" in k for k in bucket())
    third = client.get(url)
    assert third["X-Cache"] == "MISS"


def test_a_whole_layer_change_drops_the_old_generation_from_the_bucket(
    district, client, bucket, tile_dirs, django_capture_on_commit_callbacks
):
    school = SchoolFactory(geom=point_in("24931", 2))
    z, x, y = tile_of(school.geom.x, school.geom.y, 14)
    client.get(f"/tiles/schools/{z}/{x}/{y}.mvt")
    old = {k.split("/")[2] for k in bucket() if k.startswith("tiles/schools/")}
    with django_capture_on_commit_callbacks(execute=True):
        Layer.objects.record_change(School)  # no geometries: a new generation
    client.get(f"/tiles/schools/{z}/{x}/{y}.mvt")
    now = {k.split("/")[2] for k in bucket() if k.startswith("tiles/schools/")}
    assert old and now and not old & now
