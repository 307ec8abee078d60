"""Every CSV/XLSX export is safe to open: a citizen's formula arrives as text, numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gis_ioc.lib import tabular
from tests.petitions.conftest import inside

FORMULA = '=HYPERLINK("http://x","y")'
TODAY = {"start": "2020-01-01", "end": (timezone.localdate() + dt.timedelta(days=1)).isoformat()}


@pytest.fixture
def filed(client, district) -> str:
    """A petition filed through Open311 whose description is a spreadsheet formula."""
    point = inside("24931")
    response = client.post(
        "/open311/v2/requests.json",
        {"service_code": "moi_truong", "lat": point.y, "long": point.x, "description": FORMULA, "phone": "-5"},
        REMOTE_ADDR="203.0.113.50",
    )
    assert response.status_code == 201, response.content
    return response.json()[0]["service_request_id"]


def _body(response) -> bytes:
    assert response.status_code == 200, response.content[:300] if not response.streaming else ""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv_rows(response) -> list[dict[str, str]]:
    text = _body(response).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Vietnamese text as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def _xlsx_rows(response) -> tuple[list[str], list[tuple]]:
    ws = load_workbook(io.BytesIO(_body(response))).active
    header = [c.value for c in ws[1]]
    return header, [tuple(c for c in row) for row in ws.iter_rows(min_row=2)]


def _assert_text_not_formula(cell) -> None:
    assert cell.data_type == "s", "a citizen's text must never become a live formula"
    assert cell.value in (FORMULA, "'" + FORMULA)
    assert cell.quotePrefix or cell.value.startswith("'")  # stays text even when someone edits the cell


@pytest.mark.django_db
def test_a_citizen_formula_arrives_as_text_in_the_layer_exports(client, filed, leader) -> None:
    client.force_login(leader)
    rows = _csv_rows(client.get("/api/v1/layers/petitions/export?format=csv"))
    [row] = [r for r in rows if r["tracking_code"] == filed]
    assert row["description"] == "'" + FORMULA
    header, cells = _xlsx_rows(client.get("/api/v1/layers/petitions/export?format=xlsx"))
    [row] = [r for r in cells if r[header.index("tracking_code")].value == filed]
    _assert_text_not_formula(row[header.index("description")])


@pytest.mark.django_db
def test_a_citizen_formula_arrives_as_text_in_the_rest_csv(client, filed, leader) -> None:
    client.force_login(leader)
    rows = _csv_rows(client.get("/api/v1/layers/petitions/features/?format=csv"))
    [row] = [r for r in rows if r["tracking_code"] == filed]
    assert row["description"] == "'" + FORMULA


@pytest.mark.django_db
def test_a_citizen_formula_arrives_as_text_in_the_dashboard_tables(client, filed, leader) -> None:
    client.force_login(leader)
    rows = _csv_rows(client.get("/dashboard/tables/petitions.csv", TODAY))
    assert "'" + FORMULA in {v for r in rows for v in r.values()}
    header, cells = _xlsx_rows(client.get("/dashboard/tables/petitions.xlsx", TODAY))
    [cell] = [c for r in cells for c in r if isinstance(c.value, str) and FORMULA in c.value]
    _assert_text_not_formula(cell)
    # Numbers stay numbers: the KPI values can be summed in the spreadsheet.
    header, cells = _xlsx_rows(client.get("/dashboard/tables/kpis.xlsx", TODAY))
    values = [r[header.index("Giá trị")].value for r in cells]
    assert values and all(isinstance(v, int | float) for v in values if v is not None)


@pytest.mark.django_db
def test_a_citizen_formula_arrives_as_text_in_the_desk_csv(client, filed, leader) -> None:
    client.force_login(leader)
    [row] = [r for r in _csv_rows(client.get("/petitions/desk/export.csv")) if r["tracking_code"] == filed]
    assert row["description"] == "'" + FORMULA
    assert row["reporter_phone"] == "'-5"  # typed text that looks like a number stays text
    assert float(row["lat"]) == pytest.approx(inside("24931").y, abs=1e-5)  # a number, not neutralised


def test_the_writers_keep_numbers_numbers_and_neutralise_every_formula_prefix() -> None:
    texts = ["=1+1", "+1", "-5", "@SUM(A1)", "\tx", "\rx", "plain", "", "1-2"]
    numbers = [-5, -2.5, Decimal("-1.25"), 0]
    rows = [[t, n] for t, n in zip(texts, numbers * 3, strict=False)]
    writer = tabular.CSVWriter(["text", "number"])
    writer.extend(rows)
    read = list(csv.reader(io.StringIO(writer.getvalue().decode("utf-8")[1:])))[1:]
    assert [r[0] for r in read] == ["'=1+1", "'+1", "'-5", "'@SUM(A1)", "'\tx", "'\rx", "plain", "", "1-2"]
    assert [float(r[1]) for r in read] == [float(n) for n in (numbers * 3)[: len(texts)]]

    xlsx = tabular.XLSXWriter(["text", "number"], title="Bảng: [thử]")
    xlsx.extend(rows)
    ws = load_workbook(io.BytesIO(xlsx.getvalue())).active
    for (text_cell, number_cell), (text, number) in zip(ws.iter_rows(min_row=2), rows, strict=True):
        assert text_cell.data_type == "s" or text == ""
        assert number_cell.data_type == "n" and number_cell.value == float(number)
        if tabular.is_formula_like(text):
            assert text_cell.quotePrefix
