"""The citizens' pages: the form, the status page, rating; privacy and escaping; throttling."""

from __future__ import annotations

import csv
import io

from petitions.models import Petition, Status
from tests.petitions.conftest import inside, new_petition, set_status

SCRIPT = '<script>alert("pwned")</script>'


def test_the_form_is_vietnamese_and_uses_the_local_map_library(client, district):
    response = client.get("/petitions/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Gửi phản ánh" in body and "Lĩnh vực" in body and "Đất đai" in body
    assert "/static/vendor/maplibre-gl/maplibre-gl.js" in body
    assert "http://" not in body.replace("http://testserver", "") and "https://" not in body


def test_a_citizen_files_a_petition_and_follows_it_by_code(client, district):
    here = inside("24937")
    response = client.post(
        "/petitions/",
        {
            "category": "giao_thong_ha_tang",
            "description": "Cầu treo bị gãy ván",
            "lat": f"{here.y}",
            "lon": f"{here.x}",
            "name": "Võ Thị F",
            "phone": "0933444555",
        },
    )
    assert response.status_code == 302
    petition = Petition.objects.get()
    assert response["Location"] == f"/petitions/track/{petition.tracking_code}/?new=1"
    page = client.get(response["Location"]).content.decode()
    assert petition.tracking_code in page and "Đã gửi phản ánh thành công" in page
    assert "Cầu treo bị gãy ván" in page  # the reporter's own session sees the text
    assert "Võ Thị F" not in page and "0933444555" not in page
    lookup = client.get("/petitions/track/", {"code": petition.tracking_code.lower()})
    assert lookup.status_code == 302


def test_strangers_see_the_public_status_only(client, district):
    petition = new_petition(description="Nhà bà Sáu xả rác", name="Bà Sáu", phone="0900111222")
    page = client.get(f"/petitions/track/{petition.tracking_code}/").content.decode()
    assert "Đã tiếp nhận" in page and "Tiến trình xử lý" in page
    assert "Bà Sáu" not in page and "0900111222" not in page and "Nhà bà Sáu xả rác" not in page


def test_an_unknown_tracking_code_is_a_friendly_404(client, district):
    response = client.get("/petitions/track/", {"code": "PA-NOPE"})
    assert response.status_code == 404 and "Không tìm thấy mã" in response.content.decode()
    assert client.get("/petitions/track/PA-NOPE/").status_code == 404


def test_missing_and_non_numeric_coordinates_are_refused_on_the_form(client, district):
    for lat, lon, message in (("", "", "Thiếu tọa độ"), ("mười một", "108.5", "không phải là số")):
        response = client.post("/petitions/", {"category": "khac", "description": "x", "lat": lat, "lon": lon})
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Petition.objects.exists()


def test_a_location_outside_the_district_is_refused_on_the_form(client, district):
    response = client.post("/petitions/", {"category": "khac", "description": "x", "lat": "21.0278", "lon": "105.8342"})
    assert response.status_code == 400 and "ngoài huyện" in response.content.decode()


def test_a_script_in_the_description_is_escaped_on_every_page_and_in_csv(client, district, leader):
    here = inside()
    client.post(
        "/petitions/", {"category": "khac", "description": SCRIPT, "lat": here.y, "lon": here.x, "name": SCRIPT}
    )
    petition = Petition.objects.get()
    assert petition.description == SCRIPT  # stored as typed, escaped on output
    pages = [client.get(f"/petitions/track/{petition.tracking_code}/")]
    client.force_login(leader)
    pages += [client.get("/petitions/desk/"), client.get(f"/petitions/desk/{petition.tracking_code}/")]
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200
        assert SCRIPT not in body
    assert "&lt;script&gt;" in pages[0].content.decode() and "&lt;script&gt;" in pages[2].content.decode()
    export = client.get("/petitions/desk/export.csv")
    assert export["Content-Disposition"].startswith("attachment") and export["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0]["description"] == SCRIPT and rows[0]["reporter_name"] == SCRIPT


def test_csv_cells_cannot_become_spreadsheet_formulas(client, district, leader):
    new_petition(description='=HYPERLINK("http://evil","click")')
    client.force_login(leader)
    rows = list(csv.DictReader(io.StringIO(client.get("/petitions/desk/export.csv").content.decode("utf-8-sig"))))
    assert rows[0]["description"].startswith("'=")


def test_a_resolved_petition_can_be_rated_once(client, district, agency):
    petition = set_status(new_petition(), Status.RESOLVED, agency=agency)
    secret = petition.issue_receipt()
    petition.save(update_fields=["receipt_hash"])
    page = client.get(f"/petitions/track/{petition.tracking_code}/").content.decode()
    assert "Đánh giá kết quả xử lý" in page
    url = f"/petitions/track/{petition.tracking_code}/rate/"
    response = client.post(url, {"rating": "4", "comment": "Tốt", "receipt": secret})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.rating == 4
    again = client.post(url, {"rating": "1", "receipt": secret})
    assert again.status_code == 409
    assert client.post(url, {"rating": "x", "receipt": secret}).status_code == 400


def test_a_flood_of_form_submissions_is_throttled(client, district, settings):
    settings.PETITIONS = {"submit_per_minute": 2, "read_per_minute": 1000}
    here = inside()
    data = {"category": "khac", "description": "spam", "lat": here.y, "lon": here.x}
    codes = [client.post("/petitions/", data, REMOTE_ADDR="198.51.100.9").status_code for _ in range(4)]
    assert codes == [302, 302, 429, 429]
    assert Petition.objects.count() == 2


def test_reads_are_throttled_too(client, district, settings):
    settings.PETITIONS = {"submit_per_minute": 5, "read_per_minute": 3}
    codes = [client.get("/petitions/track/", REMOTE_ADDR="198.51.100.10").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_the_throttle_key_is_the_proxy_reported_address_only_when_trusted(client, district, settings):
    settings.PETITIONS = {"submit_per_minute": 5, "read_per_minute": 2}
    settings.IOC_TRUSTED_PROXIES = ["10.0.0.1"]
    for i in range(3):
        response = client.get("/petitions/track/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        assert response.status_code == 200, "different clients behind the same proxy"
    settings.IOC_TRUSTED_PROXIES = []  # untrusted: a client cannot dodge the limit by inventing addresses
    codes = [
        client.get("/petitions/track/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]


def test_the_form_speaks_english_when_asked(client, district):
    client.cookies["django_language"] = "en"  # what the EN switch sets
    body = client.get("/petitions/").content.decode()
    assert "Report a problem to the district" in body and "Use my location (GPS)" in body
    assert "Gửi phản ánh, kiến nghị" not in body


def test_every_small_public_endpoint_is_throttled(client, district, settings):
    settings.PETITIONS = {"submit_per_minute": 2, "read_per_minute": 2}
    for url in ("/field/api/communes.geojson", "/field/manifest.webmanifest", "/field/sw.js", "/open311/v2/"):
        codes = [client.get(url, REMOTE_ADDR="198.51.100.20").status_code for _ in range(3)]
        assert codes == [200, 200, 429], url
    # /field/login/ is bounded by the login throttling of every sign-in page (tests/gis_ioc/test_login_throttling.py).
