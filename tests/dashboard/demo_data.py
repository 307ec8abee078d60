"""A small, demo-like district for the dashboard's tests: a few records of every sector in every commune,
with figures that differ between communes (so a choropleth has classes) and between months (so the
time selector changes the KPIs). Built with the factories in well under a second."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from gis_ioc.models import AdminUnit
from layers.models import Indicator
from petitions.models import Category, Status
from tests.factories import (
    BudgetRevenueFactory,
    DossierFactory,
    HealthFacilityFactory,
    IndicatorFactory,
    LandParcelFactory,
    PetitionFactory,
    PlanningPlanFactory,
    PlanningZoneFactory,
    SchoolFactory,
    square_at,
)

YEAR = 2024
CATEGORIES = [Category.MOI_TRUONG, Category.DAT_DAI, Category.GIAO_THONG, Category.Y_TE]


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, 9, 0))


def _points(per_commune: int) -> dict[str, list[Point]]:
    """Deterministic points inside every current commune, from one query (the factories' own placement
    runs a geodesic buffer per feature, which is what made this fixture slow)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT code, ST_X(p.geom), ST_Y(p.geom)
            FROM gis_ioc_adminunit u,
                 LATERAL ST_Dump(ST_GeneratePoints(ST_Buffer(u.geom, -0.002), %s, 7)) p
            WHERE u.level = 'commune' AND u.valid_to IS NULL ORDER BY code, p.path
            """,
            [per_commune],
        )
        out: dict[str, list[Point]] = {}
        for code, x, y in cursor.fetchall():
            out.setdefault(code, []).append(Point(x, y, srid=4326))
    return out


def build() -> dict[str, object]:
    """Create the records; returns the two plans and the conflicting parcel."""
    units = {u.code: u for u in AdminUnit.objects.current().communes().order_by("code").defer("geom")}
    communes = list(units)
    points = _points(16)
    for i, code in enumerate(communes):
        spot = iter(points[code])
        # The commune is known: giving it spares every record a spatial lookup of its commune.
        at = {"in_commune": code, "commune": units[code], "commune_code": code}
        IndicatorFactory(**at, code=Indicator.Code.POPULATION, year=YEAR, value=8000 + 2500 * i)
        for _ in range(1 + i % 3):
            SchoolFactory(**at, geom=next(spot))
        HealthFacilityFactory(**at, geom=next(spot))
        # Petitions: i + 1 in March (all open), one in September resolved on time.
        for n in range(i + 1):
            received = _aware(dt.date(YEAR, 3, 1 + n))
            PetitionFactory(
                **at,
                category=CATEGORIES[n % len(CATEGORIES)],
                received_at=received,
                due_at=received + dt.timedelta(days=10),
                status=Status.IN_PROGRESS,
                geom=next(spot),
            )
        received = _aware(dt.date(YEAR, 9, 2))
        PetitionFactory(
            **at,
            received_at=received,
            due_at=received + dt.timedelta(days=10),
            status=Status.RESOLVED,
            resolved_at=received + dt.timedelta(days=4),
            geom=next(spot),
        )
        for month in (1, 2, 3, 9):
            late = (i + month) % 3 == 0
            DossierFactory(
                **at,
                received_date=dt.date(YEAR, month, 3),
                resolved_date=dt.date(YEAR, month, 3) + dt.timedelta(days=20 if late else 5),
            )
            BudgetRevenueFactory(
                **at,
                month=dt.date(YEAR, month, 1),
                planned=Decimal("100000000"),
                actual=Decimal(60_000_000 + 5_000_000 * i + 1_000_000 * month),
            )
    plan_a = PlanningPlanFactory(name="Quy hoạch sử dụng đất 2015–2025", period_start=2015, period_end=2025)
    plan_b = PlanningPlanFactory(name="Quy hoạch sử dụng đất 2021–2030", period_start=2021, period_end=2030)
    # Zones well inside their commune (points >= 0.002° from the boundary, squares 0.001° each side), so
    # that no zone straddles two communes whatever the factories' sequence numbers are.
    zone_a = PlanningZoneFactory(
        plan=plan_a, in_commune="24931", land_use="CLN", zone_code="A-01", geom=square_at(points["24931"][-1], 0.001)
    )
    PlanningZoneFactory(plan=plan_b, in_commune="24931", land_use="ODT", zone_code="B-01", geom=zone_a.geom)
    PlanningZoneFactory(
        plan=plan_a, in_commune="24937", land_use="RSX", zone_code="A-02", geom=square_at(points["24937"][-1], 0.001)
    )
    center = zone_a.geom.centroid
    parcel = LandParcelFactory(
        in_commune="24931", sheet_number=12, parcel_number=345, land_use="CLN", geom=square_at(center, 0.0003)
    )
    return {"plan_a": plan_a, "plan_b": plan_b, "conflict": parcel, "communes": communes}
