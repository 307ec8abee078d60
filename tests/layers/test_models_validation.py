"""Bad input for the sector models: each a clear ValidationError naming the field, and nothing saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from layers.models import BudgetRevenue, Dossier, Indicator, LandParcel, PlanningPlan, School
from layers.validation import error_text, repair_geometry
from tests import factories as f

BOW_TIE = Polygon(((108.49, 11.76), (108.495, 11.765), (108.495, 11.76), (108.49, 11.765), (108.49, 11.76)), srid=4326)


@pytest.fixture(autouse=True)
def vietnamese():
    with translation.override("vi"):
        yield


def rejected(record, field: str) -> str:
    """full_clean must fail on `field`; returns its message. The record must not be saved by the caller."""
    with pytest.raises(ValidationError) as exc:
        record.full_clean()
    assert field in exc.value.message_dict, exc.value.message_dict
    return " ".join(exc.value.message_dict[field])


def test_a_feature_outside_every_commune_is_rejected_with_the_reason(district):
    school = f.SchoolFactory.build(geom=Point(106.70, 10.77, srid=4326))  # Hồ Chí Minh City
    message = rejected(school, "geom")
    assert "nằm ngoài mọi xã" in message and "106.70000" in message
    assert not School.objects.exists()


def test_a_self_intersecting_parcel_is_rejected_with_the_geos_reason(district):
    parcel = f.LandParcelFactory.build(geom=MultiPolygon(BOW_TIE, srid=4326))
    message = rejected(parcel, "geom")
    assert "không hợp lệ" in message and "Self-intersection" in message
    assert not LandParcel.objects.exists()


def test_the_database_refuses_an_invalid_polygon_even_without_full_clean(district):
    parcel = f.LandParcelFactory.build(geom=MultiPolygon(BOW_TIE, srid=4326), commune_code="24931")
    with pytest.raises(IntegrityError, match="parcel_geom_valid"), transaction.atomic():
        parcel.save()
    assert not LandParcel.objects.exists()


def test_the_import_path_repairs_a_self_intersecting_polygon_with_a_note(district):
    fixed, note = repair_geometry(BOW_TIE)
    assert fixed.valid and fixed.geom_type == "MultiPolygon" and len(fixed) == 2
    assert "Self-intersection" in note
    parcel = f.LandParcelFactory(geom=fixed)
    assert parcel.commune_code == "24931"


def test_a_duplicate_parcel_key_is_rejected(district):
    f.LandParcelFactory(sheet_number=12, parcel_number=345)
    twin = f.LandParcelFactory.build(sheet_number=12, parcel_number=345)
    with pytest.raises(ValidationError) as exc:
        twin.full_clean()
    assert "Trùng khóa thửa" in error_text(exc.value)
    assert LandParcel.objects.count() == 1
    # The same key in another commune is another parcel.
    f.LandParcelFactory(in_commune="24937", sheet_number=12, parcel_number=345).full_clean()


def test_a_negative_area_is_rejected(district):
    assert rejected(f.LandParcelFactory.build(area_m2=-5), "area_m2")
    assert not LandParcel.objects.exists()


def test_a_negative_pupil_count_is_rejected(district):
    assert rejected(f.SchoolFactory.build(pupils=-1), "pupils")
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.filter(pk=f.SchoolFactory().pk).update(pupils=-1)


def test_a_negative_amount_is_rejected(district):
    assert rejected(f.BudgetRevenueFactory.build(actual=Decimal(-1000)), "actual")
    assert rejected(f.HouseholdBusinessFactory.build(monthly_tax=Decimal(-1)), "monthly_tax")
    assert not BudgetRevenue.objects.exists()


def test_an_unknown_land_use_code_is_rejected_and_a_lower_case_one_normalised(district):
    message = rejected(f.LandParcelFactory.build(land_use="XYZ"), "land_use")
    assert "XYZ" in message and "không có trong danh mục" in message
    parcel = f.LandParcelFactory.build(land_use=" cln")
    parcel.full_clean()
    assert parcel.land_use == "CLN"
    with pytest.raises(IntegrityError, match="parcel_land_use_valid"), transaction.atomic():
        f.LandParcelFactory(land_use="XYZ")


def test_a_resolved_date_before_the_received_date_is_rejected(district):
    dossier = f.DossierFactory.build(received_date=dt.date(2024, 3, 10), resolved_date=dt.date(2024, 3, 1))
    assert "trước ngày tiếp nhận" in rejected(dossier, "resolved_date")
    assert not Dossier.objects.exists()


def test_a_tabular_record_without_a_commune_is_rejected(district):
    dossier = f.DossierFactory.build(commune=None, commune_code="")
    assert rejected(dossier, "commune")


def test_a_resolved_dossier_needs_its_resolution_date(district):
    dossier = f.DossierFactory.build(status=Dossier.Status.RESOLVED, resolved_date=None)
    assert rejected(dossier, "resolved_date")


def test_a_rate_above_100_percent_and_a_negative_indicator_are_rejected(district):
    assert rejected(f.IndicatorFactory.build(code="poor_household_rate", value=140, unit="%"), "value")
    assert rejected(f.IndicatorFactory.build(value=-3), "value")
    assert not Indicator.objects.exists()


def test_revenue_months_are_stored_as_their_first_day(district):
    row = f.BudgetRevenueFactory.build(month=dt.date(2024, 3, 15))
    row.full_clean()
    assert row.month == dt.date(2024, 3, 1)


def test_an_approved_plan_needs_its_decision_and_a_period_in_order(db):
    assert rejected(PlanningPlan(name="x", level="chung", period_start=2025, period_end=2015), "period_end")
    assert rejected(
        PlanningPlan(name="x", level="chung", period_start=2015, period_end=2025, status="approved"),
        "approval_decision",
    )


def test_a_registration_date_in_the_future_is_rejected(district):
    business = f.HouseholdBusinessFactory.build(registration_date=dt.date.today() + dt.timedelta(days=3))
    assert rejected(business, "registration_date")


def test_every_sector_table_has_its_checks_in_the_database(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'c' AND conname LIKE '%%_valid'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"parcel_geom_valid", "zone_geom_valid", "parcel_land_use_valid", "school_level_valid"} <= names


def test_a_tabular_record_given_only_a_commune_code_is_linked_to_that_commune(district):
    row = f.BudgetRevenueFactory.build(commune=None, commune_code="24940")
    row.full_clean()
    assert row.commune.name == "Xã Lạc Lâm"
    assert "99999" in rejected(f.BudgetRevenueFactory.build(commune=None, commune_code="99999"), "commune_code")
