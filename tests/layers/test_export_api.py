"""Export doors: the API (session or token), the page and the command; permissions decide what goes out."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path

import pyogrio
import pytest
from django.core.management import call_command

from gis_ioc.models import ApiToken
from layers.importers.base import ImportOptions
from layers.importers.pipeline import run_import
from layers.models import LandParcel, Layer
from tests.conftest import shared_file
from tests.layers import import_files as files


@pytest.fixture
def parcels(district, tmp_path: Path) -> int:
    """Parcels in Thạnh Mỹ (24931), imported through the pipeline."""
    archive = files.shapefile_zip(files.parcels(6), tmp_path, "thua", prj=False)
    run_import(archive, archive.name, ImportOptions(target="land-parcels", mapping=files.PARCEL_MAPPING))
    return LandParcel.objects.count()


def _geojson(response) -> dict:
    assert response.status_code == 200, response.content
    return json.loads(b"".join(response.streaming_content))


@pytest.mark.django_db
def test_anyone_may_export_a_public_layer_and_staff_layers_stay_private(client, parcels) -> None:
    communes = _geojson(client.get("/api/v1/layers/communes/export?format=geojson"))
    assert len(communes["features"]) == 9 and "name" in communes["features"][0]["properties"]
    response = client.get("/api/v1/layers/land-parcels/export?format=gpkg")
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_token_exports_a_staff_layer_as_a_zipped_shapefile_with_cpg_and_prj(client, parcels, gis_staff) -> None:
    token = ApiToken.issue(gis_staff, "QGIS")
    response = client.get(
        "/api/v1/layers/land-parcels/export?format=shp&srid=5899", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="land-parcels-vn2000-5899.zip"'
    with zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))) as zf:
        names = set(zf.namelist())
        assert {
            "land-parcels.shp",
            "land-parcels.shx",
            "land-parcels.dbf",
            "land-parcels.cpg",
            "land-parcels.prj",
        } <= names
        assert zf.read("land-parcels.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        assert "107.75" in zf.read("land-parcels.prj").decode() or "107_45" in zf.read("land-parcels.prj").decode()


@pytest.mark.django_db
def test_filters_by_commune_bbox_and_attribute(client, parcels, gis_staff) -> None:
    client.force_login(gis_staff)
    base = "/api/v1/layers/land-parcels/export?format=geojson"
    assert len(_geojson(client.get(base + "&commune=24931"))["features"]) == parcels == 6
    assert len(_geojson(client.get(base + "&commune=24934"))["features"]) == 0
    assert len(_geojson(client.get(base + "&land_use=ONT"))["features"]) == 2
    assert len(_geojson(client.get(base + "&bbox=105,20,106,21"))["features"]) == 0
    assert client.get(base + "&khong_co=1").status_code == 400


@pytest.mark.django_db
def test_a_scoped_officer_exports_only_their_communes(client, parcels) -> None:
    from tests.conftest import make_user

    url = "/api/v1/layers/land-parcels/export?format=geojson"
    client.force_login(make_user("lac_xuan_only", "field_officer", communes=["24934"]))
    assert _geojson(client.get(url))["features"] == []
    client.force_login(make_user("thanh_my_only", "field_officer", communes=["24931"]))
    features = _geojson(client.get(url))["features"]
    assert len(features) == 6 and {f["properties"]["commune_code"] for f in features} == {"24931"}


@pytest.mark.django_db
def test_fields_hidden_from_the_export_channel_are_not_exported(client, parcels, gis_staff) -> None:
    layer = Layer.objects.get(slug="land-parcels")
    for attr in layer.attributes:
        if attr["name"] == "certificate_status":
            attr["visibility"] = "roles"
            attr["roles"] = ["administrator"]
        if attr["name"] == "area_m2":
            attr["channels"] = ["rest"]
    layer.save()
    client.force_login(gis_staff)
    response = client.get("/api/v1/layers/land-parcels/export?format=csv")
    header = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert header == "commune_code,sheet_number,parcel_number,land_use,slope_deg,wkt"


@pytest.mark.django_db
def test_vn2000_exports_are_in_metres_and_kml_refuses_them(client, district) -> None:
    data = _geojson(client.get("/api/v1/layers/communes/export?format=geojson&srid=5899"))
    assert data["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::5899"
    x, y = data["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 560_000 < x < 620_000 and 1_280_000 < y < 1_330_000
    response = client.get("/api/v1/layers/communes/export?format=kml&srid=5899")
    assert response.status_code == 400 and "WGS84" in response.json()["detail"]
    assert client.get("/api/v1/layers/communes/export?format=dwg").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["gpkg", "kml", "xlsx", "csv"])
def test_every_format_downloads_from_the_api(client, district, fmt) -> None:
    response = client.get(f"/api/v1/layers/communes/export?format={fmt}&commune=24931,24928")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    assert len(b"".join(response.streaming_content)) > 500


@pytest.mark.django_db
def test_the_command_exports_a_filtered_geopackage(district, tmp_path: Path) -> None:
    src = shared_file("don_duong_communes.geojson")
    run_import(src, src.name, ImportOptions(target="new:xa"))
    out = tmp_path / "xa.gpkg"
    call_command(
        "export_layer", "xa", "--format", "gpkg", "--output", str(out), "--srid", "5899", "--filter", "type=Thị trấn"
    )
    info = pyogrio.read_info(out)
    assert info["features"] == 2 and info["crs"] == "EPSG:5899"


@pytest.mark.django_db
def test_the_export_page_lists_what_the_user_may_export(client, district, leader) -> None:
    client.force_login(leader)
    page = client.get("/exports/").content.decode()
    assert "Ranh giới xã, thị trấn" in page and "GeoPackage" in page and "EPSG:5899" in page
