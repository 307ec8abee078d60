"""factory_boy factories for every sector model (and the petition record).

They need the demo communes in the test database: use the `district` fixture. Features are placed at a
deterministic random point inside the commune given by `in_commune` (a GSO code of a *current* commune,
Thạnh Mỹ 24931 by default), so the commune is assigned spatially on save, as in production.

    SchoolFactory(in_commune="24937", pupils=300, teachers=20)
    LandParcelFactory(in_commune="24931", sheet_number=12, parcel_number=345, land_use="CLN")
    DossierFactory(in_commune="24928", received_date=date(2024, 3, 1), resolved_date=None)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.db import connection
from django.utils import timezone
from factory.django import DjangoModelFactory

from gis_ioc.models import AdminUnit
from layers.models import (
    BudgetRevenue,
    CropArea,
    Dossier,
    Farm,
    HealthFacility,
    HouseholdBusiness,
    Indicator,
    LandParcel,
    PlanningPlan,
    PlanningZone,
    School,
    TourismSite,
    VisitorCount,
)
from petitions.models import Category, Petition, Status

DEFAULT_COMMUNE = "24931"  # Thị trấn Thạnh Mỹ


def current_commune(code: str) -> AdminUnit:
    """The current AdminUnit row of a commune code."""
    return AdminUnit.objects.current().communes().get(code=code)


def point_in(code: str, seed: int) -> Point:
    """A deterministic point strictly inside the current commune `code` (ST_GeneratePoints with a seed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ST_AsEWKB((ST_Dump(ST_GeneratePoints(ST_Buffer(geom::geography, -60)::geometry, 1, %s))).geom)
            FROM gis_ioc_adminunit
            WHERE code = %s AND level = 'commune' AND valid_to IS NULL
            """,
            [seed + 1, code],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no current commune {code}: load the `district` fixture first")
    return GEOSGeometry(memoryview(bytes(row[0])))


def square_at(point: Point, half_side_deg: float = 0.0002) -> MultiPolygon:
    """A small square (about 44 m across for the default) centred on the point."""
    x, y = point.x, point.y
    h = half_side_deg
    ring = ((x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h), (x - h, y - h))
    return MultiPolygon(Polygon(ring), srid=4326)


class _InCommune(DjangoModelFactory):
    """Base: `in_commune` (a GSO code) decides where the feature lies."""

    class Meta:
        abstract = True

    class Params:
        in_commune = DEFAULT_COMMUNE


class SchoolFactory(_InCommune):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"Trường Tiểu học số {n + 1}")
    level = School.Level.TIEU_HOC
    ownership = School.Ownership.PUBLIC
    pupils = 400
    teachers = 20
    classrooms = 15
    figures_year = 2024
    geom = factory.LazyAttributeSequence(lambda o, n: point_in(o.in_commune, n))


class HealthFacilityFactory(_InCommune):
    class Meta:
        model = HealthFacility

    name = factory.Sequence(lambda n: f"Trạm Y tế số {n + 1}")
    facility_type = HealthFacility.Type.TRAM_Y_TE
    beds = 5
    doctors = 1
    staff = 6
    geom = factory.LazyAttributeSequence(lambda o, n: point_in(o.in_commune, 1000 + n))


class HouseholdBusinessFactory(_InCommune):
    class Meta:
        model = HouseholdBusiness

    name = factory.Sequence(lambda n: f"Tạp hóa Hồng Nhung {n + 1}")
    business_line = "Bán lẻ tạp hóa"
    registration_number = factory.Sequence(lambda n: f"42D8-{n + 1:06d}")
    registration_date = dt.date(2020, 5, 4)
    status = HouseholdBusiness.Status.ACTIVE
    monthly_tax = Decimal("300000")
    owner_name = "Nguyễn Thị Nhung"
    owner_id_number = "068190001234"
    owner_phone = "0912345678"
    address = "Thôn Lạc Thạnh"
    geom = factory.LazyAttributeSequence(lambda o, n: point_in(o.in_commune, 2000 + n))


class LandParcelFactory(_InCommune):
    class Meta:
        model = LandParcel

    sheet_number = 1
    parcel_number = factory.Sequence(lambda n: n + 1)
    area_m2 = 1936.0
    land_use = "CLN"
    certificate_status = LandParcel.Certificate.GRANTED
    geom = factory.LazyAttributeSequence(lambda o, n: square_at(point_in(o.in_commune, 3000 + n)))


class PlanningPlanFactory(DjangoModelFactory):
    class Meta:
        model = PlanningPlan

    name = factory.Sequence(lambda n: f"Quy hoạch sử dụng đất huyện Đơn Dương {n + 1}")
    level = PlanningPlan.Level.SU_DUNG_DAT
    period_start = 2015
    period_end = 2025
    status = PlanningPlan.Status.APPROVED
    approval_decision = "QĐ 123/QĐ-UBND"


class PlanningZoneFactory(_InCommune):
    class Meta:
        model = PlanningZone

    plan = factory.SubFactory(PlanningPlanFactory)
    zone_code = factory.Sequence(lambda n: f"Z{n + 1:03d}")
    land_use = "CLN"
    max_density = 40.0
    max_height = 12.0
    geom = factory.LazyAttributeSequence(lambda o, n: square_at(point_in(o.in_commune, 4000 + n), 0.002))


class PetitionFactory(_InCommune):
    class Meta:
        model = Petition

    tracking_code = factory.Sequence(lambda n: f"PA-T{n + 1:06d}")
    category = Category.MOI_TRUONG
    description = "Rác thải đổ trộm ven đường liên thôn"
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    due_at = factory.LazyAttribute(lambda o: o.received_at + dt.timedelta(days=10))
    status = Status.RECEIVED
    resolved_at = None
    reporter_name = "Trần Văn An"
    reporter_phone = "0987654321"
    geom = factory.LazyAttributeSequence(lambda o, n: point_in(o.in_commune, 5000 + n))


class _Tabular(_InCommune):
    """Tabular records: located by their commune, not by a geometry of their own."""

    class Meta:
        abstract = True

    commune = factory.LazyAttribute(lambda o: current_commune(o.in_commune))
    commune_code = factory.LazyAttribute(lambda o: o.in_commune)


class DossierFactory(_Tabular):
    class Meta:
        model = Dossier

    procedure_code = "1.001612"
    procedure_name = "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu"
    field = "Đất đai"
    received_date = dt.date(2024, 3, 1)
    due_date = factory.LazyAttribute(lambda o: o.received_date + dt.timedelta(days=15))
    resolved_date = factory.LazyAttribute(lambda o: o.received_date + dt.timedelta(days=10))
    status = factory.LazyAttribute(lambda o: Dossier.Status.RESOLVED if o.resolved_date else Dossier.Status.PROCESSING)


class BudgetRevenueFactory(_Tabular):
    class Meta:
        model = BudgetRevenue

    month = dt.date(2024, 1, 1)
    source = BudgetRevenue.Source.TAX
    planned = Decimal("100000000")
    actual = Decimal("90000000")


class IndicatorFactory(_Tabular):
    class Meta:
        model = Indicator

    code = Indicator.Code.POPULATION
    year = 2024
    value = 10000.0
    unit = "người"


class CropAreaFactory(_InCommune):
    class Meta:
        model = CropArea

    crop = CropArea.Crop.FLOWERS
    season = CropArea.Season.ALL_YEAR
    year = 2025
    greenhouse = True
    certification = CropArea.Certification.VIETGAP
    area_m2 = 1936.0
    grower = "Hộ ông Nguyễn Văn Hoa"
    geom = factory.LazyAttributeSequence(lambda o, n: square_at(point_in(o.in_commune, 6000 + n)))


class FarmFactory(_InCommune):
    class Meta:
        model = Farm

    name = factory.Sequence(lambda n: f"HTX rau an toàn số {n + 1}")
    kind = Farm.Kind.COOPERATIVE
    product = Farm.Product.VEGETABLES
    members = 25
    area_ha = 12.5
    geom = factory.LazyAttributeSequence(lambda o, n: point_in(o.in_commune, 7000 + n))


class TourismSiteFactory(_InCommune):
    class Meta:
        model = TourismSite

    name = factory.Sequence(lambda n: f"Homestay vườn hoa {n + 1}")
    kind = TourismSite.Kind.HOMESTAY
    rooms = 6
    beds = 12
    geom = factory.LazyAttributeSequence(lambda o, n: point_in(o.in_commune, 8000 + n))


class VisitorCountFactory(_Tabular):
    class Meta:
        model = VisitorCount

    site = factory.SubFactory(TourismSiteFactory, in_commune=factory.SelfAttribute("..in_commune"))
    month = dt.date(2025, 6, 1)
    visitors = 320
    overnight = 210
