"""The 148 real Lâm Đồng communes as the 2009–2024 commune set, and a 2025-07-style crosswalk built from
them (whole merges of neighbouring communes and one commune split in two) imported with
`manage.py import_crosswalk` as CSV and as XLSX."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from gis_ioc.admin_units import topology_report
from gis_ioc.models import AdminUnit, Crosswalk, CrosswalkRow, UnitSet
from gis_ioc.unit_sets import TOPOLOGY_TOLERANCE_KM2, UnitSetError, resolve, weights
from tests.conftest import shared_file
from tests.gis_ioc.reform import (
    LAM_DONG,
    LOAD_ARGS,
    REFORM_DAY,
    Reform,
    load_lam_dong,
    plan_reform,
    write_boundaries,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db
OLD_SET = "commune-2009-01-01"
NEW_SET = f"commune-{REFORM_DAY:%Y-%m-%d}"


def import_crosswalk(*args: object) -> str:
    out = StringIO()
    call_command("import_crosswalk", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def union_area_km2(ids: list[int]) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Area(ST_Union(geom)::geography) / 1e6 FROM gis_ioc_adminunit WHERE id = ANY(%s)", [ids]
        )
        return float(cursor.fetchone()[0])


def test_the_148_communes_load_as_the_2009_to_2024_set_with_a_topology_report():
    out = StringIO()
    call_command("import_admin_units", str(shared_file(LAM_DONG)), *LOAD_ARGS, stdout=out)

    commune_set = UnitSet.objects.get(slug=OLD_SET)
    assert commune_set.members.count() == 148
    assert commune_set.valid_from == dt.date(2009, 1, 1) and commune_set.valid_to is None
    assert resolve(as_of=dt.date(2024, 12, 31)) == commune_set
    # Real, thinned boundaries: the report lists the slivers instead of refusing the file.
    report = topology_report(list(commune_set.members.values_list("id", flat=True)))
    assert len(report.overlaps) == 298 and sum(a for *_, a in report.overlaps) == pytest.approx(15.4, abs=0.1)
    assert "Chồng lấn/overlapping pairs: 298 " in out.getvalue()
    # The crosswalk tolerance applies to what a reform adds, not to these slivers: the thinned data alone
    # is 300 times over it, so an absolute threshold on the set would refuse every real province.
    assert sum(a for *_, a in report.overlaps) > 100 * TOPOLOGY_TOLERANCE_KM2


def test_as_of_before_any_unit_set_is_an_error_naming_the_first_set():
    load_lam_dong()
    with pytest.raises(UnitSetError, match=r"as_of 2000-01-01 is before the first commune unit set \(2009-01-01\)"):
        resolve(as_of=dt.date(2000, 1, 1))


@pytest.fixture
def reform() -> Reform:
    load_lam_dong()
    return plan_reform(OLD_SET)


def assert_reform_applied(reform: Reform) -> None:
    """Members, closed units, dissolved and split geometries, rows and weights of the imported reform."""
    old_set, new_set = UnitSet.objects.get(slug=OLD_SET), UnitSet.objects.get(slug=NEW_SET)
    assert old_set.valid_to == REFORM_DAY and new_set.valid_from == REFORM_DAY
    merged_away = sum(len(olds) for _, _, olds in reform.merges)
    new_codes = set(new_set.members.values_list("code", flat=True))
    assert len(new_codes) == 148 - merged_away + len(reform.merges) - 1 + 2
    assert new_codes == (set(reform.old_codes) - reform.changed) | {m[0] for m in reform.merges} | {
        h.code for h in reform.halves
    }
    closed = AdminUnit.objects.filter(code__in=reform.changed, valid_from=dt.date(2009, 1, 1))
    assert set(closed.values_list("valid_to", flat=True)) == {REFORM_DAY}
    assert AdminUnit.objects.filter(level="commune", valid_to__isnull=True).count() == len(new_codes)

    for code, name, olds in reform.merges:
        unit = new_set.members.get(code=code)
        parts = AdminUnit.objects.filter(code__in=olds, valid_to=REFORM_DAY)
        assert unit.name == name and unit.valid_from == REFORM_DAY
        assert unit.area_km2 == pytest.approx(sum(p.area_km2 for p in parts), rel=0.001)
        assert unit.population(2019) == sum(p.population(2019) for p in parts)
    whole = AdminUnit.objects.get(code=reform.split_code, valid_to=REFORM_DAY)
    for half in reform.halves:
        unit = new_set.members.get(code=half.code)
        assert unit.name == half.name and unit.area_km2 == pytest.approx(half.area_km2, rel=0.001)
    assert sum(h.share for h in reform.halves) == pytest.approx(1, abs=1e-5)
    assert sum(h.area_km2 for h in reform.halves) == pytest.approx(whole.area_km2, rel=0.001)

    crosswalk = Crosswalk.objects.get(from_set=old_set, to_set=new_set)
    assert crosswalk.effective_date == REFORM_DAY and crosswalk.legal_basis.startswith("Nghị quyết 1671")
    assert CrosswalkRow.objects.filter(crosswalk=crosswalk).count() == 148 + 1  # the split has two rows

    # Forward: an old commune merged whole goes to its new unit with weight 1; the split one by its shares.
    forward = weights(new_set)
    ids = dict(AdminUnit.objects.filter(valid_to=REFORM_DAY).values_list("code", "id"))
    by_version: dict[int, list[tuple[str, float, float]]] = {}
    for vid, code, wa, wp in forward.edges:
        by_version.setdefault(vid, []).append((code, wa, wp))
    for code, _name, olds in reform.merges:
        for old in olds:
            assert by_version[ids[old]] == [(code, 1.0, 1.0)]
        assert forward.method(code, "area") == "exact"
    split = sorted(by_version[ids[reform.split_code]])
    assert [(c, round(a, 6), round(p, 6)) for c, a, p in split] == [(h.code, h.share, h.share) for h in reform.halves]
    assert {h.code for h in reform.halves} <= forward.estimated

    # Backward (figures of new units on the 2009 set): a merged unit gives each part its share of the area.
    backward = weights(old_set)
    for code, _name, olds in reform.merges:
        unit = new_set.members.get(code=code)
        edges = {c: wa for vid, c, wa, _wp in backward.edges if vid == unit.id}
        parts = dict(AdminUnit.objects.filter(code__in=olds, valid_to=REFORM_DAY).values_list("code", "area_km2"))
        assert edges == pytest.approx({c: a / sum(parts.values()) for c, a in parts.items()}, rel=1e-6)
    for half in reform.halves:
        unit = new_set.members.get(code=half.code)
        assert [(c, wa) for vid, c, wa, _ in backward.edges if vid == unit.id] == [(reform.split_code, 1.0)]


def test_a_crosswalk_csv_of_merges_and_a_split_imports_with_its_boundaries(reform, tmp_path):
    path = write_csv(reform, tmp_path / "sap_xep_2025.csv")
    halves = write_boundaries(reform, tmp_path / "xa_tach.geojson")
    output = import_crosswalk(path, "--boundaries", halves, "--code-field=code", "--name-field=name")

    assert f"{len(reform.merges)} nhập/merged, 2 chia tách/from splits" in output
    for code, _name, olds in reform.merges:
        assert f"{code} ← {' + '.join(olds)}" in output
    assert_reform_applied(reform)


def test_the_same_crosswalk_as_xlsx_with_vietnamese_dates_in_a_csv_twin(reform, tmp_path):
    halves = write_boundaries(reform, tmp_path / "xa_tach.geojson")
    import_crosswalk(write_xlsx(reform, tmp_path / "sap_xep.xlsx"), "--boundaries", halves)
    assert_reform_applied(reform)


def test_vietnamese_headers_and_dd_mm_yyyy_dates_are_read(reform, tmp_path):
    path = write_csv(reform, tmp_path / "bang_chuyen_doi.csv", vietnamese=True)
    assert path.read_text(encoding="utf-8").startswith("Mã cũ,Mã mới,Tên mới,Ngày hiệu lực,Tỷ lệ diện tích")
    assert "01/07/2025" in path.read_text(encoding="utf-8")
    import_crosswalk(path, "--boundaries", write_boundaries(reform, tmp_path / "xa_tach.geojson"))
    assert_reform_applied(reform)


def test_counts_over_the_reform_add_up_on_either_set(reform, tmp_path):
    """Dossiers filed before the reform under the old codes and after it under the new ones: on the new set
    a merged unit counts all its parts' dossiers exactly and the split halves share theirs; on the old set
    the new units' dossiers go back by population; on both sets the province total is every dossier once."""
    from layers.models import Dossier
    from layers.statistics import commune_values, methods

    import_crosswalk(
        write_csv(reform, tmp_path / "cw.csv"), "--boundaries", write_boundaries(reform, tmp_path / "h.geojson")
    )
    before, after = dt.date(2024, 3, 1), dt.date(2025, 9, 1)
    filed: dict[tuple[str, dt.date], int] = {}
    for i, code in enumerate(sorted(reform.changed)):
        filed[(code, before)] = 3 + i
    for i, code in enumerate([m[0] for m in reform.merges] + [h.code for h in reform.halves]):
        filed[(code, after)] = 2 + i
    Dossier.objects.bulk_create(
        Dossier(commune_code=code, received_date=day, due_date=day, procedure_code="TT", procedure_name="Thủ tục",
                field="khac", status="received")
        for (code, day), n in filed.items() for _ in range(n)
    )  # fmt: skip
    start, end = dt.date(2021, 1, 1), dt.date(2026, 6, 30)
    old = {c: n for (c, d), n in filed.items() if d == before}
    new = {c: n for (c, d), n in filed.items() if d == after}

    on_new = commune_values("dossiers_received", start, end, units=NEW_SET)
    for code, _name, olds in reform.merges:
        assert on_new[code] == sum(old[c] for c in olds) + new[code]
    for half in reform.halves:
        assert on_new[half.code] == pytest.approx(half.share * old[reform.split_code] + new[half.code], abs=1e-6)
    assert sum(v or 0 for v in on_new.values()) == pytest.approx(sum(filed.values()))
    how = methods("dossiers_received", units=NEW_SET)
    assert how[reform.merges[0][0]] == "exact" and how[reform.halves[0].code] == "population"

    on_old = commune_values("dossiers_received", start, end, units=OLD_SET)
    assert on_old[reform.split_code] == old[reform.split_code] + sum(new[h.code] for h in reform.halves)
    # Counts go back by population (the census of the old units), the statistic's weight.
    people = {u.code: u.population(2019) for u in AdminUnit.objects.filter(valid_to=REFORM_DAY)}
    for code, _name, olds in reform.merges:
        total = sum(people[c] for c in olds)
        for c in olds:
            assert on_old[c] == pytest.approx(old[c] + new[code] * people[c] / total, abs=1e-6)
    assert sum(v or 0 for v in on_old.values()) == pytest.approx(sum(filed.values()))
