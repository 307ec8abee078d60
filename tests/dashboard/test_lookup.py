"""The citizens' planning lookup (issue 18, item 3): by cadastral key, by a tap on the map, by a place name;
the approved plan and the draft (labelled), the zone's limits, the decision, the conflict; only what the
catalog publishes; a printable A4 sheet with a QR code; clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.test import Client

from layers.demo import publish_cadastre
from layers.models import Layer, PlanningPlan
from tests.factories import LandParcelFactory, PlanningPlanFactory, PlanningZoneFactory

pytestmark = pytest.mark.django_db
API = "/planning/api/lookup"


@pytest.fixture
def plan_area(district):
    """A perennial-crop parcel (CLN) of Thạnh Mỹ under a housing zone (ONT) of the approved plan, and a
    draft that keeps it a crop zone."""
    parcel = LandParcelFactory(in_commune="24931", sheet_number=12, parcel_number=345, land_use="CLN")
    around = MultiPolygon(parcel.geom.buffer(0.0005), srid=4326)
    approved = PlanningPlanFactory(name="QH sử dụng đất 2021–2030", approval_decision="QĐ 456/QĐ-UBND",
                                   approved_on=dt.date(2022, 3, 15), period_start=2021, period_end=2030)  # fmt: skip
    draft = PlanningPlanFactory(name="QH điều chỉnh (lấy ý kiến)", status=PlanningPlan.Status.DRAFT,
                                approval_decision="", period_start=2026, period_end=2035)  # fmt: skip
    PlanningZoneFactory(plan=approved, zone_code="ONT-07", land_use="ONT", max_density=60, max_height=15,
                        geom=around, in_commune="24931")  # fmt: skip
    PlanningZoneFactory(plan=draft, zone_code="CLN-02", land_use="CLN", geom=around, in_commune="24931")
    return parcel


def test_a_citizen_looks_up_a_parcel_by_its_key(plan_area, client):
    refused = client.get(API, {"key": "24931/12/345"})
    assert refused.status_code == 404 and "chưa được công khai" in refused.json()["error"]
    publish_cadastre()
    body = client.get(API, {"key": " 24931 / 12 / 345 "}).json()
    assert body["parcel"]["key"] == "24931/12/345" and body["parcel"]["land_use_name"].startswith("CLN")
    assert "certificate_status" not in body["parcel"]["properties"]  # the catalog keeps it for staff
    approved, draft = body["plans"]
    assert not approved["draft"] and draft["draft"] and "DỰ THẢO" in draft["label"]
    assert approved["properties"]["approval_decision"] == "QĐ 456/QĐ-UBND"
    assert approved["properties"]["approved_on"] == "2022-03-15"
    assert approved["zone"]["properties"] == {"zone_code": "ONT-07", "land_use": "ONT", "max_density": 60.0,
                                              "max_height": 15.0}  # fmt: skip
    assert approved["conflict"]["conflicts"] is True and draft["conflict"]["conflicts"] is False
    page = client.get("/planning/lookup/", {"key": "24931/12/345"}).content.decode()
    assert "QĐ 456/QĐ-UBND" in page and "15/03/2022" in page and 'data-conflict="1"' in page
    assert "Nguyễn" not in page  # owner data never (the factory's parcels carry none; nor does the answer)


def test_a_tap_on_the_map_answers_with_the_plans_at_that_point(plan_area, client):
    point = plan_area.geom.point_on_surface
    body = client.get(API, {"lon": point.x, "lat": point.y}).json()
    assert body["commune"]["code"] == "24931" and body["parcel"] is None  # parcels not published
    assert body["plans"][0]["zone"]["properties"]["zone_code"] == "ONT-07"
    publish_cadastre()
    body = client.get(API, {"lon": point.x, "lat": point.y}).json()
    assert body["parcel"]["key"] == "24931/12/345"


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({}, 400, "24931/12/345"),
        ({"key": "24931-12"}, 400, "không đúng mẫu"),
        ({"key": "24931/0/5"}, 400, "bắt đầu từ 1"),
        ({"key": "99999/1/1"}, 404, "99999"),
        ({"key": "24931/99/9999"}, 404, "9999"),
        ({"lon": "108.5"}, 400, "vĩ độ"),
        ({"lon": "abc", "lat": "11"}, 400, "Kinh độ"),
        ({"lon": "200", "lat": "11"}, 400, "-180"),
        ({"lon": "105.8", "lat": "21.0"}, 400, "ngoài địa bàn"),
        ({"q": "x"}, 400, "2 chữ cái"),
        ({"q": "Không có nơi này"}, 404, "Không tìm thấy"),
    ],
)
def test_a_question_that_cannot_be_answered_says_why(plan_area, client, query, status, words):
    publish_cadastre()
    answer = client.get(API, query)
    assert answer.status_code == status and words in answer.json()["error"]


def test_a_place_name_finds_the_commune(plan_area, client):
    places = client.get(API, {"q": "Thạnh Mỹ"}).json()["places"]
    assert any("Thạnh Mỹ" in p["label"] for p in places)


def test_the_printed_sheet_has_the_decision_an_extract_and_a_qr_code(plan_area, client):
    publish_cadastre()
    sheet = client.get("/planning/lookup/print", {"key": "24931/12/345"}).content.decode()
    assert "QĐ 456/QĐ-UBND" in sheet and "<svg" in sheet and 'class="extract"' in sheet
    assert "/planning/lookup/?key=24931%2F12%2F345" in sheet  # the QR code's link, printed under it too


def test_the_lookup_is_throttled_like_the_other_public_doors(plan_area, settings):
    from petitions.conf import conf

    client = Client(REMOTE_ADDR="203.0.113.9")
    limit = conf().read_per_minute
    answers = [client.get(API, {"key": "24931/12/345"}).status_code for _ in range(limit + 1)]
    assert answers[-1] == 429 and 429 not in answers[:-1]


def test_a_scoped_officer_sees_only_his_communes_parcels(plan_area):
    from gis_ioc import roles
    from tests.conftest import make_user

    Layer.objects.filter(slug="land-parcels").update(visibility="staff")
    elsewhere = make_user("lookup-daron", roles.FIELD_OFFICER, communes=["24937"])
    client = Client()
    client.force_login(elsewhere)
    assert client.get(API, {"key": "24931/12/345"}).status_code == 404


@pytest.mark.slow
def test_the_pdf_is_an_a4_page_with_the_decision(plan_area, client):
    publish_cadastre()
    answer = client.get("/planning/lookup/pdf", {"key": "24931/12/345"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    pdf = answer.content
    assert pdf.startswith(b"%PDF") and b"/MediaBox [0 0 595" in pdf.replace(b"  ", b" ")
