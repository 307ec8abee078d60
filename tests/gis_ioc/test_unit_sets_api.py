"""Unit sets and crosswalks through the API and the admin: read by whoever sees the boundaries, imported
by GIS staff, refused whole with every problem listed."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gis_ioc.demo.facts import DISTRICT
from gis_ioc.models import AdminUnit, Crosswalk, UnitSet
from gis_ioc.unit_sets import resolve

pytestmark = pytest.mark.django_db
NEXT = "2026-01-01"


def crosswalk_csv(*, drop: str | None = None, header: str = "ma_cu,ma_moi,ten_moi,ngay_hieu_luc,can_cu") -> bytes:
    """Ka Đơn (24949) and Tu Tra (24952) merge on 2026-01-01; the others stay (optionally one left out)."""
    lines = [header]
    for code in sorted(resolve().members.values_list("code", flat=True)):
        if code == drop:
            continue
        merged = code in ("24949", "24952")
        lines.append(f"{code},{'24949' if merged else code},{'Xã Ka Đơn' if merged else ''},01/01/2026,NQ 1/2025")
    return ("\n".join(lines) + "\n").encode()


def upload(client, data: bytes, name: str = "chuyen_doi.csv"):
    return client.post("/api/v1/crosswalks/", {"file": SimpleUploadedFile(name, data)})


def test_anyone_who_sees_the_boundaries_reads_the_sets_their_units_and_a_units_history(client, district):
    sets = {s["slug"]: s for s in client.get("/api/v1/unit-sets/").json()["unit_sets"]}
    assert sets["commune-2009-01-01"]["members"] == 10 and sets["commune-2009-01-01"]["valid_to"] == "2025-01-01"
    assert sets[f"area-{DISTRICT[0]}"]["kind"] == "statistical"
    detail = client.get("/api/v1/unit-sets/commune-2025-01-01/").json()
    assert len(detail["units"]) == 9 and "24946" not in {u["code"] for u in detail["units"]}
    geo = client.get("/api/v1/unit-sets/commune-2009-01-01/features/").json()
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["type"] == "MultiPolygon"
    versions = client.get("/api/v1/admin-units/24955/history/").json()["versions"]
    assert [v["valid_from"] for v in versions] == ["2009-01-01", "2025-01-01"]
    assert [b["code"] for b in versions[0]["became"]] == ["24955"]  # Pró went into the new Quảng Lập
    made_of = sorted((m["code"], m["name"], m["valid_to"]) for m in versions[1]["made_of"])
    assert made_of == [("24946", "Xã Quảng Lập", "2025-01-01"), ("24955", "Xã Pró", "2025-01-01")]
    assert versions[1]["made_of"][0]["legal_basis"]
    assert client.get("/api/v1/unit-sets/nope/").status_code == 404
    assert client.get("/api/v1/admin-units/99999/history/").status_code == 404


def test_when_the_boundaries_are_not_published_nothing_about_sets_is(client, district, gis_staff):
    from layers.models import Layer

    Layer.objects.filter(slug="communes").update(visibility="staff")
    for url in ("/api/v1/unit-sets/", "/api/v1/unit-sets/commune-2009-01-01/", "/api/v1/crosswalks/",
                "/api/v1/admin-units/24955/history/"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    client.force_login(gis_staff)
    assert client.get("/api/v1/unit-sets/").status_code == 200


def test_gis_staff_import_a_crosswalk_and_see_its_refiling_job(client, district, gis_staff):
    client.force_login(gis_staff)
    r = upload(client, crosswalk_csv())
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["crosswalks"][0]["to"] == "commune-2026-01-01"
    assert any("24949 ← 24949 + 24952" in line for line in body["summary"])
    assert AdminUnit.objects.get(code="24949", valid_from="2026-01-01").name == "Xã Ka Đơn"
    crosswalk = client.get(f"/api/v1/crosswalks/{body['crosswalks'][0]['id']}/").json()
    assert crosswalk["refile"]["status"] == "queued" and len(crosswalk["rows"]) == 9
    assert client.get("/api/v1/crosswalks/999/").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (b"old_code,new_code,effective_date\n", "a.csv", "the file has no rows"),
        (b"foo,bar\n1,2\n", "a.csv", "missing column(s) old_code, new_code, effective_date"),
        (b'{"type": "FeatureCollection", "features": []}', "a.geojson", "a crosswalk is a CSV or XLSX table"),
    ],
)
def test_a_bad_file_is_a_400_listing_the_problem_and_writes_nothing(client, district, gis_staff, data, name, problem):
    client.force_login(gis_staff)
    before = (UnitSet.objects.count(), Crosswalk.objects.count(), AdminUnit.objects.count())
    r = upload(client, data, name)
    assert r.status_code == 400, r.content
    assert any(problem in p for p in r.json()["problems"]), r.json()
    assert (UnitSet.objects.count(), Crosswalk.objects.count(), AdminUnit.objects.count()) == before


def test_an_incomplete_crosswalk_is_refused_with_the_missing_units_named(client, district, gis_staff):
    client.force_login(gis_staff)
    r = upload(client, crosswalk_csv(drop="24937"))
    assert r.status_code == 400
    assert any("not covered: 24937" in p for p in r.json()["problems"])
    assert not Crosswalk.objects.filter(effective_date=NEXT).exists()


def test_only_gis_staff_and_administrators_import(client, district, field_officer, leader):
    assert upload(client, crosswalk_csv()).status_code == 401
    for user in (field_officer, leader):
        client.force_login(user)
        assert upload(client, crosswalk_csv()).status_code == 403
    assert not Crosswalk.objects.filter(effective_date=NEXT).exists()
    r = client.post("/api/v1/crosswalks/", {})
    assert r.status_code == 403


def test_the_admin_upload_page_imports_or_lists_every_problem(client, district, gis_staff):
    client.force_login(gis_staff)
    page = client.get("/admin/gis_ioc/crosswalk/add/")
    assert page.status_code == 200 and "ma_cu" in page.content.decode()
    bad = client.post(
        "/admin/gis_ioc/crosswalk/add/", {"file": SimpleUploadedFile("x.csv", crosswalk_csv(drop="24937"))}
    )
    assert bad.status_code == 200 and "not covered: 24937" in bad.content.decode()
    good = client.post("/admin/gis_ioc/crosswalk/add/", {"file": SimpleUploadedFile("x.csv", crosswalk_csv())})
    assert good.status_code == 302
    assert Crosswalk.objects.filter(effective_date=NEXT).exists()
    unit = AdminUnit.objects.get(code="24949", valid_from=NEXT)
    change = client.get(f"/admin/gis_ioc/adminunit/{unit.pk}/change/").content.decode()
    assert "Xã Tu Tra" in change and "NQ 1/2025" in change  # what it was made of, by which decision
    assert client.get("/admin/gis_ioc/unitset/").status_code == 200


def test_an_xlsx_crosswalk_with_codes_excel_turned_into_numbers(client, district, gis_staff):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for line in crosswalk_csv().decode().splitlines():
        cells = line.split(",")
        ws.append([int(c) if c.isdigit() else c for c in cells])  # Excel keeps codes as numbers
    buffer = io.BytesIO()
    wb.save(buffer)
    client.force_login(gis_staff)
    r = upload(client, buffer.getvalue(), "chuyen_doi.xlsx")
    assert r.status_code == 201, r.content
