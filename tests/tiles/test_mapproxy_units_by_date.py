"""MapProxy serves vector layers drawn on the server, and the administrative units as they were in each unit
set, side by side, to real WMS/WMTS clients (GDAL's drivers) — issue 15, item 5.

Demo: Pró (24955) and the old Quảng Lập (24946) merged on 2025-01-01 into a new Quảng Lập (24955)."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
import rasterio
from django.db import connection
from lxml import etree
from PIL import Image

from layers.models import Layer
from tests.tiles.conftest import tile_of
from tests.tiles.test_real_clients import gdal_env, gdal_translate
from tiles import mapproxy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OLD, NEW = "communes:2009-01-01", "communes:2025-01-01"
SIZE = 400


@pytest.fixture
def live_units(live_server, district, tile_dirs):
    mapproxy.write_config(upstream=live_server.url)
    return live_server.url


def _merger_line() -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    """A bounding box around the two communes that merged, and a point on the border they no longer have."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH a AS (SELECT geom FROM gis_ioc_adminunit WHERE code = '24946' AND level = 'commune'),
                 b AS (SELECT geom FROM gis_ioc_adminunit WHERE code = '24955' AND level = 'commune'
                       AND valid_to = '2025-01-01'),
                 line AS (SELECT ST_LineMerge(ST_CollectionExtract(ST_Intersection(
                            ST_Boundary(a.geom), ST_Boundary(b.geom)), 2)) AS l FROM a, b),
                 box AS (SELECT ST_Extent(geom) AS e FROM (SELECT geom FROM a UNION ALL SELECT geom FROM b) g)
            SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e),
                   ST_X(ST_LineInterpolatePoint(ST_GeometryN(l, 1), 0.5)),
                   ST_Y(ST_LineInterpolatePoint(ST_GeometryN(l, 1), 0.5))
            FROM line, box
            """
        )
        x0, y0, x1, y1, px, py = cursor.fetchone()
    return (x0, y0, x1, y1), (px, py)


def _line_strength(path, bbox, point) -> int:
    """The strongest opacity drawn within 3 pixels of a point (a border line is opaque, a fill is faint)."""
    with rasterio.open(path) as src:
        alpha = src.read(4) if src.count == 4 else src.read(1)
    x0, y0, x1, y1 = bbox
    col = round((point[0] - x0) / (x1 - x0) * SIZE)
    row = round((y1 - point[1]) / (y1 - y0) * SIZE)
    return int(alpha[max(0, row - 3) : row + 4, max(0, col - 3) : col + 4].max())


def test_qgis_style_clients_draw_the_units_of_each_set_side_by_side(live_units, tmp_path):
    bbox, point = _merger_line()
    strengths = {}
    for name in (OLD, NEW):
        url = (
            f"WMS:{live_units}/mapproxy/service?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS={name}"
            f"&SRS=EPSG:4326&BBOX={','.join(map(str, bbox))}&FORMAT=image/png&TRANSPARENT=TRUE"
        )
        out = tmp_path / f"{name}.tif"
        gdal_translate(url, out, "-outsize", str(SIZE), str(SIZE))
        strengths[name] = _line_strength(out, bbox, point)
    # The border between Pró and the old Quảng Lập is drawn for 2009–2024, gone since the merger.
    assert strengths[OLD] > 150, strengths
    assert strengths[NEW] < 60, strengths


def test_the_capabilities_name_each_unit_set_in_vietnamese(live_units, client):
    body = client.get("/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities").content
    layers = {
        el.findtext("{http://www.opengis.net/wms}Name"): el.findtext("{http://www.opengis.net/wms}Title")
        for el in etree.fromstring(body).iter("{http://www.opengis.net/wms}Layer")
    }
    assert OLD in layers and NEW in layers
    assert "Ranh giới xã" in layers[OLD] and "2009" in layers[OLD] and "2025" in layers[NEW]
    wmts = client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content.decode()
    assert f"<ows:Identifier>{NEW}</ows:Identifier>" in wmts


def test_gdal_wmts_reads_a_unit_set_layer(live_units, tmp_path):
    url = f"WMTS:{live_units}/mapproxy/wmts/1.0.0/WMTSCapabilities.xml,layer={OLD},tilematrixset=webmercator"
    out = tmp_path / "wmts.tif"
    gdal_translate(url, out, "-projwin", "108.40", "11.92", "108.66", "11.65", "-projwin_srs", "EPSG:4326",
                   "-outsize", "300", "300")  # fmt: skip
    with rasterio.open(out) as src:
        assert (src.read(4) > 0).mean() > 0.3  # the communes drawn (a faint fill, opaque borders)


def test_a_private_vector_layer_is_never_in_mapproxy(live_units, tmp_path, client, gis_staff):
    Layer.objects.filter(slug="communes").update(visibility="staff")
    mapproxy.write_config(upstream=live_units)
    url = f"WMTS:{live_units}/mapproxy/wmts/1.0.0/WMTSCapabilities.xml,layer={NEW},tilematrixset=webmercator"
    result = subprocess.run(
        ["gdalinfo", url], capture_output=True, text=True, timeout=60, env=gdal_env(tmp_path), cwd=tmp_path
    )
    assert result.returncode != 0
    # Not for staff either: MapProxy's cache is shared, so per-user vector policy stays on the vector channels.
    client.force_login(gis_staff)
    caps = client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content.decode()
    assert NEW not in caps and "<ows:Identifier>communes</ows:Identifier>" not in caps
    z, x, y = tile_of(108.53, 11.78, 11)
    assert client.get(f"/tiles/communes/{z}/{x}/{y}.png").status_code == 200  # the user's own channel


def test_the_png_of_a_vector_tile_follows_its_date_and_refuses_bad_ones(live_units, client):
    z, x, y = tile_of(108.53, 11.78, 11)
    then = client.get(f"/tiles/communes/{z}/{x}/{y}.png", {"datetime": "2024-06-01"})
    now = client.get(f"/tiles/communes/{z}/{x}/{y}.png")
    assert then.status_code == now.status_code == 200 and then["Content-Type"] == "image/png"
    drawn = [np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))[:, :, 3] for r in (then, now)]
    assert (drawn[0] > 150).sum() > (drawn[1] > 150).sum()  # one more border in 2024
    bad = client.get(f"/tiles/communes/{z}/{x}/{y}.png", {"datetime": "2024-13-01"})
    assert bad.status_code == 400 and "datetime" in bad.json()["detail"]
    assert client.get(f"/tiles/no-such-layer/{z}/{x}/{y}.png").status_code == 404
    assert client.get(f"/tiles/land-parcels/{z}/{x}/{y}.png").status_code == 404  # private: as if absent
    assert client.get(f"/tiles/communes/{z}/{x}/abc.png").status_code in (400, 404)


def test_the_configuration_follows_new_unit_sets_and_layers_made_private(live_units):
    import datetime as dt

    from gis_ioc.models import UnitSet, UnitSetKind

    config = mapproxy.write_config(upstream=live_units)
    UnitSet.objects.filter(slug="commune-2025-01-01").update(valid_to=dt.date(2026, 7, 1))  # a reform closes it
    UnitSet.objects.create(
        slug="commune-2026-07-01", name="Cấp xã 07/2026 –", kind=UnitSetKind.ADMINISTRATIVE, level="commune",
        valid_from=dt.date(2026, 7, 1),
    )  # fmt: skip
    assert "communes:2026-07-01" in mapproxy.layer_names(config["internal"])  # no command run by hand
    assert "schools" in mapproxy.layer_names(config["public"])
    schools = Layer.objects.get(slug="schools")
    schools.visibility = "staff"
    schools.save()
    assert "schools" not in mapproxy.layer_names(config["public"])
    assert "schools" not in mapproxy.layer_names(config["internal"])
