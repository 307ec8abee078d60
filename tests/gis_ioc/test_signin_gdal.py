"""A real client signs in: GDAL (what QGIS is built on) reads staff-only data from a live server with HTTP
Basic (user name + API token, GDAL_HTTP_AUTH=BASIC) or with the Token header (GDAL_HTTP_HEADERS)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import rasterio

from gis_ioc.models import ApiToken
from layers.models import Layer
from tests.factories import HouseholdBusinessFactory
from tests.tiles.conftest import demo_cogs, demo_rasters, tile_dirs  # noqa: F401 (fixtures)
from tiles import mapproxy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(live_server, district, gis_staff):
    """One staff-only business on a live server, and a GIS staff member's token."""
    HouseholdBusinessFactory(name="Tạp hóa Bí Mật", in_commune="24931")
    return live_server.url, ApiToken.issue(gis_staff, "GDAL").key


def gdal(tmp_path: Path, *args: str, **config: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GDAL_HTTP_TIMEOUT": "60",
        "GDAL_ENABLE_WMS_CACHE": "NO",
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        **config,
    }
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False)


def test_ogrinfo_reads_a_staff_collection_with_basic_user_and_token(served, tmp_path):
    url, key = served
    basic = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"gis_staff:{key}"}
    result = gdal(tmp_path, "ogrinfo", "-ro", "-so", f"OAPIF:{url}/ogc", "household-businesses", **basic)
    assert result.returncode == 0, result.stderr
    assert "Feature Count: 1" in result.stdout
    listed = gdal(tmp_path, "ogrinfo", "-ro", "-so", f"OAPIF:{url}/ogc", **basic)
    assert ": household-businesses (" in listed.stdout  # the collection list is the user's too
    wrong = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": "gis_staff:ioc_wrong"}
    refused = gdal(tmp_path, "ogrinfo", "-ro", "-so", f"OAPIF:{url}/ogc", "household-businesses", **wrong)
    assert refused.returncode != 0 and "401" in refused.stderr


def test_ogr2ogr_downloads_a_staff_collection_with_the_token_header(served, tmp_path):
    url, key = served
    out = tmp_path / "shops.geojson"
    result = gdal(
        tmp_path,
        "ogr2ogr",
        "-f",
        "GeoJSON",
        str(out),
        f"OAPIF:{url}/ogc",
        "household-businesses",
        GDAL_HTTP_HEADERS=f"Authorization: Token {key}",
    )
    assert result.returncode == 0, result.stderr
    names = [f["properties"]["name"] for f in json.loads(out.read_text())["features"]]
    assert names == ["Tạp hóa Bí Mật"]


def test_gdal_reads_a_staff_raster_through_mapproxy_wms_with_basic(live_server, demo_rasters, gis_staff, tmp_path):  # noqa: F811
    """The QGIS WMS path: Django checks the Basic credentials, MapProxy renders the staff-only slope."""
    Layer.objects.filter(slug="slope").update(visibility="staff")
    mapproxy.write_config(upstream=live_server.url)
    key = ApiToken.issue(gis_staff, "QGIS").key
    source = (
        f"WMS:{live_server.url}/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=slope"
        "&CRS=EPSG:4326&BBOX=11.63,108.38,11.94,108.69&FORMAT=image/png&TRANSPARENT=TRUE"
    )
    out = tmp_path / "slope.tif"
    basic = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"gis_staff:{key}"}
    result = gdal(tmp_path, "gdal_translate", "-q", "-of", "GTiff", "-outsize", "200", "200", source, str(out), **basic)
    assert result.returncode == 0, result.stderr
    with rasterio.open(out) as src:
        alpha = src.read(4)
    assert (alpha > 0).mean() > 0.3  # the district is drawn
    anonymous = gdal(tmp_path, "gdal_translate", "-q", "-of", "GTiff", source, str(tmp_path / "anon.tif"))
    assert anonymous.returncode != 0  # LayerNotDefined for a visitor


def test_a_notebook_reads_a_staff_collection_and_an_export_as_docs_clients_shows(served):
    """The notebook recipe of docs/clients.md: requests with the Token header, then geopandas."""
    import io

    import geopandas as gpd
    import requests

    url, key = served
    api = requests.Session()
    api.headers["Authorization"] = f"Token {key}"
    page = api.get(f"{url}/ogc/collections/household-businesses/items", headers={"Accept": "application/geo+json"})
    page.raise_for_status()
    shops = gpd.GeoDataFrame.from_features(page.json()["features"], crs="EPSG:4326")
    assert shops["name"].tolist() == ["Tạp hóa Bí Mật"]
    export = api.get(f"{url}/api/v1/layers/household-businesses/export", params={"format": "gpkg", "srid": 5899})
    export.raise_for_status()
    assert gpd.read_file(io.BytesIO(export.content)).crs.to_epsg() == 5899
    assert requests.get(f"{url}/ogc/collections/household-businesses/items").status_code == 404
