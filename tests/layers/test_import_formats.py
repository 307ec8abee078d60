"""Every import format through the one pipeline: GeoPackage (layer choice), KML, KMZ, CSV with a WKT column
or VN-2000 X/Y columns, XLSX, GeoTIFF (COG raster layer); plus geometry repair, Z dropped, outside flags."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from django.db import connection
from pyproj import Transformer

from layers.importers.base import ImportOptions
from layers.importers.pipeline import open_source, preview, run_import
from layers.models import Layer
from tests.layers import import_files as files


def _import(path: Path, **options: object) -> dict:
    return run_import(path, path.name, ImportOptions(**options))  # type: ignore[arg-type]


def _one(sql: str, params: list | None = None) -> tuple:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()


@pytest.mark.django_db
def test_a_geopackage_layer_is_chosen_by_name(district, tmp_path: Path) -> None:
    gpkg = tmp_path / "tu_van.gpkg"
    files.communes().to_file(gpkg, layer="ranh_xa", driver="GPKG")
    files.parcels(5).to_file(gpkg, layer="thua_dat", driver="GPKG")
    summary = preview(open_source(gpkg, gpkg.name, ImportOptions(layer="thua_dat"), tmp_path / "w"))
    assert sorted(summary["layers"]) == ["ranh_xa", "thua_dat"]
    assert summary["crs"]["srid"] == 5899 and summary["count"] == 5
    report = _import(gpkg, target="land-parcels", layer="thua_dat", mapping=files.PARCEL_MAPPING)
    assert (report["inserted"], report["srid"], report["crs_source"]) == (5, 5899, "declared")


@pytest.mark.django_db
@pytest.mark.parametrize("kmz", [False, True])
def test_kml_and_kmz_import(district, tmp_path: Path, kmz: bool) -> None:
    kml = tmp_path / "xa.kml"
    files.communes().head(3).to_file(kml, driver="KML")
    path = kml
    if kmz:
        path = tmp_path / "xa.kmz"
        with zipfile.ZipFile(path, "w") as zf:
            zf.write(kml, "doc.kml")
    report = _import(path, target="new:xa-kml")
    assert report["inserted"] == 3 and report["format"] == "kml"
    assert _one("SELECT count(*) FROM imp_xa_kml WHERE full_name = 'Thị trấn Thạnh Mỹ'") == (1,)


@pytest.mark.django_db
def test_a_csv_with_a_wkt_column(district, tmp_path: Path) -> None:
    cm = files.communes().head(2)
    csv = tmp_path / "vung.csv"
    csv.write_text(
        "ma,ten,wkt\n" + "".join(f'{r.gso_commune_code},{r.full_name},"{r.geometry.wkt}"\n' for r in cm.itertuples()),
        "utf-8",
    )
    report = _import(csv, target="new:vung")
    assert report["inserted"] == 2
    assert _one("SELECT GeometryType(geom), ten FROM imp_vung WHERE ma = 24931") == (
        "MULTIPOLYGON",
        "Thị trấn Thạnh Mỹ",
    )


@pytest.mark.django_db
def test_a_csv_with_vn2000_x_y_columns_surveyor_order(district, tmp_path: Path) -> None:
    """Vietnamese surveyors write X as the northing: the columns are swapped and in EPSG:5899."""
    to_vn = Transformer.from_crs(4326, 5899, always_xy=True)
    e, n = to_vn.transform(108.489, 11.7687)  # inside Thạnh Mỹ
    csv = tmp_path / "moc.csv"
    csv.write_text(f"so_hieu,x,y\nM-01,{n:.3f},{e:.3f}\n", "utf-8")
    report = _import(csv, target="new:moc")
    assert (report["srid"], report["swapped"]) == (5899, True)
    x, y, code = _one("SELECT ST_X(geom), ST_Y(geom), commune_code FROM imp_moc")
    assert (x, y, code) == (pytest.approx(108.489, abs=1e-6), pytest.approx(11.7687, abs=1e-6), "24931")


@pytest.mark.django_db
def test_an_xlsx_sheet_with_lon_lat(district, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Tên trường", "Kinh độ", "Vĩ độ", "Số học sinh"])
    ws.append(["Trường Tiểu học Lạc Xuân", 108.6084, 11.7798, 412])
    path = tmp_path / "truong.xlsx"
    wb.save(path)
    report = _import(path, target="new:truong", x_field="Kinh độ", y_field="Vĩ độ")
    assert report["inserted"] == 1
    assert _one("SELECT ten_truong, so_hoc_sinh, commune_code FROM imp_truong") == (
        "Trường Tiểu học Lạc Xuân",
        412,
        "24934",
    )


@pytest.mark.django_db
def test_invalid_shapes_are_repaired_and_listed_z_is_dropped_and_outsiders_flagged(district, tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(108.48, 11.76), (108.50, 11.78), (108.50, 11.76), (108.48, 11.78)])
    with_z = shapely.Polygon([(108.60, 11.77, 900), (108.61, 11.77, 905), (108.61, 11.78, 910)])
    hanoi = shapely.box(105.80, 21.00, 105.81, 21.01)
    path = tmp_path / "vung.gpkg"
    gpd.GeoDataFrame({"ten": ["nơ", "có Z", "Hà Nội"], "geometry": [bowtie, with_z, hanoi]}, crs=4326).to_file(path)
    report = _import(path, target="new:vung-sua")
    assert report["repaired"] == [1] and report["outside_district"] == [3] and report["inserted"] == 3
    valid, dims, gtype = _one(
        "SELECT bool_and(ST_IsValid(geom)), max(ST_NDims(geom)), min(GeometryType(geom)) FROM imp_vung_sua"
    )
    assert (valid, dims, gtype) == (True, 2, "MULTIPOLYGON")


@pytest.mark.django_db
def test_a_geotiff_becomes_a_cog_raster_layer(district, tmp_path: Path, settings) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    tif = tmp_path / "dem.tif"
    profile = {
        "driver": "GTiff",
        "width": 300,
        "height": 300,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:5899",
        "transform": rasterio.transform.from_origin(570000, 1324000, 100, 100),
    }
    with rasterio.open(tif, "w", **profile) as dst:
        dst.write(np.linspace(800, 1600, 90000, dtype="float32").reshape(1, 300, 300))
    report = _import(tif, target="new:dem-khao-sat", title="DEM khảo sát")
    layer = Layer.objects.get(slug="dem-khao-sat")
    assert layer.kind == "raster" and layer.visibility == "staff" and report["raster_path"] == layer.raster_path
    from rio_cogeo.cogeo import cog_validate

    assert cog_validate(str(Path(settings.MEDIA_ROOT) / layer.raster_path))[0]
