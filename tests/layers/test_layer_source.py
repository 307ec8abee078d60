"""One layer source for every channel, and a commune scope that fails closed.

Before, REST/OGC/exports (layers/query.py) and tiles (tiles/mvt.py) each described a layer: a scoped user
got every row of a table without `commune_code` through REST, OGC and exports, only his communes in
tiles, and an empty scope list meant "no limit".
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection

from gis_ioc.models import UserScope
from layers import catalog_cache, query
from layers.registry import register_table_layer
from tests.conftest import make_user
from tiles import mvt

pytestmark = pytest.mark.usefixtures("tile_dirs")


@pytest.fixture
def tile_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("IOC_TILE_CACHE_DIR", str(tmp_path / "tilecache"))


def _table(name: str, with_commune: bool) -> str:
    commune = ", commune_code varchar(10)" if with_commune else ""
    values = ", '24934'" if with_commune else ""
    values2 = ", '24943'" if with_commune else ""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} (id serial PRIMARY KEY, name text{commune}, geom geometry(Point, 4326))")
        cursor.execute(
            f"INSERT INTO {name} (name{', commune_code' if with_commune else ''}, geom) VALUES "  # noqa: S608
            f"('Lạc Xuân'{values}, ST_SetSRID(ST_MakePoint(108.60, 11.78), 4326)), "
            f"('Ka Đô'{values2}, ST_SetSRID(ST_MakePoint(108.60, 11.72), 4326))"
        )
    return name


@pytest.fixture
def wells(district):
    """An imported table that has no commune column (cannot be scoped) and one that has."""
    register_table_layer(_table("import_wells_bare", False), "wells-bare", "Giếng", "Wells")
    register_table_layer(_table("import_wells_coded", True), "wells-coded", "Giếng", "Wells")


@pytest.fixture
def scoped(db):
    return make_user("scoped_officer", "field_officer", communes=["24934"])


def _rest_names(client, slug: str) -> list[str]:
    response = client.get(f"/api/v1/layers/{slug}/features/?limit=100")
    assert response.status_code == 200, response.content[:300]
    return sorted(f["properties"]["name"] for f in response.json()["features"])


def _ogc_names(client, slug: str) -> list[str]:
    response = client.get(f"/ogc/collections/{slug}/items?f=json&limit=100")
    assert response.status_code == 200, response.content[:300]
    return sorted(f["properties"]["name"] for f in response.json()["features"])


def _csv_names(client, slug: str) -> list[str]:
    response = client.get(f"/api/v1/layers/{slug}/export?format=csv")
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return sorted(row["name"] for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _tile_count(client, slug: str) -> int:
    from tests.tiles.conftest import decode, tile_of

    z, x, y = tile_of(108.60, 11.75, 10)  # one tile holding both wells
    response = client.get(f"/tiles/{slug}/{z}/{x}/{y}.mvt")
    if response.status_code == 204:
        return 0
    assert response.status_code == 200, response.content[:300]
    return len(decode(response).get(slug, {}).get("features", []))


CHANNELS = {"rest": _rest_names, "ogc": _ogc_names, "csv": _csv_names}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_scoped_user_gets_nothing_from_a_table_without_a_commune_column(wells, scoped, client, channel):
    client.force_login(scoped)
    assert CHANNELS[channel](client, "wells-bare") == []
    assert _tile_count(client, "wells-bare") == 0


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_scoped_user_gets_his_communes_rows_of_a_table_with_one(wells, scoped, client, channel):
    client.force_login(scoped)
    assert CHANNELS[channel](client, "wells-coded") == ["Lạc Xuân"]
    assert _tile_count(client, "wells-coded") == 1


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_an_empty_scope_list_shows_nothing_on_any_channel(wells, client, channel):
    user = make_user("emptied", "field_officer")
    UserScope.objects.create(user=user, commune_codes=[])
    client.force_login(user)
    assert CHANNELS[channel](client, "wells-coded") == []
    assert _tile_count(client, "wells-coded") == 0


def test_an_unscoped_user_gets_every_row_on_every_channel(wells, gis_staff, client):
    client.force_login(gis_staff)
    for read in CHANNELS.values():
        assert read(client, "wells-bare") == ["Ka Đô", "Lạc Xuân"]
    assert _tile_count(client, "wells-bare") == 2


def test_feature_apis_and_tiles_read_the_same_source_object(wells):
    """One description per catalog row version: the catalog cache's copy carries it to both channels."""
    layer = catalog_cache.current("wells-coded")
    assert layer is not None
    assert mvt.layer_source(layer) is query.layer_source(layer)
    assert mvt.layer_source(layer).commune_column is not None
