"""Tile views keep a per-process copy of each catalog layer (tiles/catalog.py): a catalog change, a data
edit or a deletion still shows on the very next request, and an unchanged layer costs one small query."""

from __future__ import annotations

import gzip

import mapbox_vector_tile
import pytest

from gis_ioc import permissions
from layers.models import Layer
from tests.factories import SchoolFactory
from tests.tiles.conftest import decode, tile_of
from tiles import mvt

pytestmark = pytest.mark.django_db


def url(slug, z, x, y):
    return f"/tiles/{slug}/{z}/{x}/{y}.mvt"


@pytest.fixture
def school_tile(district):
    school = SchoolFactory(name="Trường Mầm non Hoa Hồng", in_commune="24934")
    return school, tile_of(school.geom.x, school.geom.y, 14)


@pytest.fixture(params=["cache on", "cache off"])
def tile_cache(request, monkeypatch):
    """Both ways a tile is checked against the catalog: with the cache on, a cached tile is served after a
    hash query and an uncached one by the guarded tile statement; with it off, always the latter."""
    monkeypatch.setenv("IOC_TILE_CACHE", "1" if request.param == "cache on" else "0")
    return request.param


def settle(client, *paths):
    """Request each path twice: the process then holds a copy of the layer with its cache state, so the
    next request is decided from the copy (and the copy checked against the row)."""
    for path in paths:
        client.get(path)
        client.get(path)


def test_a_public_layer_made_staff_only_disappears_for_anonymous_users_on_the_next_request(
    client, gis_staff, school_tile, tile_cache
):
    _school, (z, x, y) = school_tile
    assert Layer.objects.get(slug="schools").visibility == "public"
    settle(client, url("schools", z, x, y))
    # A queryset update skips auto_now (updated_at stays): the row hash still sees the change.
    Layer.objects.filter(slug="schools").update(visibility="staff")
    assert client.get(url("schools", z, x, y)).status_code == 404
    assert client.get(url("schools", z, x + 1, y)).status_code == 404  # never cached: the tile statement's guard
    client.force_login(gis_staff)
    assert client.get(url("schools", z, x, y)).status_code == 200


def test_a_narrowed_zoom_range_applies_on_the_next_request(client, school_tile, tile_cache):
    _school, (z, x, y) = school_tile
    settle(client, url("schools", z, x, y))
    Layer.objects.filter(slug="schools").update(max_zoom=z - 1)
    assert client.get(url("schools", z, x, y)).status_code == 404


def test_a_deleted_layer_is_gone_on_the_next_request(client, school_tile, tile_cache):
    _school, (z, x, y) = school_tile
    settle(client, url("schools", z, x, y))
    Layer.objects.filter(slug="schools").delete()
    assert client.get(url("schools", z, x, y)).status_code == 404
    assert client.get(url("schools", z, x + 1, y)).status_code == 404


def test_a_feature_edit_shows_on_the_next_uncached_request(client, school_tile, monkeypatch):
    school, tile = school_tile
    monkeypatch.setenv("IOC_TILE_CACHE", "0")
    settle(client, url("schools", *tile))
    school.name = "Trường Mầm non Hoa Sen"
    school.save()
    fresh = client.get(url("schools", *tile))
    assert {f["properties"]["name"] for f in decode(fresh)["schools"]["features"]} == {"Trường Mầm non Hoa Sen"}


def test_a_touched_layer_serves_fresh_tiles_on_the_next_request(client, school_tile):
    school, tile = school_tile
    assert client.get(url("schools", *tile))["X-Cache"] == "MISS"
    assert client.get(url("schools", *tile))["X-Cache"] == "HIT"
    school.name = "Trường Mầm non Hoa Sen"
    school.save()
    Layer.objects.get(slug="schools").record_change()  # an import or bulk change: no per-tile purge
    fresh = client.get(url("schools", *tile))
    assert fresh["X-Cache"] == "MISS"
    assert {f["properties"]["name"] for f in decode(fresh)["schools"]["features"]} == {"Trường Mầm non Hoa Sen"}


def test_an_unchanged_layer_costs_one_query_per_cached_tile(client, school_tile, django_assert_num_queries):
    _school, tile = school_tile
    client.get(url("schools", *tile))  # renders the tile; creates the layer's cache state (the hash moves)
    client.get(url("schools", *tile))
    with django_assert_num_queries(1):  # the row hash; the layer itself is not loaded again
        assert client.get(url("schools", *tile))["X-Cache"] == "HIT"


def test_the_gzip_tile_decodes_with_the_standard_library_to_the_query_output(client, school_tile):
    school, (z, x, y) = school_tile
    response = client.get(url("schools", z, x, y), HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    layer = Layer.objects.get(slug="schools")
    fields = permissions.visible_fields(None, layer, "tiles")
    raw = mvt.render_tile(layer, None, mvt.Tile(z, x, y), mvt.TileFilters(), fields)
    body = gzip.decompress(response.content)
    assert mapbox_vector_tile.decode(body) == mapbox_vector_tile.decode(raw)
    assert school.pk in {f["id"] for f in mapbox_vector_tile.decode(body)["schools"]["features"]}
    plain = client.get(url("schools", z, x, y))
    assert "Content-Encoding" not in plain and plain.content == body


@pytest.mark.django_db(transaction=True)
def test_the_tile_query_planner_settings_end_with_the_query(district):
    from django.db import connection

    school = SchoolFactory(in_commune="24934")
    z, x, y = tile_of(school.geom.x, school.geom.y, 14)
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')")
        before = cur.fetchone()
    layer = Layer.objects.get(slug="schools")
    assert mvt.render_tile(layer, None, mvt.Tile(z, x, y), mvt.TileFilters(), ["name"])
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')")
        assert cur.fetchone() == before


def _queries_of(client, path):
    """The SQL statements one request ran, leaving out the savepoints of the test's own transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response, [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_an_uncached_tile_of_an_unchanged_layer_is_checked_and_rendered_in_one_statement(
    client, school_tile, monkeypatch
):
    _school, (z, x, y) = school_tile
    monkeypatch.setenv("IOC_TILE_CACHE", "0")
    client.get(url("schools", z, x, y))
    response, queries = _queries_of(client, url("schools", z, x, y))
    assert response["X-Cache"] == "BYPASS"
    assert len(queries) == 1 and "ST_AsMVT" in queries[0]
    assert {f["properties"]["name"] for f in decode(response)["schools"]["features"]} == {"Trường Mầm non Hoa Hồng"}


def test_a_cache_miss_of_an_unchanged_layer_needs_the_tile_statement_and_the_purge_check(client, school_tile):
    _school, (z, x, y) = school_tile
    client.get(url("schools", z, x, y))  # creates the layer's cache state: the next request reloads the layer
    client.get(url("schools", z, x, y))
    response, queries = _queries_of(client, url("schools", z, x + 1, y))
    assert response["X-Cache"] == "MISS"
    assert len(queries) == 2 and "ST_AsMVT" in queries[0]


def test_a_table_imported_again_with_other_columns_is_drawn_from_the_new_catalog_row(
    client, district, gis_staff, tile_cache
):
    from django.db import connection

    from layers.registry import register_table_layer

    z, x, y = tile_of(108.60, 11.78, 14)
    client.force_login(gis_staff)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE import_wells (id serial PRIMARY KEY, depth_m float8, geom geometry(Point, 4326))")
        cursor.execute(
            "INSERT INTO import_wells (depth_m, geom) VALUES (42.5, ST_SetSRID(ST_MakePoint(108.60, 11.78), 4326))"
        )
    register_table_layer("import_wells", "wells", "Giếng khoan", "Wells")
    settle(client, url("wells", z, x, y))
    first = decode(client.get(url("wells", z, x, y)))["wells"]["features"]
    assert first[0]["properties"] == {"depth_m": 42.5}
    # The re-import replaces the table: the process's copy of the layer names a column that is gone.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE import_wells")
        cursor.execute("CREATE TABLE import_wells (id serial PRIMARY KEY, depth float8, geom geometry(Point, 4326))")
        cursor.execute(
            "INSERT INTO import_wells (depth, geom) VALUES (40, ST_SetSRID(ST_MakePoint(108.60, 11.78), 4326))"
        )
    register_table_layer("import_wells", "wells", "Giếng khoan", "Wells")
    again = client.get(url("wells", z, x, y))
    assert again.status_code == 200
    assert decode(again)["wells"]["features"][0]["properties"] == {"depth": 40.0}


def test_a_private_layer_with_a_broken_source_is_still_a_404_for_whoever_may_not_see_it(client, district):
    Layer.objects.create(
        slug="hong", title_vi="Lớp hỏng", title_en="Broken", source_model="layers.NoSuchModel", visibility="staff"
    )
    assert client.get(url("hong", 14, 13133, 7653)).status_code == 404
