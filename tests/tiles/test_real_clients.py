"""Real clients against a live server: GDAL's WMS and WMTS drivers read /mapproxy/; MVT over HTTP."""

from __future__ import annotations

import io
import os
import subprocess

import numpy as np
import pytest
import rasterio
import requests
from PIL import Image

from layers.models import Layer
from tests.tiles.conftest import tile_of
from tiles import mapproxy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_mapproxy(live_server, demo_rasters):
    Layer.objects.filter(slug="slope").update(visibility="staff")
    mapproxy.write_config(upstream=live_server.url)
    return live_server.url


def gdal_env(tmp_path) -> dict[str, str]:
    """No GDAL WMS/WMTS tile cache: every run must read from the live server (and litter no cwd)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GDAL_HTTP_TIMEOUT": "60",
        "GDAL_ENABLE_WMS_CACHE": "NO",
        "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path / "gdalwmscache"),
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    }


def gdal_translate(source: str, out, *extra: str) -> None:
    result = subprocess.run(
        ["gdal_translate", "-q", "-of", "GTiff", *extra, source, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=gdal_env(out.parent),
        cwd=out.parent,  # GDAL 3.6 may still create ./gdalwmscache: keep it in the test's folder
    )
    assert result.returncode == 0, result.stderr


def painted_share(path) -> tuple[tuple[int, int], float]:
    with rasterio.open(path) as src:
        data = src.read()
        size = (src.width, src.height)
    alpha = data[3] if data.shape[0] == 4 else (data[:3].sum(axis=0) > 0).astype("uint8") * 255
    return size, float((alpha > 0).mean())


def test_gdal_wms_driver_reads_a_map_of_the_requested_size(live_mapproxy, tmp_path):
    url = (
        f"WMS:{live_mapproxy}/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=elevation"
        "&CRS=EPSG:4326&BBOX=11.63,108.38,11.94,108.69&FORMAT=image/png&TRANSPARENT=TRUE"
    )
    out = tmp_path / "wms.tif"
    gdal_translate(url, out, "-outsize", "400", "400")
    size, painted = painted_share(out)
    assert size == (400, 400)
    assert painted > 0.3  # the district is drawn, not an empty or error image


def test_gdal_wms_driver_reads_the_vn2000_grid(live_mapproxy, tmp_path):
    url = (
        f"WMS:{live_mapproxy}/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=population-density"
        "&CRS=EPSG:5899&BBOX=570000,1287000,604000,1324000&FORMAT=image/png&TRANSPARENT=TRUE"
    )
    out = tmp_path / "wms5899.tif"
    gdal_translate(url, out, "-outsize", "340", "370")
    size, painted = painted_share(out)
    assert size == (340, 370) and painted > 0.3
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 5899


def test_gdal_wmts_driver_reads_tiles_from_the_capabilities(live_mapproxy, tmp_path):
    url = f"WMTS:{live_mapproxy}/mapproxy/wmts/1.0.0/WMTSCapabilities.xml,layer=elevation,tilematrixset=webmercator"
    out = tmp_path / "wmts.tif"
    gdal_translate(url, out, "-projwin", "108.40", "11.92", "108.66", "11.65", "-projwin_srs", "EPSG:4326",
                   "-outsize", "300", "300")  # fmt: skip
    size, painted = painted_share(out)
    assert size == (300, 300) and painted > 0.3


def test_gdal_cannot_read_a_private_layer_anonymously(live_mapproxy, tmp_path):
    url = f"WMTS:{live_mapproxy}/mapproxy/wmts/1.0.0/WMTSCapabilities.xml,layer=slope,tilematrixset=webmercator"
    result = subprocess.run(
        ["gdalinfo", url], capture_output=True, text=True, timeout=60, env=gdal_env(tmp_path), cwd=tmp_path
    )
    assert result.returncode != 0


def test_wmts_rest_tiles_come_from_the_disk_cache_the_second_time(live_mapproxy, tile_dirs):
    z, x, y = tile_of(108.53, 11.78, 11)
    tile_url = f"{live_mapproxy}/mapproxy/wmts/elevation/webmercator/{z}/{x}/{y}.png"
    first = requests.get(tile_url, timeout=30)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(first.content)).convert("RGBA"))
    assert (image[:, :, 3] > 0).mean() > 0.5  # the elevation, not an empty tile
    cached = list((tile_dirs / "mapproxy_cache").glob("elevation_cache_*/**/*.png"))
    assert cached, "MapProxy wrote no tile to its disk cache"
    assert requests.get(tile_url, timeout=30).content == first.content


def test_mvt_over_http_decodes_to_the_expected_features(live_server, district, tile_dirs):
    import mapbox_vector_tile

    from tests.factories import SchoolFactory

    school = SchoolFactory(name="Trường THCS Ka Đô", in_commune="24943", pupils=512)
    z, x, y = tile_of(school.geom.x, school.geom.y, 15)
    response = requests.get(f"{live_server.url}/tiles/schools/{z}/{x}/{y}.mvt", timeout=30)
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.content)["schools"]["features"]
    assert [(f["properties"]["name"], f["properties"]["pupils"]) for f in features] == [("Trường THCS Ka Đô", 512)]
    assert np.isfinite(features[0]["geometry"]["coordinates"]).all()


def test_tms_follows_the_global_mercator_profile(live_mapproxy):
    z, x, y = tile_of(108.53, 11.78, 11)
    # TMS 1.0.0 global-mercator: level z - 1, rows counted from the south.
    tms = requests.get(f"{live_mapproxy}/mapproxy/tms/1.0.0/elevation/webmercator/{z - 1}/{x}/{(1 << z) - 1 - y}.png")
    wmts = requests.get(f"{live_mapproxy}/mapproxy/wmts/elevation/webmercator/{z}/{x}/{y}.png")
    assert tms.status_code == 200 and tms.content == wmts.content
    assert (np.asarray(Image.open(io.BytesIO(tms.content)).convert("RGBA"))[:, :, 3] > 0).mean() > 0.5
