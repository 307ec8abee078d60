"""manage.py import_layer: every format through the command door, a progress bar, and errors that name
the file, row and field."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from layers.models import LandParcel, Layer
from tests.layers import import_files as files


def _write(kind: str, tmp: Path) -> Path:
    cm = files.communes().head(3)
    if kind == "geojson":
        path = tmp / "xa.geojson"
        cm.to_file(path, driver="GeoJSON")
    elif kind == "gpkg":
        path = tmp / "xa.gpkg"
        cm.to_file(path, driver="GPKG")
    elif kind == "kml":
        path = tmp / "xa.kml"
        cm.to_file(path, driver="KML")
    elif kind == "zip":
        path = files.shapefile_zip(cm, tmp, "xa")
    elif kind == "csv":
        path = tmp / "xa.csv"
        cm.assign(wkt=cm.geometry.to_wkt()).drop(columns="geometry").to_csv(path, index=False)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.append(["full_name", "wkt"])
        for r in cm.itertuples():
            wb.active.append([r.full_name, r.geometry.wkt])
        path = tmp / "xa.xlsx"
        wb.save(path)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["geojson", "gpkg", "kml", "zip", "csv", "xlsx"])
def test_every_vector_format_imports_through_the_command(district, tmp_path: Path, kind: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_layer", str(_write(kind, tmp_path)), "--target", f"new:xa-{kind}", stdout=out, stderr=err)
    assert "3 inserted" in out.getvalue() and "100%" in err.getvalue()
    layer = Layer.objects.get(slug=f"xa-{kind}")
    assert layer.source_table == f"imp_xa_{kind}" and layer.geometry_type == "MultiPolygon"


@pytest.mark.django_db
def test_the_preview_option_shows_decoded_values_without_importing(district, tmp_path: Path) -> None:
    archive = files.shapefile_zip(files.parcels(3), tmp_path, "thua", prj=False, encoding="vni", cpg=False)
    out = io.StringIO()
    call_command("import_layer", str(archive), "--preview", stdout=out)
    assert '"encoding": "vni"' in out.getvalue() and "Trần Thị Hường" in out.getvalue()
    assert '"srid": 5899' in out.getvalue() and LandParcel.objects.count() == 0


@pytest.mark.django_db
def test_command_errors_name_the_file_row_and_field(district, tmp_path: Path) -> None:
    gdf = files.parcels(3)
    gdf.loc[1, "SOTHUA"] = 0
    archive = files.shapefile_zip(gdf, tmp_path, "thua", prj=False)
    err = io.StringIO()
    with pytest.raises(CommandError, match="thua.zip: 1 dòng có lỗi"):
        call_command(
            "import_layer",
            str(archive),
            "--target",
            "land-parcels",
            "--mapping",
            ",".join(f"{k}={v}" for k, v in files.PARCEL_MAPPING.items()),
            stderr=err,
        )
    assert "thua.zip: row 2, field parcel_number: nhỏ hơn 1 (0)" in err.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_layer", str(tmp_path / "missing.zip"), "--target", "new:x")
