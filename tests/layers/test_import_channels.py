"""An imported file becomes a catalog layer served by every channel at once (REST, OGC API, vector tiles),
private to staff by default; re-importing it with a key updates rows instead of duplicating them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from django.db import connection

from layers.importers.base import ImportOptions
from layers.importers.pipeline import run_import
from layers.models import Layer
from tests.conftest import shared_file


@pytest.fixture
def imported(district) -> Layer:
    path = shared_file("don_duong_communes.geojson")
    run_import(path, path.name, ImportOptions(target="new:ranh-xa-2009", title="Ranh xã 2009"))
    return Layer.objects.get(slug="ranh-xa-2009")


@pytest.mark.django_db
def test_the_new_layer_is_in_the_catalog_for_staff_only(imported, client, gis_staff) -> None:
    assert (imported.visibility, imported.source_table, imported.geometry_type) == (
        "staff",
        "imp_ranh_xa_2009",
        "MultiPolygon",
    )
    assert "full_name" in [a["name"] for a in imported.attributes]
    assert client.get("/api/v1/layers/ranh-xa-2009/features/").status_code == 404
    client.force_login(gis_staff)
    body = client.get("/api/v1/layers/ranh-xa-2009/features/?limit=20").json()
    names = {f["properties"]["full_name"] for f in body["features"]}
    assert "Thị trấn Thạnh Mỹ" in names and len(names) == 10


@pytest.mark.django_db
def test_the_new_layer_is_served_by_ogc_api_and_vector_tiles(imported, client, gis_staff) -> None:
    client.force_login(gis_staff)
    items = client.get("/ogc/collections/ranh-xa-2009/items?f=json&limit=5")
    assert items.status_code == 200 and len(items.json()["features"]) == 5
    z, lon, lat = 12, 108.489, 11.7687  # inside Thạnh Mỹ
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    response = client.get(f"/tiles/ranh-xa-2009/{z}/{x}/{y}.mvt")
    assert response.status_code == 200 and len(response.content) > 100


@pytest.mark.django_db
def test_reimporting_a_new_layer_with_a_key_updates_without_duplicates(imported, tmp_path: Path) -> None:
    path = shared_file("don_duong_communes.geojson")
    before = imported.version
    report = run_import(path, path.name, ImportOptions(target="ranh-xa-2009", key=["gso_commune_code"]))
    assert (report["inserted"], report["updated"]) == (0, 10)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT gso_commune_code) FROM imp_ranh_xa_2009")
        assert cur.fetchone() == (10, 10)
    assert Layer.objects.get(slug="ranh-xa-2009").version > before
