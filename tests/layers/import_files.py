"""Builders of real import files for the import/export tests (shapefiles in VN-2000 without .prj, legacy DBF
encodings, cadastral parcels) — written with GDAL (pyogrio) and our own DBF writer, never mocked."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from layers.importers import dbf, encodings
from tests.conftest import shared_file


def communes() -> gpd.GeoDataFrame:
    """The real Đơn Dương communes (WGS84)."""
    return gpd.read_file(shared_file("don_duong_communes.geojson"))


def zip_dir(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, p.name)
    return out


def write_shapefile(
    gdf: gpd.GeoDataFrame,
    folder: Path,
    name: str = "data",
    *,
    srid: int | None = None,
    prj: bool = True,
    encoding: str = encodings.UTF8,
    cpg: bool = True,
) -> Path:
    """A shapefile (folder) in `srid`, optionally without .prj, with its DBF text in `encoding`."""
    folder.mkdir(parents=True, exist_ok=True)
    data = gdf.to_crs(srid) if srid else gdf
    pyogrio.write_dataframe(data, folder / f"{name}.shp", encoding="UTF-8")
    if encoding != encodings.UTF8:
        path = folder / f"{name}.dbf"
        fields, *_ = dbf.read_header(path)
        recs = list(dbf.iter_records(path))
        for rec in recs:
            for i, f in enumerate(fields):
                if f.type == "C" and rec[i]:
                    rec[i] = encodings.encode(rec[i].decode("utf-8"), encoding)
        dbf.write_dbf(path, fields, recs)
    if not prj:
        (folder / f"{name}.prj").unlink()
    cpg_path = folder / f"{name}.cpg"
    if not cpg or encoding != encodings.UTF8:
        cpg_path.unlink(missing_ok=True)
    return folder


def shapefile_zip(gdf: gpd.GeoDataFrame, tmp: Path, name: str = "data", **kw: object) -> Path:
    folder = write_shapefile(gdf, tmp / f"{name}_shp", name, **kw)  # type: ignore[arg-type]
    return zip_dir(folder, tmp / f"{name}.zip")


def parcels(n: int = 12, *, sheet: int = 7, offset: int = 0) -> gpd.GeoDataFrame:
    """Cadastral-looking parcels (20 m squares) inside Thạnh Mỹ, with Vietnamese DBF field names."""
    cm = communes()
    centre = cm[cm["gso_commune_code"] == "24931"].to_crs(5899).geometry.iloc[0].representative_point()
    rows = []
    for i in range(n):
        x, y = centre.x + (i % 4) * 25, centre.y + (i // 4) * 25
        rows.append(
            {
                "SHBANDO": sheet,
                "SOTHUA": offset + i + 1,
                "DIENTICH": 400.0 + i,
                "MDSD": ["LUC", "ONT", "CLN"][i % 3],
                "CHUSD": ["Nguyễn Văn Đức", "Trần Thị Hường", "Lê Quốc Việt"][i % 3],
                "geometry": shapely.box(x, y, x + 20, y + 20),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=5899)


PARCEL_MAPPING = {"sheet_number": "SHBANDO", "parcel_number": "SOTHUA", "area_m2": "DIENTICH", "land_use": "MDSD"}
