"""Reports and tables: what a leader takes into a meeting."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tests.dashboard.conftest import YEAR_RANGE

pytestmark = pytest.mark.django_db


def test_the_district_report_shows_kpis_map_and_commune_table_in_vietnamese_formats(demo, leader_client):
    r = leader_client.get("/reports/district/", {"stat": "revenue_actual", **YEAR_RANGE})
    assert r.status_code == 200
    html = r.content.decode()
    assert "01/01/2024 – 31/12/2024" in html
    assert "3.015.000.000 ₫" in html  # revenue in đồng, dots between thousands
    assert html.count("<path ") == 9
    assert "Thị trấn Thạnh Mỹ" in html


def test_a_commune_report_lists_its_petitions_facilities_and_dossiers(demo, leader_client):
    r = leader_client.get("/reports/communes/24931/", YEAR_RANGE)
    assert r.status_code == 200
    slugs = [t["slug"] for t in r.context["lists"]]
    assert slugs == ["petitions", "schools", "health-facilities", "dossiers"]
    from petitions.models import Petition

    codes = Petition.objects.filter(commune_code="24931").values_list("tracking_code", flat=True)
    assert len(codes) == 3 and all(code in r.content.decode() for code in codes)


def test_the_statistic_table_downloads_as_csv_with_every_commune_and_the_district(demo, leader_client):
    r = leader_client.get("/dashboard/tables/statistic.csv", {"stat": "petitions_received", **YEAR_RANGE})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"].startswith("attachment;")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã xã,Xã/thị trấn,Phản ánh tiếp nhận")
    assert lines[0].endswith(",Cách tính")  # how each figure was obtained (exact, or a split's estimate)
    assert len(lines) == 1 + 9 + 1
    assert all(line.endswith(",chính xác") for line in lines[1:-1])
    assert lines[-1].endswith(",54.0,")


def test_a_list_downloads_as_xlsx_with_real_dates(demo, leader_client):
    r = leader_client.get("/dashboard/tables/dossiers.xlsx", {"commune": "24931", **YEAR_RANGE})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in ws[1]]
    assert "Ngày tiếp nhận" in header
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 4
    received = rows[0][header.index("Ngày tiếp nhận")]
    assert isinstance(received, dt.datetime) and received.year == 2024


def test_an_unknown_table_or_format_is_refused(demo, leader_client):
    assert leader_client.get("/dashboard/tables/salaries.csv").status_code == 404
    assert leader_client.get("/dashboard/tables/petitions.pdf").status_code == 404


def test_visitors_cannot_download_staff_only_tables(demo, anon_client):
    assert anon_client.get("/dashboard/tables/dossiers.csv", YEAR_RANGE).status_code == 404
    r = anon_client.get("/dashboard/tables/petitions.csv", YEAR_RANGE)
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    assert "Trần Văn An" not in text and "0987654321" not in text  # reporter data is never public


def test_the_kpi_table_downloads_for_a_commune(demo, leader_client):
    r = leader_client.get("/dashboard/tables/kpis.csv", {"commune": "24931", **YEAR_RANGE})
    assert r.status_code == 200
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Chỉ tiêu,Giá trị,Đơn vị"
    assert "Phản ánh tiếp nhận,3.0,phản ánh" in lines
