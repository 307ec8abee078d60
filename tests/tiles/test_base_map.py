"""The offline base map: its style (/tiles/basemap/style.json), the hillshade it draws, and its glyphs."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from tests.tiles.conftest import tile_of

pytestmark = pytest.mark.django_db

GLYPHS = Path(settings.BASE_DIR) / "static" / "vendor" / "glyphs"


def base_style(client) -> dict:
    response = client.get("/tiles/basemap/style.json")
    assert response.status_code == 200
    return response.json()


def test_the_base_style_draws_relief_boundaries_and_commune_names_from_this_server(client, demo_rasters):
    doc = base_style(client)
    ids = [layer["id"] for layer in doc["layers"]]
    assert ids == ["base-background", "base-hillshade", "base-boundaries", "base-labels"]
    names = {f["properties"]["name"] for f in doc["sources"]["base-labels"]["data"]["features"]}
    assert "Thị trấn Thạnh Mỹ" in names and "Xã Đạ Ròn" in names  # Vietnamese names, NFC, with their marks
    urls = [doc["glyphs"], *(url for source in doc["sources"].values() for url in source.get("tiles", []))]
    assert {urlsplit(url).netloc for url in urls} == {"testserver"}  # nothing from the Internet


def test_the_online_basemap_is_off_unless_configured_and_then_comes_through_mapproxy(
    client, demo_rasters, monkeypatch
):
    assert "basemap" not in base_style(client)["sources"]
    monkeypatch.setenv("IOC_MAPPROXY_BASEMAP_URL", "https://tile.example/%(z)s/%(x)s/%(y)s.png")
    source = base_style(client)["sources"]["basemap"]
    assert source["tiles"] == ["http://testserver/mapproxy/tms/1.0.0/basemap/webmercator/{z}/{x}/{y}.png"]


def test_a_visitor_gets_no_relief_from_a_raster_made_staff_only(client, demo_rasters):
    demo_rasters["hillshade"].visibility = "staff"
    demo_rasters["hillshade"].save()
    doc = base_style(client)
    assert "base-hillshade" not in doc["sources"]
    assert "base-labels" in doc["sources"]


def test_the_hillshade_tile_shades_the_slopes_and_leaves_flat_ground_clear(client, demo_rasters):
    z, x, y = tile_of(108.53, 11.78, 12)
    response = client.get(f"/tiles/raster/hillshade/{z}/{x}/{y}.png")
    assert response.status_code == 200
    pixels = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA")).astype(int)
    alpha, grey = pixels[:, :, 3], pixels[:, :, 0]
    assert alpha.std() > 5  # shading that varies across the tile, not a flat wash
    assert (grey[alpha > 20] == 0).any() and (grey[alpha > 20] == 255).any()  # shadows and lit slopes


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one protobuf message (varints and length-delimited only)."""
    out, pos = [], 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        if key & 7 == 2:
            size, pos = read_varint(data, pos)
            out.append((key >> 3, data[pos : pos + size]))
            pos += size
        else:
            value, pos = read_varint(data, pos)
            out.append((key >> 3, value))
    return out


def glyph_ids(path: Path) -> set[int]:
    (stack,) = [v for n, v in fields(path.read_bytes()) if n == 1]
    return {dict(fields(glyph))[1] for n, glyph in fields(stack) if n == 3}


def test_the_glyphs_cover_every_letter_of_the_commune_names(district):
    from gis_ioc.models import AdminUnit

    if not GLYPHS.exists():
        pytest.skip("static/vendor/glyphs is built by `make assets` (scripts/build-glyphs)")
    wanted = {ord(c) for name in AdminUnit.objects.values_list("name", flat=True) for c in name}
    assert any(c > 0x1E00 for c in wanted)  # ạ ả ấ … are in the names
    font = GLYPHS / "DejaVu Sans Bold"
    have: set[int] = set()
    for block in {c // 256 for c in wanted}:
        have |= glyph_ids(font / f"{block * 256}-{block * 256 + 255}.pbf")
    assert wanted <= have


def test_roads_join_the_base_when_the_district_has_them_and_a_visitor_may_see_them(client, demo_rasters):
    from analysis import demo as demo_roads
    from layers.models import Layer

    assert "base-roads" not in [layer["id"] for layer in base_style(client)["layers"]]  # none yet
    demo_roads.load(io.StringIO())  # the demo road network, registered as the catalog layer `roads`
    roads = Layer.objects.filter(slug="roads")
    roads.update(visibility="public")
    doc = base_style(client)
    ids = [layer["id"] for layer in doc["layers"]]
    assert ids == ["base-background", "base-hillshade", "base-roads", "base-boundaries", "base-labels"]
    assert doc["sources"]["base-roads"]["tiles"][0].endswith("/tiles/roads/{z}/{x}/{y}.mvt")
    roads.update(visibility="staff")
    assert "base-roads" not in [layer["id"] for layer in base_style(client)["layers"]]
