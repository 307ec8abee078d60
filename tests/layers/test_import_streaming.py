"""The bulk path streams: batches are read and CSV-encoded in a worker thread while the COPY runs, rows keep
their file order across batches, and a file that breaks mid-read is refused in the caller's thread with
nothing written and no reader left behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import shapely
from django.db import connection

from layers.importers import formats
from layers.importers.base import GEOM, ImportOptions
from layers.importers.pipeline import run_import
from layers.importers.safety import ImportRefused
from layers.importers.staging import csv_chunks, wkb_hex
from layers.models import Layer
from tests.layers import import_files as files


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "import-reader"]


def _table(first: int, n: int) -> pa.Table:
    wkb = [shapely.to_wkb(shapely.Point(i, i)) for i in range(first, first + n)]
    return pa.table({"name": [f"thửa {i}" for i in range(first, first + n)], GEOM: pa.array(wkb, pa.binary())})


def test_wkb_hex_matches_python_hex_with_nulls_slices_and_chunks() -> None:
    values = [shapely.to_wkb(shapely.box(i, i, i + 1, i + 1)) for i in range(8)]
    values[2] = None
    arr = pa.array(values, pa.binary())
    for column in (arr, arr.slice(1, 5), arr.slice(3), pa.chunked_array([arr.slice(0, 2), arr.slice(2)])):
        expected = [None if v is None else v.hex() for v in column.to_pylist()]
        assert wkb_hex(column).to_pylist() == expected


def test_rows_are_numbered_in_file_order_across_batches() -> None:
    chunks = list(csv_chunks(iter([_table(0, 3), _table(3, 2)]), ["name"], ["_row", "_geom", "f0"]))
    assert [n for _chunk, n in chunks] == [3, 2]
    lines = b"".join(chunk for chunk, _n in chunks).decode().splitlines()
    assert [line.split(",")[0] for line in lines] == ["1", "2", "3", "4", "5"]
    assert lines[4].endswith('"thửa 4"')
    assert lines[4].split(",")[1].strip('"') == shapely.to_wkb(shapely.Point(4, 4)).hex()


def test_an_error_while_reading_is_raised_to_the_caller_and_the_reader_stops() -> None:
    def broken() -> Iterator[pa.Table]:
        yield _table(0, 2)
        raise ImportRefused("tệp hỏng ở bản ghi 3")

    chunks = csv_chunks(broken(), ["name"], ["_row", "_geom", "f0"])
    assert next(chunks)[1] == 2
    with pytest.raises(ImportRefused, match="bản ghi 3"):
        next(chunks)
    assert _readers() == []


def test_a_copy_that_stops_early_stops_the_reader() -> None:
    chunks = csv_chunks((_table(i * 10, 10) for i in range(100)), ["name"], ["_row", "_geom", "f0"])
    next(chunks)
    chunks.close()
    assert _readers() == []


@pytest.mark.django_db
def test_a_shapefile_breaking_mid_read_writes_nothing(district, tmp_path: Path, monkeypatch) -> None:
    archive = files.shapefile_zip(files.parcels(6), tmp_path, "thua")
    real = formats.OgrImporter.batches

    def breaks_after_first(self, batch_size: int = 50_000) -> Iterator[pa.Table]:
        for table in real(self, 3):
            yield table
            raise ImportRefused("Không đọc được thua.shp: bản ghi 4 hỏng")

    monkeypatch.setattr(formats.OgrImporter, "batches", breaks_after_first)
    with pytest.raises(ImportRefused, match="bản ghi 4"):
        run_import(archive, archive.name, ImportOptions(target="new:thua-hong"))
    assert not Layer.objects.filter(slug="thua-hong").exists()
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('imp_thua_hong')")
        assert cur.fetchone() == (None,)
    assert _readers() == []


@pytest.mark.django_db
def test_a_shapefile_read_in_batches_keeps_every_row_and_value(district, tmp_path: Path, monkeypatch) -> None:
    archive = files.shapefile_zip(files.parcels(12), tmp_path, "thua")
    real = formats.OgrImporter.batches
    monkeypatch.setattr(formats.OgrImporter, "batches", lambda self, batch_size=50_000: real(self, 5))
    report = run_import(archive, archive.name, ImportOptions(target="new:thua-lo"))
    assert report["inserted"] == 12
    with connection.cursor() as cur:
        cur.execute("SELECT sothua, chusd, commune_code FROM imp_thua_lo ORDER BY id")
        rows = cur.fetchall()
    assert [r[0] for r in rows] == list(range(1, 13))
    assert rows[4][1] == "Trần Thị Hường" and {r[2] for r in rows} == {"24931"}
