"""TileJSON 3.0 per layer and the MapLibre style of the visible catalog."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_tilejson_describes_the_layer_for_a_map_client(client, district):
    doc = client.get("/tiles/schools.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://testserver/tiles/schools/{z}/{x}/{y}.mvt"]
    assert doc["vector_layers"][0]["id"] == "schools"
    assert set(doc["vector_layers"][0]["fields"]) >= {"name", "level", "pupils"}
    west, south, east, north = doc["bounds"]
    assert 108.3 < west < east < 108.8 and 11.5 < south < north < 12.0
    assert doc["minzoom"] == 8 and doc["maxzoom"] == 20


def test_tilejson_lists_only_the_fields_the_user_may_see(client, district, agency_staff):
    anonymous = client.get("/tiles/petitions.json").json()["vector_layers"][0]["fields"]
    client.force_login(agency_staff)
    staff = client.get("/tiles/petitions.json").json()["vector_layers"][0]["fields"]
    assert "reporter_name" not in anonymous
    assert "reporter_name" in staff


def test_tilejson_carries_the_filters_into_the_tile_url(client, district):
    doc = client.get("/tiles/planning-zones.json?plan=3").json()
    assert doc["tiles"][0].endswith("/tiles/planning-zones/{z}/{x}/{y}.mvt?plan=3")


def test_tilejson_of_a_private_layer_is_404_for_an_anonymous_user(client, district, gis_staff):
    assert client.get("/tiles/land-parcels.json").status_code == 404
    client.force_login(gis_staff)
    assert client.get("/tiles/land-parcels.json").status_code == 200


def test_the_style_draws_every_visible_layer_and_no_other(client, district, administrator):
    style = client.get("/tiles/style.json").json()
    assert style["version"] == 8
    assert {"schools", "communes", "petitions"} <= set(style["sources"])
    assert "land-parcels" not in style["sources"] and "budget-revenue" not in style["sources"]
    client.force_login(administrator)
    admin_style = client.get("/tiles/style.json").json()
    assert {"land-parcels", "budget-revenue"} <= set(admin_style["sources"])
    parcels_fill = next(lyr for lyr in admin_style["layers"] if lyr["id"] == "land-parcels-fill")
    match = parcels_fill["paint"]["fill-color"]
    assert match[0] == "match" and "CLN" in match and "LUC" in match  # land-use palette
    schools = next(lyr for lyr in style["layers"] if lyr["id"] == "schools")
    assert schools["type"] == "circle" and "#56b4e9" in schools["paint"]["circle-color"]  # Okabe–Ito
    assert all(src["tiles"][0].startswith("http://testserver/") for src in style["sources"].values())


def test_every_catalog_layer_with_geometry_has_tilejson_and_tiles(client, district, administrator):
    from layers.models import Layer
    from tests.tiles.conftest import tile_of

    client.force_login(administrator)
    layers = [lyr for lyr in Layer.objects.vector() if lyr.geometry_field]
    assert len(layers) >= 10
    for layer in layers:
        doc = client.get(f"/tiles/{layer.slug}.json")
        assert doc.status_code == 200, layer.slug
        z, x, y = tile_of(108.53, 11.78, max(layer.min_zoom, 10))
        tile = client.get(f"/tiles/{layer.slug}/{z}/{x}/{y}.mvt")
        assert tile.status_code in (200, 204), (layer.slug, tile.content[:200])
