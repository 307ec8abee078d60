"""PDF reports start Chromium at most once per input, and a client cannot start it without limit."""

from __future__ import annotations

import pytest

from dashboard import reports
from tests.dashboard.conftest import YEAR_RANGE, client_for

pytestmark = pytest.mark.django_db

URL = "/reports/communes/24931/pdf"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def renderings(monkeypatch) -> list[str]:
    """Stands in for Chromium (not what these tests are about) and records each rendering."""
    seen: list[str] = []

    def fake_chromium(html: str) -> bytes:
        seen.append(html)
        return b"%PDF-1.4 rendering " + str(len(seen)).encode()

    monkeypatch.setattr(reports, "html_to_pdf", fake_chromium)
    return seen


@pytest.mark.browser
def test_the_second_request_reuses_the_pdf_chromium_made(demo, leader_client, media, monkeypatch) -> None:
    launches = []
    real_chromium = reports.html_to_pdf
    monkeypatch.setattr(reports, "html_to_pdf", lambda html: launches.append(html) or real_chromium(html))
    first = leader_client.get(URL, {**YEAR_RANGE, "stat": "petitions_received"})
    second = leader_client.get(URL, {**YEAR_RANGE, "stat": "petitions_received"})
    assert first.status_code == second.status_code == 200
    assert first.content.startswith(b"%PDF-") and second.content == first.content
    assert len(launches) == 1
    assert second["Content-Disposition"] == 'attachment; filename="bao-cao-24931-20240101-20241231.pdf"'


def test_new_data_or_another_view_renders_a_new_pdf(demo, leader_client, scoped_client, media, renderings) -> None:
    from tests.petitions.conftest import inside, new_petition

    first = leader_client.get(URL, YEAR_RANGE).content
    assert leader_client.get(URL, YEAR_RANGE).content == first and len(renderings) == 1
    leader_client.get(URL, {**YEAR_RANGE, "lang": "en"})  # another language, another document
    assert len(renderings) == 2
    scoped_client.get(URL, YEAR_RANGE)  # a user who may see other things gets their own document
    assert len(renderings) == 3
    new_petition(point=inside("24931"))  # the data changed: the old PDF is out of date
    assert leader_client.get(URL, YEAR_RANGE).content != first
    assert len(renderings) == 4


def test_a_client_starting_too_many_renderings_is_refused_but_cached_pdfs_still_flow(
    demo, media, renderings, settings
) -> None:
    settings.IOC_REPORT_PDF_PER_MINUTE = 2
    visitor = client_for(None)
    periods = [{"start": f"2024-0{m}-01", "end": f"2024-0{m}-28"} for m in (1, 2, 3)]
    codes = [visitor.get("/reports/district/pdf", p, REMOTE_ADDR="198.51.100.60").status_code for p in periods]
    assert codes == [200, 200, 429]
    refused = visitor.get("/reports/district/pdf", periods[2], REMOTE_ADDR="198.51.100.60")
    assert "quá nhiều báo cáo PDF" in refused.content.decode() and int(refused["Retry-After"]) > 0
    assert visitor.get("/reports/district/pdf", periods[0], REMOTE_ADDR="198.51.100.60").status_code == 200
    assert visitor.get("/reports/district/pdf", periods[2], REMOTE_ADDR="198.51.100.61").status_code == 200
    assert len(renderings) == 3


def test_a_bad_period_is_a_400_before_any_rendering(demo, leader_client, media, renderings) -> None:
    response = leader_client.get(URL, {"start": "2024-12-31", "end": "2024-01-01"})
    assert response.status_code == 400 and renderings == []
    assert leader_client.get("/reports/communes/99999/pdf", YEAR_RANGE).status_code == 404
