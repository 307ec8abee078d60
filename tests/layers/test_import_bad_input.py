"""Bad input, as it really arrives: every case is refused (or repaired) with a message a person can act on,
and afterwards the database and the catalog are exactly as before."""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.db import connection

from layers.importers.base import ImportOptions
from layers.importers.pipeline import ImportRejected, run_import
from layers.importers.safety import ImportRefused
from layers.models import LandParcel, Layer, LayerChange
from tests.layers import import_files as files


def _state() -> tuple:
    """Everything an import could change: catalog rows and versions, tables, parcels, audit rows."""
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        tables = [r[0] for r in cur.fetchall()]
    return (
        sorted(Layer.objects.values_list("slug", "version", "kind", "source_table")),
        tables,
        LandParcel.objects.count(),
        LayerChange.objects.count(),
    )


@pytest.fixture
def unchanged(district):
    before = _state()
    yield
    assert _state() == before


def _import(path: Path, **options: object) -> dict:
    return run_import(path, path.name, ImportOptions(**options))  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_zip_entry_climbing_out_with_dotdot_is_refused(unchanged, tmp_path: Path) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data.shp", b"x" * 100)
        zf.writestr("../../evil.txt", b"owned")
    with pytest.raises(ImportRefused, match="zip slip"):
        _import(archive, target="new:slip")
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.django_db
def test_a_zip_bomb_by_compression_ratio_is_refused(unchanged, tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.dbf", b"\0" * (40 * 1024 * 1024))  # 40 MB of zeros in ~40 KB
    with pytest.raises(ImportRefused, match="zip bomb"):
        _import(archive, target="new:bomb")


@pytest.mark.django_db
def test_a_zip_bomb_by_total_size_is_refused(unchanged, tmp_path: Path, settings) -> None:
    settings.IOC_IMPORT_ZIP_MAX_BYTES = 1024 * 1024
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.dbf", os.urandom(2 * 1024 * 1024))  # incompressible: ratio ~1, size over the cap
    with pytest.raises(ImportRefused, match="zip bomb"):
        _import(archive, target="new:big")


@pytest.mark.django_db
def test_a_zip_with_too_many_entries_is_refused(unchanged, tmp_path: Path, settings) -> None:
    settings.IOC_IMPORT_ZIP_MAX_ENTRIES = 50
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(51):
            zf.writestr(f"f{i}.txt", b"x")
    with pytest.raises(ImportRefused, match="vượt giới hạn 50"):
        _import(archive, target="new:many")


@pytest.mark.django_db
def test_an_empty_file_is_refused(unchanged, tmp_path: Path) -> None:
    empty = tmp_path / "thua.geojson"
    empty.write_bytes(b"")
    with pytest.raises(ImportRefused, match="rỗng"):
        _import(empty, target="new:empty")


@pytest.mark.django_db
def test_a_truncated_geopackage_is_refused(unchanged, tmp_path: Path) -> None:
    gpkg = tmp_path / "xa.gpkg"
    files.communes().to_file(gpkg, driver="GPKG")
    data = gpkg.read_bytes()
    gpkg.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportRefused, match="cắt cụt"):
        _import(gpkg, target="new:cut")


@pytest.mark.django_db
@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_a_shapefile_without_shx_or_dbf_is_refused(unchanged, tmp_path: Path, missing: str) -> None:
    folder = files.write_shapefile(files.communes(), tmp_path / "shp", "xa")
    (folder / f"xa{missing}").unlink()
    archive = files.zip_dir(folder, tmp_path / "xa.zip")
    with pytest.raises(ImportRefused, match=f"thiếu tệp {missing}"):
        _import(archive, target="new:noshx")


@pytest.mark.django_db
def test_a_lone_shp_file_is_refused_with_advice_to_zip(unchanged, tmp_path: Path) -> None:
    folder = files.write_shapefile(files.communes(), tmp_path / "shp", "xa")
    with pytest.raises(ImportRefused, match=".zip"):
        _import(folder / "xa.shp", target="new:lone")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["xa.geojson", "xa.docx"])
def test_a_wrong_extension_is_refused(unchanged, tmp_path: Path, name: str) -> None:
    gpkg = tmp_path / "real.gpkg"
    files.communes().to_file(gpkg, driver="GPKG")
    wrong = tmp_path / name
    gpkg.rename(wrong)
    with pytest.raises(ImportRefused, match="không khớp|Không nhận dạng"):
        _import(wrong, target="new:wrong")


@pytest.mark.django_db
def test_mixed_geometry_types_in_one_layer_are_rejected_naming_the_rows(unchanged, tmp_path: Path) -> None:
    gdf = files.communes().head(3)
    extra = gpd.GeoDataFrame(
        [{**gdf.iloc[0].drop("geometry").to_dict(), "geometry": shapely.Point(108.5, 11.8)}], crs=4326
    )
    mixed = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(list(gdf.to_dict("records")) + list(extra.to_dict("records")), crs=4326).to_file(mixed)
    with pytest.raises(ImportRejected) as exc:
        _import(mixed, target="new:mixed")
    issue = exc.value.report["issues"][0]
    assert (issue["row"], issue["field"]) == (4, "geometry")
    assert "kiểu hình học" in issue["reason"] and issue["value"] == "POINT"


@pytest.mark.django_db
def test_a_10_mb_geojson_missing_its_last_bracket_is_refused(unchanged, tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {"ten": "Trạm bơm", "ghi_chu": "x" * 200},
        "geometry": {"type": "Point", "coordinates": [108.5, 11.8]},
    }
    text = json.dumps({"type": "FeatureCollection", "features": [feature] * 32000}, ensure_ascii=False)
    assert len(text.encode()) > 10 * 1024 * 1024
    path = tmp_path / "tram.geojson"
    path.write_text(text[:-1], encoding="utf-8")
    with pytest.raises(ImportRefused, match="không hoàn chỉnh"):
        _import(path, target="new:cut-json")


@pytest.mark.django_db
def test_a_tcvn3_dbf_without_cpg_is_decoded_not_garbled(district, tmp_path: Path) -> None:
    archive = files.shapefile_zip(files.parcels(3), tmp_path, "thua", encoding="tcvn3", cpg=False, prj=False)
    report = _import(archive, target="new:thua-tcvn3")
    assert report["encoding"] == "tcvn3"
    with connection.cursor() as cur:
        cur.execute("SELECT chusd FROM imp_thua_tcvn3 ORDER BY sothua")
        assert [r[0] for r in cur.fetchall()] == ["Nguyễn Văn Đức", "Trần Thị Hường", "Lê Quốc Việt"]


@pytest.mark.django_db
def test_swapped_lat_lon_are_detected_and_put_right(district, tmp_path: Path) -> None:
    csv = tmp_path / "tram.csv"
    # Points inside Lạc Xuân and Thạnh Mỹ (don_duong_facts.csv), typed into the wrong columns.
    csv.write_text("ten,lon,lat\nTrạm y tế Lạc Xuân,11.7798,108.6084\nTrường Thạnh Mỹ,11.7687,108.489\n", "utf-8")
    report = _import(csv, target="new:tram")
    assert report["swapped"] is True and report["outside_district"] == []
    with connection.cursor() as cur:
        cur.execute("SELECT ten, ST_X(geom), ST_Y(geom), commune_code FROM imp_tram")
        got = {r[0]: r[1:] for r in cur.fetchall()}
    assert got["Trạm y tế Lạc Xuân"] == (pytest.approx(108.6084), pytest.approx(11.7798), "24934")
    assert got["Trường Thạnh Mỹ"] == (pytest.approx(108.489), pytest.approx(11.7687), "24931")


@pytest.mark.django_db
def test_a_csv_with_vietnamese_decimal_commas_reads_the_numbers(district, tmp_path: Path) -> None:
    csv = tmp_path / "ho_kd.csv"
    csv.write_text(
        "ten;kinh_do;vi_do;doanh_thu\nCửa hàng Hoà;108,6084;11,7798;1.234,5\nQuán Đức;108,489;11,7687;12,25\n", "utf-8"
    )
    _import(csv, target="new:ho-kd")
    with connection.cursor() as cur:
        cur.execute("SELECT ten, doanh_thu, ST_X(geom), commune_code FROM imp_ho_kd ORDER BY ten")
        assert cur.fetchall() == [
            ("Cửa hàng Hoà", 1234.5, pytest.approx(108.6084), "24934"),
            ("Quán Đức", 12.25, pytest.approx(108.489), "24931"),
        ]


@pytest.mark.django_db
def test_a_mapping_to_a_field_that_does_not_exist_is_refused(unchanged, tmp_path: Path) -> None:
    archive = files.shapefile_zip(files.parcels(3), tmp_path, "thua", prj=False)
    with pytest.raises(ImportRefused, match="so_to_ban_do không tồn tại"):
        _import(archive, target="land-parcels", mapping={**files.PARCEL_MAPPING, "so_to_ban_do": "SHBANDO"})
    with pytest.raises(ImportRefused, match="Cột SO_THUA .*không có trong tệp"):
        _import(archive, target="land-parcels", mapping={**files.PARCEL_MAPPING, "parcel_number": "SO_THUA"})


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_refused_with_413(unchanged, client, gis_staff, settings, tmp_path) -> None:
    settings.IOC_IMPORT_MAX_BYTES = 1024 * 1024
    client.force_login(gis_staff)
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = b'{"type": "FeatureCollection", "features": []' + b" " * (2 * 1024 * 1024) + b"}"
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("big.geojson", body), "target": "new:big"})
    assert response.status_code == 413
    assert "vượt giới hạn 1 MB" in response.json()["detail"]


@pytest.mark.django_db
def test_an_empty_geometry_is_rejected_naming_its_row(unchanged, tmp_path: Path) -> None:
    path = tmp_path / "rong.geojson"
    features = [
        {"type": "Feature", "properties": {"ten": "có"}, "geometry": {"type": "Point", "coordinates": [108.49, 11.77]}},
        {"type": "Feature", "properties": {"ten": "rỗng"}, "geometry": None},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        _import(path, target="new:rong")
    assert exc.value.report["issues"][0] == {"row": 2, "field": "geometry", "reason": "hình học rỗng", "value": None}


def _lying_zip(path: Path, payload: bytes, *, size: int | None = None, compressed: int | None = None) -> Path:
    """A one-entry zip whose local header and central directory claim other sizes than the data has."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.dbf", payload)
    raw = bytearray(path.read_bytes())
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    for value, local_at, central_at in ((compressed, 18, 20), (size, 22, 24)):
        if value is not None:
            struct.pack_into("<I", raw, local + local_at, value)
            struct.pack_into("<I", raw, central + central_at, value)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.django_db
def test_a_zip_that_understates_its_unpacked_size_is_refused_as_damaged(unchanged, tmp_path: Path) -> None:
    # 40 MB of zeros declared as 1 KB: the header passes every cap, the data does not match it.
    archive = _lying_zip(tmp_path / "lie.zip", b"\0" * (40 * 1024 * 1024), size=1000)
    with pytest.raises(ImportRefused, match="bị hỏng"):
        _import(archive, target="new:lie")


@pytest.mark.django_db
def test_a_zip_that_overstates_its_packed_size_is_still_a_zip_bomb(unchanged, tmp_path: Path) -> None:
    # The packed size claimed (1 MB) makes 40 MB look like a 40:1 ratio; the archive itself is ~40 KB.
    archive = _lying_zip(tmp_path / "lie.zip", b"\0" * (40 * 1024 * 1024), compressed=1024 * 1024)
    with pytest.raises(ImportRefused, match="zip bomb"):
        _import(archive, target="new:lie")
