"""Intake: validate a new petition, attach its spatial context, suggest duplicates, store it.

Spatial context (all from PostGIS, at the moment of reception):
- commune: the current commune covering the point; outside every commune the petition is refused;
- land parcel covering the point; planning zone of the newest approved plan covering it;
- nearest school and health facility: KNN (`<->`, GiST index) picks a few candidates in degrees, then
  the exact distance in metres on the geography decides (degrees are not metres at 11.7° N).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_ioc.lib.text import fold
from gis_ioc.models import AdminUnit
from layers.models import HealthFacility, LandParcel, PlanningZone, School
from petitions import workflow
from petitions.attachments import ProcessedImage, save_attachment
from petitions.conf import conf
from petitions.layer import petition_changed
from petitions.models import (
    Agency,
    Category,
    Petition,
    PetitionReporter,
    RoutingRule,
    Source,
    Status,
)

MAX_DESCRIPTION = 5000


class IntakeError(ValueError):
    """Refused input; `field` names the form/API parameter to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class SpatialContext:
    commune: AdminUnit
    parcel: LandParcel | None = None
    zone: PlanningZone | None = None
    school: School | None = None
    school_m: float | None = None
    health: HealthFacility | None = None
    health_m: float | None = None


@dataclass
class Reporter:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class IntakeResult:
    petition: Petition
    duplicates: list[Petition] = field(default_factory=list)
    agency: Agency | None = None
    # The filer's receipt secret, in clear this once only (the petition keeps its digest): show it to him.
    receipt: str = ""


def parse_point(lat: Any, lon: Any, *, lat_field: str = "lat", lon_field: str = "lon") -> Point:
    """A WGS 84 point from text; IntakeError for missing, non-numeric or impossible values."""
    values = []
    for raw, name in ((lat, lat_field), (lon, lon_field)):
        if raw is None or str(raw).strip() == "":
            raise IntakeError(name, _("Thiếu tọa độ (%(f)s): chạm vào bản đồ hoặc dùng GPS.") % {"f": name})
        try:
            value = float(str(raw).strip().replace(",", "."))
        except ValueError:
            raise IntakeError(
                name, _("Tọa độ %(f)s không phải là số: “%(v)s”.") % {"f": name, "v": str(raw)[:40]}
            ) from None
        if not math.isfinite(value):
            raise IntakeError(name, _("Tọa độ %(f)s không hợp lệ.") % {"f": name})
        values.append(value)
    lat_v, lon_v = values
    if not (-90 <= lat_v <= 90 and -180 <= lon_v <= 180):
        raise IntakeError(lat_field, _("Tọa độ ngoài phạm vi (vĩ độ −90…90, kinh độ −180…180)."))
    return Point(lon_v, lat_v, srid=4326)


def commune_at(point: Point) -> AdminUnit:
    """The current commune covering the point, or IntakeError when it lies outside the district."""
    unit = AdminUnit.objects.current().communes().filter(geom__covers=point).order_by("area_km2").first()
    if unit is None:
        raise IntakeError(
            "location",
            _("Vị trí (%(lat).5f, %(lon).5f) nằm ngoài huyện Đơn Dương; hệ thống chỉ nhận phản ánh trong huyện.")
            % {"lat": point.y, "lon": point.x},
        )
    return unit


def _nearest(model: type[Any], point: Point) -> tuple[Any | None, float | None]:
    """Nearest row by true distance: 8 KNN candidates by index order, re-ranked in metres on the geography."""
    table = model._meta.db_table
    sql = f"""
        SELECT id, ST_Distance(geom::geography, ST_GeomFromEWKT(%s)::geography) AS metres
        FROM (SELECT id, geom FROM {table} ORDER BY geom <-> ST_GeomFromEWKT(%s) LIMIT 8) AS knn
        ORDER BY metres LIMIT 1
    """  # noqa: S608 - table name from model metadata
    with connection.cursor() as cursor:
        cursor.execute(sql, [point.ewkt, point.ewkt])
        row = cursor.fetchone()
    if row is None:
        return None, None
    return model.objects.get(pk=row[0]), round(float(row[1]), 1)


def spatial_context(point: Point) -> SpatialContext:
    """Commune, parcel, approved-plan zone and nearest school/health facility of a point."""
    ctx = SpatialContext(commune=commune_at(point))
    ctx.parcel = LandParcel.objects.filter(geom__covers=point).order_by("area_m2").first()
    ctx.zone = (
        PlanningZone.objects.filter(plan__status="approved", geom__covers=point)
        .order_by("-plan__approved_on", "-plan__period_start", "id")
        .first()
    )
    ctx.school, ctx.school_m = _nearest(School, point)
    ctx.health, ctx.health_m = _nearest(HealthFacility, point)
    return ctx


def duplicate_candidates(
    category: str, point: Point, *, at: Any = None, exclude_id: int | None = None
) -> QuerySet[Petition]:
    """Petitions of the same category within 100 m and 14 days (settings), nearest first."""
    cfg = conf()
    at = at or timezone.now()
    window = dt.timedelta(days=cfg.duplicate_days)
    qs = Petition.objects.filter(category=category, received_at__gte=at - window, received_at__lte=at + window).exclude(
        status__in=[Status.REJECTED, Status.DUPLICATE]
    )
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    # The bounding-box test uses the GiST index; ST_DWithin on geography then measures metres exactly.
    margin = cfg.duplicate_radius_m / 100_000 * 2
    return qs.extra(
        select={"distance_m": "ST_Distance(geom::geography, ST_GeomFromEWKT(%s)::geography)"},
        select_params=[point.ewkt],
        where=[
            "geom && ST_Expand(ST_GeomFromEWKT(%s), %s)",
            "ST_DWithin(geom::geography, ST_GeomFromEWKT(%s)::geography, %s)",
        ],
        params=[point.ewkt, margin, point.ewkt, cfg.duplicate_radius_m],
    ).order_by("distance_m")


def clean_text(value: Any, max_len: int) -> str:
    """NFC-normalised, stripped text, cut to max_len (Vietnamese input arrives in both forms)."""
    return unicodedata.normalize("NFC", str(value or "")).strip()[:max_len]


def validate_category(value: Any, field_name: str = "category") -> str:
    if value not in Category.values:
        raise IntakeError(field_name, _("Lĩnh vực không hợp lệ: “%(v)s”.") % {"v": str(value)[:40]})
    return str(value)


def locate_address(address: str) -> Point | None:
    """An approximate point for a free-text address: the commune whose name it mentions (no geocoder)."""
    folded = f" {fold(address)} "
    names = []
    for unit in AdminUnit.objects.current().communes():
        bare = fold(unit.name).replace("thi tran ", "").replace("xa ", "").strip()
        names.append((bare, unit))
    # Longest names first: "ka do" is a prefix of "ka don".
    for bare, unit in sorted(names, key=lambda item: -len(item[0])):
        if bare and f" {bare} " in folded.replace(",", " ").replace(".", " "):
            return unit.geom.point_on_surface
    return None


def create_petition(
    *,
    category: Any,
    description: Any,
    point: Point | None,
    reporter: Reporter,
    source: str = Source.WEB,
    photos: list[ProcessedImage] | None = None,
    address: str = "",
    location_approximate: bool = False,
    actor: Any = None,
) -> IntakeResult:
    """Validate, locate, store a petition with its reporter, photos and first event, atomically."""
    category = validate_category(category)
    text = clean_text(description, MAX_DESCRIPTION + 1)
    if not text:
        raise IntakeError("description", _("Vui lòng mô tả nội dung phản ánh."))
    if len(text) > MAX_DESCRIPTION:
        raise IntakeError("description", _("Nội dung quá dài (tối đa %(n)d ký tự).") % {"n": MAX_DESCRIPTION})
    photos = photos or []
    if point is None:
        # A photo taken on a phone usually carries its GPS position: use it rather than refuse.
        point = next((p.gps for p in photos if p.gps is not None), None)
        if point is None:
            raise IntakeError("lat", _("Thiếu vị trí: chạm vào bản đồ, bật GPS hoặc gửi ảnh có tọa độ."))
    ctx = spatial_context(point)
    with transaction.atomic():
        petition = Petition(
            category=category,
            description=text,
            geom=point,
            commune=ctx.commune,
            commune_code=ctx.commune.code,
            received_at=timezone.now(),
            source=source,
            address=clean_text(address, 300),
            location_approximate=location_approximate,
            reporter_name=clean_text(reporter.name, 200),
            reporter_phone=clean_text(reporter.phone, 20),
            reporter_email=clean_text(reporter.email, 254),
            land_parcel=ctx.parcel,
            planning_zone=ctx.zone,
            nearest_school=ctx.school,
            nearest_school_m=ctx.school_m,
            nearest_health=ctx.health,
            nearest_health_m=ctx.health_m,
        )
        petition.set_deadline()
        receipt = petition.issue_receipt()
        petition.save()
        PetitionReporter.objects.create(
            petition=petition,
            original_petition=petition,
            name=petition.reporter_name,
            phone=petition.reporter_phone,
            email=petition.reporter_email,
        )
        for img in photos:
            save_attachment(img, petition=petition)
        workflow.record(
            petition, "receive", "", actor=actor, actor_label=str(Source(source).label), note="", is_public=True
        )
        petition_changed(petition)
    duplicates = list(duplicate_candidates(category, point, exclude_id=petition.pk)[:5])
    return IntakeResult(petition, duplicates, RoutingRule.agency_for(category, ctx.commune.code), receipt)
