"""Spatial context attached at intake: commune, parcel, approved-plan zone, nearest school and clinic,
routing suggestion, and duplicate suggestions (same category, 100 m, 14 days)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import MultiPolygon, Point
from django.utils import timezone

from layers.models import HealthFacility, LandParcel, PlanningPlan, PlanningZone, School
from petitions import intake
from petitions.models import Petition, PetitionEvent, PetitionReporter, RoutingRule
from tests.petitions.conftest import inside, metres_east, new_petition


def square(center: Point, half_deg: float) -> MultiPolygon:
    x, y = center.x, center.y
    poly = Point(x, y).buffer(half_deg, quadsegs=1).envelope
    poly.srid = 4326
    return MultiPolygon(poly, srid=4326)


@pytest.fixture
def surroundings(district):
    here = inside("24931")
    parcel = LandParcel.objects.create(
        sheet_number=12, parcel_number=345, area_m2=900, land_use="ONT", geom=square(here, 0.0002)
    )
    approved = PlanningPlan.objects.create(
        name="QH chung 2030",
        level="chung",
        period_start=2021,
        period_end=2030,
        status="approved",
        approved_on=dt.date(2022, 5, 1),
    )
    draft = PlanningPlan.objects.create(name="Dự thảo 2040", level="chung", period_start=2031, period_end=2040)
    zone = PlanningZone.objects.create(plan=approved, zone_code="A1", land_use="ODT", geom=square(here, 0.01))
    PlanningZone.objects.create(plan=draft, zone_code="D9", land_use="TMD", geom=square(here, 0.01))
    near_school = School.objects.create(name="Trường TH Gần", level="tieu_hoc", geom=metres_east(here, 300))
    School.objects.create(name="Trường THCS Xa", level="thcs", geom=metres_east(here, 2500))
    clinic = HealthFacility.objects.create(name="Trạm y tế", facility_type="tram_y_te", geom=metres_east(here, 800))
    return {"here": here, "parcel": parcel, "zone": zone, "school": near_school, "clinic": clinic}


def test_intake_attaches_commune_parcel_zone_and_nearest_facilities(surroundings, agency):
    RoutingRule.objects.create(category="dat_dai", commune_code="24931", agency=agency)
    result = intake.create_petition(
        category="dat_dai",
        description="Lấn chiếm đất",
        point=surroundings["here"],
        reporter=intake.Reporter("Phạm D", "0987654321"),
    )
    p = result.petition
    assert p.commune_code == "24931"
    assert p.land_parcel == surroundings["parcel"]
    assert p.planning_zone == surroundings["zone"], "the zone must come from the approved plan, not the draft"
    assert p.nearest_school == surroundings["school"]
    assert 290 < p.nearest_school_m < 310, "distance in metres on the geography"
    assert p.nearest_health == surroundings["clinic"] and 790 < p.nearest_health_m < 810
    assert result.agency == agency
    assert PetitionReporter.objects.filter(petition=p, phone="0987654321").exists()
    assert PetitionEvent.objects.filter(petition=p, action="receive").count() == 1
    assert p.due_at == p.received_at + dt.timedelta(days=30)


def test_a_location_outside_the_district_is_refused(district):
    with pytest.raises(intake.IntakeError) as err:
        new_petition(point=Point(106.70, 10.78, srid=4326))  # Ho Chi Minh City
    assert err.value.field == "location" and "ngoài huyện" in err.value.message
    assert not Petition.objects.exists()


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        ("", "108.5", "lat"),
        ("11.7", None, "lon"),
        ("abc", "108.5", "lat"),
        ("11.7", "1e999", "lon"),
        ("95", "108.5", "lat"),
    ],
)
def test_missing_or_non_numeric_coordinates_are_refused(lat, lon, field):
    with pytest.raises(intake.IntakeError) as err:
        intake.parse_point(lat, lon)
    assert err.value.field == field


def test_duplicates_are_suggested_within_100_m_and_14_days(district):
    first = new_petition()
    near = metres_east(first.geom, 80)
    far = metres_east(first.geom, 150)
    assert list(intake.duplicate_candidates("moi_truong", near)) == [first]
    assert list(intake.duplicate_candidates("moi_truong", far)) == []
    assert list(intake.duplicate_candidates("giao_duc", near)) == []
    Petition.objects.filter(pk=first.pk).update(received_at=timezone.now() - dt.timedelta(days=20))
    assert list(intake.duplicate_candidates("moi_truong", near)) == []


def test_intake_returns_the_duplicate_suggestions(district):
    first = new_petition()
    second = intake.create_petition(
        category="moi_truong", description="Lại đổ rác", point=metres_east(first.geom, 50), reporter=intake.Reporter()
    )
    assert second.duplicates == [first]
    assert 45 < second.duplicates[0].distance_m < 55


def test_a_commune_named_in_an_address_gives_an_approximate_point(district):
    point = intake.locate_address("thôn Lạc Sơn, xã Lạc Xuân, Đơn Dương")
    assert point is not None
    assert intake.commune_at(point).code == "24934"
    assert intake.locate_address("số 5 đường không tên") is None


def test_vietnamese_text_is_stored_nfc(district):
    decomposed = "Đường bị sạt lở".encode().decode()  # already NFC
    import unicodedata

    p = new_petition(description=unicodedata.normalize("NFD", decomposed))
    assert p.description == unicodedata.normalize("NFC", decomposed)
