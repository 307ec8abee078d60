"""Cadastral shapefiles as districts receive them: VN-2000 without .prj, legacy DBF encodings, mapped onto
land parcels, re-imported with a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from layers.importers.base import ImportOptions
from layers.importers.pipeline import ImportRejected, run_import
from layers.models import LandParcel, Layer
from tests.layers import import_files as files


def _import(path: Path, **options: object) -> dict:
    return run_import(path, path.name, ImportOptions(**options))  # type: ignore[arg-type]


@pytest.mark.django_db
def test_every_commune_comes_back_within_one_metre(district, tmp_path: Path) -> None:
    source = files.communes()
    archive = files.shapefile_zip(source, tmp_path, "xa", srid=5899, prj=False)
    report = _import(archive, target="new:xa-all")
    # No .prj: the coordinates alone say VN-2000 / TM-3 107-45 (Lâm Đồng), proposed as the first candidate.
    assert (report["srid"], report["crs_source"], report["inserted"]) == (5899, "guessed", 10)
    table = Layer.objects.get(slug="xa-all").source_table
    with connection.cursor() as cur:
        for code, geom in zip(source["gso_commune_code"], source.geometry, strict=True):
            cur.execute(
                f"SELECT ST_HausdorffDistance(ST_Transform(geom, 5899), "
                f"ST_Transform(ST_SetSRID(ST_GeomFromText(%s), 4326), 5899)) FROM {table} WHERE gso_commun = %s",
                [geom.wkt, code],
            )
            assert cur.fetchone()[0] < 1.0, code


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "cp1258"])
def test_legacy_dbf_without_cpg_is_detected_and_decoded(district, tmp_path: Path, encoding: str) -> None:
    archive = files.shapefile_zip(files.communes(), tmp_path, "xa", encoding=encoding, cpg=False)
    report = _import(archive, target=f"new:xa-{encoding}")
    assert report["encoding"] == encoding
    table = Layer.objects.get(slug=f"xa-{encoding}").source_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT full_name, district_f FROM {table} ORDER BY full_name")
        names = cur.fetchall()
    assert ("Thị trấn Thạnh Mỹ", "Huyện Đơn Dương") in names
    assert ("Xã Quảng Lập", "Huyện Đơn Dương") in names


@pytest.mark.django_db
def test_a_cpg_file_is_obeyed(district, tmp_path: Path) -> None:
    folder = files.write_shapefile(files.communes(), tmp_path / "shp", "xa", encoding="vni", cpg=False)
    (folder / "xa.cpg").write_text("VNI")
    archive = files.zip_dir(folder, tmp_path / "xa.zip")
    report = _import(archive, target="new:xa-cpg")
    assert report["encoding"] == "vni"


@pytest.mark.django_db
def test_cadastral_shapefile_lands_on_parcels_and_reimport_with_key_upserts(district, tmp_path: Path) -> None:
    archive = files.shapefile_zip(files.parcels(12), tmp_path, "thua", prj=False)
    report = _import(archive, target="land-parcels", mapping=files.PARCEL_MAPPING)
    assert report["inserted"] == 12
    parcel = LandParcel.objects.get(sheet_number=7, parcel_number=2)
    assert (parcel.commune_code, parcel.land_use, parcel.area_m2) == ("24931", "ONT", 401.0)
    assert abs(parcel.geom.transform(5899, clone=True).area - 400) < 0.5

    changed = files.parcels(12)
    changed["MDSD"] = "BHK"
    archive2 = files.shapefile_zip(changed, tmp_path / "again", "thua", prj=False)
    report = _import(
        archive2, target="land-parcels", mapping=files.PARCEL_MAPPING, key=["sheet_number", "parcel_number"]
    )
    assert (report["inserted"], report["updated"]) == (0, 12)
    assert LandParcel.objects.count() == 12
    assert set(LandParcel.objects.values_list("land_use", flat=True)) == {"BHK"}


@pytest.mark.django_db
def test_reimport_without_key_is_refused_and_changes_nothing(district, tmp_path: Path) -> None:
    archive = files.shapefile_zip(files.parcels(4), tmp_path, "thua", prj=False)
    _import(archive, target="land-parcels", mapping=files.PARCEL_MAPPING)
    version = Layer.objects.get(slug="land-parcels").version
    with pytest.raises(ImportRejected) as exc:
        _import(archive, target="land-parcels", mapping=files.PARCEL_MAPPING)
    assert exc.value.report["issues"][0]["reason"].startswith("đã có trong cơ sở dữ liệu")
    assert LandParcel.objects.count() == 4
    assert Layer.objects.get(slug="land-parcels").version == version


@pytest.mark.django_db
def test_a_bad_row_rejects_the_whole_file_naming_row_field_and_reason(district, tmp_path: Path) -> None:
    gdf = files.parcels(6)
    gdf.loc[3, "MDSD"] = "XYZ"
    gdf.loc[4, "DIENTICH"] = -5.0
    archive = files.shapefile_zip(gdf, tmp_path, "thua", prj=False)
    before = Layer.objects.count()
    with pytest.raises(ImportRejected) as exc:
        _import(archive, target="land-parcels", mapping=files.PARCEL_MAPPING)
    issues = {(i["row"], i["field"]): i["reason"] for i in exc.value.report["issues"]}
    assert issues[(4, "land_use")] == "giá trị không có trong danh mục"
    assert issues[(5, "area_m2")].startswith("nhỏ hơn")
    assert LandParcel.objects.count() == 0 and Layer.objects.count() == before


@pytest.mark.django_db
def test_skip_bad_rows_writes_the_good_ones_and_returns_the_rejects(district, tmp_path: Path, settings) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    gdf = files.parcels(6)
    gdf.loc[3, "MDSD"] = "XYZ"
    archive = files.shapefile_zip(gdf, tmp_path, "thua", prj=False)
    report = _import(archive, target="land-parcels", mapping=files.PARCEL_MAPPING, skip_bad_rows=True)
    assert (report["inserted"], report["rejected"]) == (5, 1)
    rejects = (Path(settings.MEDIA_ROOT) / report["rejects_file"]).read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0].startswith("row,field,reason,SHBANDO")
    assert rejects[1].startswith("4,land_use,giá trị không có trong danh mục,7,4,")
    assert LandParcel.objects.count() == 5


@pytest.mark.django_db
def test_a_parcel_number_repeated_within_the_file_is_rejected(district, tmp_path: Path) -> None:
    gdf = files.parcels(4)
    gdf.loc[3, "SOTHUA"] = 1  # same sheet 7 / parcel 1 as row 1, same commune
    archive = files.shapefile_zip(gdf, tmp_path, "thua", prj=False)
    with pytest.raises(ImportRejected) as exc:
        _import(archive, target="land-parcels", mapping=files.PARCEL_MAPPING)
    dup = [(i["row"], i["reason"]) for i in exc.value.report["issues"]]
    assert dup == [(1, "trùng khoá trong tệp"), (4, "trùng khoá trong tệp")]
    assert LandParcel.objects.count() == 0
