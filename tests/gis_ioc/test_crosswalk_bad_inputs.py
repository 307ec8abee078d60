"""`manage.py import_crosswalk` refuses a bad crosswalk whole: each problem named by row and field, and not
one unit, set, crosswalk row or census figure written. The demo district is the old set (its communes of
2025-01-01, nine after Pró joined Quảng Lập); the crosswalk takes effect on 2026-01-01."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import CommandError, call_command
from django.db import connection

from gis_ioc.crosswalks import read_crosswalk
from gis_ioc.models import AdminUnit, AdminUnitPopulation, Crosswalk, CrosswalkRow, UnitSet

pytestmark = pytest.mark.django_db
CODES = ["24928", "24931", "24934", "24937", "24940", "24943", "24949", "24952", "24955"]
HEADER = "old_code,new_code,new_name,effective_date,area_share,population_share,legal_basis"


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (AdminUnit, UnitSet, Crosswalk, CrosswalkRow, AdminUnitPopulation)) + (
        UnitSet.objects.filter(valid_to__isnull=True).count(),
    )


@pytest.fixture
def before(district) -> tuple[int, ...]:
    return counts()


def crosswalk(tmp_path: Path, changes: list[str], *, keep: list[str] | None = None, name: str = "cw.csv") -> Path:
    """The header, the given rows, then every demo commune not mentioned continuing as itself."""
    mentioned = {line.split(",")[0] for line in changes}
    rest = [f"{c},{c},,2026-01-01,,," for c in (keep if keep is not None else CODES) if c not in mentioned]
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *changes, *rest]) + "\n", encoding="utf-8")
    return path


def refused(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as error:
        call_command("import_crosswalk", str(path), *args, stdout=StringIO())
    return str(error.value)


def test_a_new_code_already_valid_on_the_date_is_refused(before, tmp_path):
    # A version of 24990 left open outside any set (e.g. loaded by hand): the new unit may not overlap it.
    AdminUnit.objects.create(
        code="24990",
        name="Xã Cũ",
        level="commune",
        valid_from=dt.date(2020, 1, 1),
        area_km2=1.2,
        geom=GEOSGeometry(json.dumps(_square(108.0, 11.0)), srid=4326),
    )
    before = counts()
    path = crosswalk(tmp_path, ["24949,24990,Xã Mới,2026-01-01,,,", "24952,24990,Xã Mới,2026-01-01,,,"])
    message = refused(path)
    assert "row 2, new_code: 24990 already has a version valid on 2026-01-01 (Xã Cũ, 2020-01-01" in message
    assert "validity periods of one code may not overlap" in message
    assert counts() == before


def test_import_admin_units_of_a_code_overlapping_an_existing_version_is_refused(before, tmp_path):
    path = tmp_path / "ka_don.geojson"
    feature = {
        "type": "Feature",
        "properties": {"code": "24949", "name": "Xã Ka Đơn"},
        "geometry": _square(108.6, 11.7),
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CommandError, match=r"row 1: code 24949 already exists for a period overlapping 2026-01-01"):
        call_command(
            "import_admin_units", str(path), "--code-field=code", "--name-field=name", "--valid-from=2026-01-01"
        )
    assert counts() == before


def test_a_cycle_of_codes_is_refused(before, tmp_path):
    path = crosswalk(tmp_path, ["24949,24952,Xã Tu Tra,2026-01-01,,,", "24952,24949,Xã Ka Đơn,2026-01-01,,,"])
    assert "the codes form a cycle: 24949 → 24952 → 24949" in refused(path)
    assert counts() == before


def test_split_shares_that_do_not_add_up_to_one_are_refused(before, tmp_path):
    path = crosswalk(tmp_path, ["24949,24949,,2026-01-01,60%,60%,", "24949,24952,,2026-01-01,30%,0.4,"])
    message = refused(path)
    assert "rows 2, 3, area_share: the shares of 24949 add up to 0.900, not 1" in message
    assert "population_share" not in message  # 0.6 + 0.4 is fine
    assert counts() == before


def test_a_code_covered_twice_without_shares_is_refused(before, tmp_path):
    path = crosswalk(tmp_path, ["24949,24949,,2026-01-01,,,", "24949,24952,,2026-01-01,,,"])
    assert "rows 2, 3, area_share: 24949 is split, so every part needs its share" in refused(path)
    path = crosswalk(tmp_path, ["24949,24949,,2026-01-01,70%,,", "24949,24952,,2026-01-01,70%,,"])
    assert "the shares of 24949 add up to 1.400, not 1" in refused(path)
    assert counts() == before


def test_a_whole_unit_with_a_share_below_one_is_refused(before, tmp_path):
    path = crosswalk(tmp_path, ["24949,24952,Xã Tu Tra,2026-01-01,0.8,,"])
    assert "row 2, area_share: 24949 goes to one unit only, so its share must be 1, not 0.8" in refused(path)
    assert counts() == before


def test_an_uncovered_old_unit_and_an_unknown_code_are_both_listed(before, tmp_path):
    path = crosswalk(tmp_path, ["99999,24949,,2026-01-01,,,"], keep=[c for c in CODES if c != "24937"])
    message = refused(path)
    assert "row 2, old_code: 99999 is not a unit of" in message
    assert "1 unit(s) of" in message and "are not covered: 24937" in message
    assert counts() == before


def test_a_split_without_boundaries_is_refused_saying_how_to_give_them(before, tmp_path):
    path = crosswalk(tmp_path, ["24949,24949,,2026-01-01,0.5,,", "24949,24990,Xã Mới,2026-01-01,0.5,,"])
    message = refused(path)
    assert "row 3: 24990 takes part of 24949, so its boundary is needed: pass it with --boundaries FILE" in message
    assert counts() == before


# A strip left out between the halves reaches the district's edge, so it is no hole of the set's union:
# the check that each split unit is covered by its parts is what catches it.
@pytest.mark.parametrize(
    ("overlap", "what"),
    [(0.01, "km² of overlap"), (-0.01, "km² of 24949 is in none of the units")],
    ids=["overlap", "strip-left-out"],
)
def test_split_halves_that_overlap_or_leave_a_hole_beyond_the_tolerance_are_refused(before, tmp_path, overlap, what):
    halves = _halves(tmp_path, "24949", overlap)
    path = crosswalk(tmp_path, ["24949,24990,Xã Tây,2026-01-01,0.5,,", "24949,24991,Xã Đông,2026-01-01,0.5,,"])
    message = refused(path, "--boundaries", str(halves))
    assert what in message and "check the boundaries of the split units" in message
    assert counts() == before


def test_an_effective_date_before_the_old_set_begins_is_refused(before, tmp_path):
    path = tmp_path / "cw.csv"
    path.write_text("\n".join([HEADER, *[f"{c},{c},,2024-06-01,,," for c in CODES]]) + "\n")
    message = refused(path, "--from", "commune-2025-01-01")
    assert "effective date 2024-06-01 is not after the start of" in message and "cannot lead back in time" in message
    path.write_text("\n".join([HEADER, *[f"{c},{c},,2000-01-01,,," for c in CODES]]) + "\n")
    assert "no commune unit set is in force on 1999-12-31, the day before 2000-01-01" in refused(path)
    assert counts() == before


def test_a_crosswalk_imported_twice_is_refused_the_second_time(before, tmp_path):
    path = crosswalk(tmp_path, ["24949,24949,Xã Ka Đơn,2026-01-01,,,", "24952,24949,Xã Ka Đơn,2026-01-01,,,"])
    call_command("import_crosswalk", str(path), stdout=StringIO())
    after_first = counts()
    assert after_first != before
    assert "was already replaced on 2026-01-01: a crosswalk from it exists" in refused(path)
    assert counts() == after_first


@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (HEADER + "\n", "empty.csv", "the file has no rows"),
        (b"", "nothing.csv", "nothing.csv rỗng (0 byte)"),
        ("ma,ten\n24949,Ka Đơn\n", "columns.csv", "missing column(s) old_code, new_code, effective_date"),
        ('{"type": "FeatureCollection", "features": []}', "units.geojson", "a crosswalk is a CSV or XLSX table"),
        (HEADER + "\n24949,24949,,abc,,,\n", "date.csv", "row 2, effective_date: 'abc' is not a date"),
        (HEADER + "\n24949,24949,,31/02/2026,,,\n", "feb.csv", "row 2, effective_date: '31/02/2026' is not a date"),
        (HEADER + "\n24949,24949,,2026-01-01,150%,,\n", "share.csv", "row 2, area_share: '150%' is not a share"),
        (HEADER + "\n24949,24949,,2026-01-01,abc,,\n", "abc.csv", "row 2, area_share: 'abc' is not a number"),
        (HEADER + "\n,24949,,2026-01-01,,,\n", "code.csv", "row 2, old_code: empty"),
    ],
)
def test_a_file_that_is_not_a_readable_crosswalk_is_refused_naming_the_row_and_field(
    before, tmp_path, content, name, problem
):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert problem in refused(path)
    assert counts() == before


def test_codes_excel_stored_as_numbers_get_their_leading_zeros_back(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ma_cu", "ma_moi", "ten_moi", "ngay_hieu_luc", "ty_le_dien_tich", "ty_le_dan_so", "can_cu"])
    sheet.append([1234, 1234, None, dt.datetime(2026, 1, 1), None, None, "NQ 1/2026"])
    sheet.append([1237, 1234, "Phường Mới", "01/01/2026", 1, "100%", "NQ 1/2026"])
    book.save(tmp_path / "cw.xlsx")
    rows = read_crosswalk(tmp_path / "cw.xlsx")
    assert [(r.row, r.old_code, r.new_code, r.effective_date) for r in rows] == [
        (2, "01234", "01234", dt.date(2026, 1, 1)),
        (3, "01237", "01234", dt.date(2026, 1, 1)),
    ]
    assert (rows[1].new_name, rows[1].area_share, rows[1].population_share) == ("Phường Mới", 1.0, 1.0)


def _square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def _halves(tmp_path: Path, code: str, overlap: float) -> Path:
    """The current commune cut at its centroid's meridian; the halves reach `overlap` degrees past the cut
    (negative: they stop short of it, leaving a strip uncovered)."""
    unit = AdminUnit.objects.current().communes().get(code=code)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH u AS (SELECT geom, ST_X(ST_Centroid(geom)) AS cx FROM gis_ioc_adminunit WHERE id = %s)
            SELECT ST_AsGeoJSON(ST_Intersection(geom, ST_MakeEnvelope(ST_XMin(geom) - 1, ST_YMin(geom) - 1,
                                                                     cx + %s, ST_YMax(geom) + 1, 4326))),
                   ST_AsGeoJSON(ST_Intersection(geom, ST_MakeEnvelope(cx - %s, ST_YMin(geom) - 1,
                                                                     ST_XMax(geom) + 1, ST_YMax(geom) + 1, 4326)))
            FROM u
            """,
            [unit.id, overlap, overlap],
        )
        west, east = cursor.fetchone()
    features = [
        {"type": "Feature", "properties": {"code": c, "name": n}, "geometry": json.loads(g)}
        for c, n, g in (("24990", "Xã Tây", west), ("24991", "Xã Đông", east))
    ]
    path = tmp_path / "halves.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


def test_split_boundaries_loaded_beforehand_are_used_by_the_crosswalk(before, tmp_path):
    halves = _halves(tmp_path, "24949", 0.0)
    call_command(
        "import_admin_units", str(halves), "--code-field=code", "--name-field=name", "--valid-from=2026-01-01",
        stdout=StringIO(),
    )  # fmt: skip
    path = crosswalk(tmp_path, ["24949,24990,,2026-01-01,0.5,,", "24949,24991,,2026-01-01,0.5,,"])
    call_command("import_crosswalk", str(path), stdout=StringIO())
    new_set = UnitSet.objects.get(slug="commune-2026-01-01")
    assert set(new_set.members.values_list("code", flat=True)) == set(CODES) - {"24949"} | {"24990", "24991"}
    old_set = UnitSet.objects.get(slug="commune-2025-01-01")
    assert set(old_set.members.values_list("code", flat=True)) == set(CODES)
    assert new_set.members.get(code="24990").name == "Xã Tây"  # the name comes with the loaded boundary


def test_a_unit_loaded_for_the_reform_that_no_row_names_is_refused(before, tmp_path):
    halves = _halves(tmp_path, "24949", 0.0)
    call_command(
        "import_admin_units", str(halves), "--code-field=code", "--name-field=name", "--valid-from=2026-01-01",
        stdout=StringIO(),
    )  # fmt: skip
    loaded = counts()
    message = refused(crosswalk(tmp_path, []))
    assert "24990 was loaded to begin on 2026-01-01 but no row makes it a new unit (new_code)" in message
    assert counts() == loaded
