"""The citizens' planning lookup: "what is planned for my parcel?", public, no sign-in.

A question is a cadastral key (commune code / map sheet / parcel number, `24931/12/345`), a point tapped on
the map, or a place name (which only moves the map: the search box's own search, dashboard.search). The
answer: the parcel's current land use, the zone of the newest approved plan covering most of it and of
each draft plan (labelled as a draft), the zone's limits, the plan's decision, and whether the parcel
conflicts with the plan (analysis.zoning.is_conflict, the planners' rule).

What it shows is the catalog's decision for the asking user, through gis_ioc.permissions, like every
other channel (policy channel "dashboard": this is a page of the web app):
- the parcel (key, area, land use, certificate status, outline) only when the `land-parcels` layer is
  visible to the user, each field only when `visible_fields` lists it; the default catalog keeps parcels
  for signed-in staff, so a visitor's key lookup is a 404 saying parcels are not published, while a tap on
  the map still answers with the plans at that point;
- zones through the `planning-zones` layer (public by law), plans through `planning-plans`, the same way;
- a commune-scoped user sees parcels and zones of his communes only;
- owner data never: the answer is built from a fixed list of parcel fields, which has none.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils.translation import gettext as _

from dashboard import params
from gis_ioc import permissions
from gis_ioc.models import AdminUnit
from layers import catalog_cache
from layers.landuse import LAND_USE_CODES
from layers.models import LandParcel, PlanningPlan

PARCELS, ZONES, PLANS = "land-parcels", "planning-zones", "planning-plans"
CHANNEL = "dashboard"
# What the lookup can show of each, at most (then the catalog decides): never an owner, never a free text.
PARCEL_FIELDS = ("commune_code", "sheet_number", "parcel_number", "area_m2", "land_use", "certificate_status")
ZONE_FIELDS = ("zone_code", "land_use", "max_density", "max_height")
PLAN_FIELDS = ("name", "level", "period_start", "period_end", "status", "approval_decision", "approved_on")
KEY = re.compile(r"^\s*(\d{5})\s*/\s*(\d{1,4})\s*/\s*(\d{1,6})\s*$")
MAX_TEXT = 100


@dataclass(frozen=True)
class Question:
    """One lookup: by key (commune, sheet, parcel), by point (lon, lat) or by place name (text)."""

    kind: str  # "key" | "point" | "place"
    commune: str = ""
    sheet: int = 0
    parcel: int = 0
    lon: float = 0.0
    lat: float = 0.0
    text: str = ""

    def query(self) -> dict[str, str]:
        """The URL parameters asking this question again (links, the QR code, the printed sheet)."""
        if self.kind == "key":
            return {"key": f"{self.commune}/{self.sheet}/{self.parcel}"}
        if self.kind == "point":
            return {"lon": f"{self.lon:.6f}", "lat": f"{self.lat:.6f}"}
        return {"q": self.text}


@dataclass
class Policy:
    """What this user may see of parcels, zones and plans (None: the layer is not visible)."""

    parcel_fields: list[str] | None
    zone_fields: list[str] | None
    plan_fields: list[str] | None
    notes: list[str] = field(default_factory=list)


def policy(user: Any) -> Policy:
    """The catalog's answer for this user: visible layers and, of each, the fields the lookup may show."""

    def fields(slug: str, wanted: tuple[str, ...]) -> list[str] | None:
        layer = catalog_cache.current(slug)
        if layer is None or not permissions.can_view_layer(user, layer):
            return None
        shown = set(permissions.visible_fields(user, layer, CHANNEL))
        return [name for name in wanted if name in shown]

    return Policy(fields(PARCELS, PARCEL_FIELDS), fields(ZONES, ZONE_FIELDS), fields(PLANS, PLAN_FIELDS))


# --- the question --------------------------------------------------------------------------------------
def _number(value: str, name: str) -> float:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise params.BadRequest(_("%(name)s phải là một số (độ thập phân), ví dụ 108.49.") % {"name": name})
    return number


def parse(get: Any) -> Question:
    """The question in the request's parameters (`key`, `lon`+`lat` or `q`); BadRequest says what to fix."""
    key, text = (get.get("key") or "").strip(), " ".join((get.get("q") or "").split())
    lon, lat = (get.get("lon") or "").strip(), (get.get("lat") or "").strip()
    if key:
        match = KEY.match(key[: MAX_TEXT + 1])
        if not match:
            raise params.BadRequest(
                _(
                    "Số hiệu thửa “%(key)s” không đúng mẫu. Hãy nhập mã xã (5 chữ số), số tờ bản đồ và số thửa, "
                    "cách nhau bởi dấu /, ví dụ 24931/12/345 (xem trên Giấy chứng nhận quyền sử dụng đất)."
                )
                % {"key": key[:40]}
            )
        commune, sheet, parcel = match.group(1), int(match.group(2)), int(match.group(3))
        if sheet < 1 or parcel < 1:
            raise params.BadRequest(_("Số tờ bản đồ và số thửa bắt đầu từ 1."))
        return Question("key", commune=commune, sheet=sheet, parcel=parcel)
    if lon or lat:
        if not (lon and lat):
            raise params.BadRequest(_("Hãy chạm vào bản đồ để chọn vị trí (cần cả kinh độ và vĩ độ)."))
        x, y = _number(lon, _("Kinh độ")), _number(lat, _("Vĩ độ"))
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise params.BadRequest(_("Vị trí không hợp lệ: kinh độ từ -180 đến 180, vĩ độ từ -90 đến 90."))
        return Question("point", lon=x, lat=y)
    if text:
        if len(text) < 2:
            raise params.BadRequest(_("Hãy nhập ít nhất 2 chữ cái của tên xã, thị trấn hoặc địa danh."))
        if KEY.match(text):  # a key typed into the place box
            return parse({"key": text})
        return Question("place", text=text[:MAX_TEXT])
    raise params.BadRequest(
        _("Hãy nhập số hiệu thửa đất (ví dụ 24931/12/345), tên xã hoặc địa danh, hoặc chạm vào bản đồ.")
    )


# --- the answer ----------------------------------------------------------------------------------------
def land_use_name(code: str | None) -> str:
    """'CLN – Đất trồng cây lâu năm' for a code ('' for none)."""
    if not code:
        return ""
    entry = LAND_USE_CODES.get(code)
    return f"{code} – {entry[0]}" if entry else code


def _plans(pol: Policy) -> list[PlanningPlan]:
    """The newest approved plan, then the drafts (newest first): the plans a citizen asks about."""
    if pol.zone_fields is None:
        return []
    found = list(
        PlanningPlan.objects.filter(status__in=[PlanningPlan.Status.APPROVED, PlanningPlan.Status.DRAFT]).order_by(
            "-period_start", "-approved_on", "-pk"
        )
    )
    approved = [p for p in found if p.status == PlanningPlan.Status.APPROVED][:1]
    return approved + [p for p in found if p.status == PlanningPlan.Status.DRAFT]


# The zones of the plans meeting the parcel (or covering the point), with the share of the parcel each
# covers; the largest overlap of each plan carries its outline. `&&` first so the GiST index on the zones
# is used; areas on the geography type (square metres), never in degrees.
_ZONES_SQL = """
WITH p AS (SELECT {geometry} AS geom),
hit AS (
    SELECT z.id, z.plan_id, z.zone_code, z.land_use, z.max_density, z.max_height, z.commune_code, z.geom,
           ST_Area(ST_Intersection(z.geom, p.geom)::geography) AS m2,
           NULLIF(ST_Area(p.geom::geography), 0) AS whole
    FROM layers_planningzone z CROSS JOIN p
    WHERE z.plan_id = ANY(%s) AND z.geom && p.geom AND ST_Intersects(z.geom, p.geom) AND {scope}
)
SELECT id, plan_id, zone_code, land_use, max_density, max_height, commune_code, m2, m2 / whole,
       CASE WHEN rank = 1 THEN ST_AsGeoJSON(geom, 6) END
FROM (SELECT hit.*, row_number() OVER (PARTITION BY plan_id ORDER BY m2 DESC, zone_code) AS rank FROM hit) ranked
ORDER BY plan_id, rank
"""


def _zones(user: Any, plans: list[PlanningPlan], parcel_id: int | None, q: Question) -> dict[int, list[dict]]:
    if not plans:
        return {}
    args: list[Any]
    scope, scope_args = permissions.scope_sql(user, "z.commune_code")
    if parcel_id is not None:
        geometry, args = "(SELECT geom FROM layers_landparcel WHERE id = %s)", [parcel_id]
    else:
        geometry = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
        args = [q.lon, q.lat]
    with connection.cursor() as cursor:
        cursor.execute(
            _ZONES_SQL.format(geometry=geometry, scope=scope),  # the clause comes from the policy module
            [*args, [p.pk for p in plans], *scope_args],
        )
        rows = cursor.fetchall()
    by_plan: dict[int, list[dict]] = {}
    for zid, plan_id, code, use, density, height, commune, m2, share, geojson in rows:
        by_plan.setdefault(plan_id, []).append(
            {
                "id": zid,
                "zone_code": code,
                "land_use": use,
                "max_density": density,
                "max_height": height,
                "commune_code": commune,
                "overlap_m2": round(m2 or 0, 1),
                "share": round(share, 4) if share is not None else None,
                "geometry": json.loads(geojson) if geojson else None,
            }
        )
    return by_plan


def _plan_entry(plan: PlanningPlan, zones: list[dict], pol: Policy, land_use: str | None) -> dict[str, Any]:
    from analysis.zoning import MIN_OVERLAP_SHARE, is_conflict

    draft = plan.status == PlanningPlan.Status.DRAFT
    shown = pol.plan_fields or []
    props: dict[str, Any] = {}
    for name in shown:
        value = getattr(plan, name)
        props[name] = value.isoformat() if hasattr(value, "isoformat") else value
    entry: dict[str, Any] = {
        "id": plan.pk,
        "draft": draft,
        "label": _("DỰ THẢO – chưa được phê duyệt, có thể còn thay đổi") if draft else _("Quy hoạch đã được phê duyệt"),
        "properties": props,
        "level_name": plan.get_level_display() if "level" in shown else None,
        "zone": None,
        "conflict": None,
    }
    if zones:
        top = zones[0]
        zone_props = {name: top[name] for name in pol.zone_fields or []}
        entry["zone"] = {
            "id": top["id"],
            "properties": zone_props,
            "land_use_name": land_use_name(top["land_use"]) if "land_use" in zone_props else None,
            "share": top["share"],
            "geometry": top["geometry"],
            "other_zones": len(zones) - 1,
        }
    # Conflict needs the parcel's land use (shown to this user) and the planned one.
    if land_use and "land_use" in (pol.zone_fields or []):
        hits = [z for z in zones if is_conflict(land_use, z["land_use"], z["share"])]
        entry["conflict"] = {
            "conflicts": bool(hits),
            "zones": [z["zone_code"] for z in hits] if "zone_code" in (pol.zone_fields or []) else [],
            "min_share": MIN_OVERLAP_SHARE,
        }
    return entry


def _commune_at(lon: float, lat: float) -> AdminUnit | None:
    return AdminUnit.objects.current().communes().filter(geom__covers=Point(lon, lat, srid=4326)).first()


def _parcel_by_key(user: Any, q: Question, pol: Policy) -> LandParcel:
    if pol.parcel_fields is None or not {"commune_code", "sheet_number", "parcel_number"} <= set(pol.parcel_fields):
        raise params.NotFound(
            _(
                "Thông tin thửa đất chưa được công khai trên trang tra cứu. Hãy chạm vào vị trí thửa đất "
                "trên bản đồ để xem quy hoạch tại đó."
            )
        )
    qs = LandParcel.objects.filter(commune_code=q.commune, sheet_number=q.sheet, parcel_number=q.parcel)
    parcel = (
        permissions.scope_queryset(user, qs)
        .select_related("commune")
        .annotate(outline=AsGeoJSON("geom", precision=7))
        .first()
    )
    if parcel is not None:
        return parcel
    if not AdminUnit.objects.filter(level="commune", code=q.commune).exists():
        raise params.NotFound(
            _("Không có xã, thị trấn nào mang mã %(code)s trong huyện. Mã xã gồm 5 chữ số, in trên Giấy chứng nhận.")
            % {"code": q.commune}
        )
    raise params.NotFound(
        _(
            "Không tìm thấy thửa số %(parcel)s, tờ bản đồ số %(sheet)s của xã mã %(code)s. "
            "Hãy kiểm tra lại số tờ và số thửa."
        )
        % {"parcel": q.parcel, "sheet": q.sheet, "code": q.commune}
    )


def _parcel_at(user: Any, q: Question, pol: Policy) -> LandParcel | None:
    if pol.parcel_fields is None:
        return None
    qs = LandParcel.objects.filter(geom__intersects=Point(q.lon, q.lat, srid=4326))
    return (
        permissions.scope_queryset(user, qs)
        .select_related("commune")
        .annotate(outline=AsGeoJSON("geom", precision=7))
        .first()
    )


def _parcel_entry(parcel: LandParcel, pol: Policy) -> dict[str, Any]:
    shown = pol.parcel_fields or []
    props = {name: getattr(parcel, name) for name in shown}
    return {
        "id": parcel.pk,
        "properties": props,
        "key": f"{parcel.commune_code}/{parcel.sheet_number}/{parcel.parcel_number}"
        if {"commune_code", "sheet_number", "parcel_number"} <= set(shown)
        else None,
        "land_use_name": land_use_name(parcel.land_use) if "land_use" in shown else None,
        "certificate_name": parcel.get_certificate_status_display() if "certificate_status" in shown else None,
        "geometry": json.loads(getattr(parcel, "outline")),  # noqa: B009 - the AsGeoJSON annotation
    }


def answer(user: Any, q: Question) -> dict[str, Any]:
    """The answer to a key or point question (NotFound / BadRequest carry the sentence for the citizen)."""
    pol = policy(user)
    parcel: LandParcel | None
    if q.kind == "key":
        parcel = _parcel_by_key(user, q, pol)
        commune = parcel.commune
    else:
        commune = _commune_at(q.lon, q.lat)
        if commune is None:
            raise params.BadRequest(
                _("Vị trí %(lat).5f, %(lon).5f nằm ngoài địa bàn huyện Đơn Dương. Hãy chạm vào một điểm trong huyện.")
                % {"lat": q.lat, "lon": q.lon}
            )
        parcel = _parcel_at(user, q, pol)
    land_use = parcel.land_use if parcel is not None and "land_use" in (pol.parcel_fields or []) else None
    plans = _plans(pol)
    zones = _zones(user, plans, parcel.pk if parcel is not None else None, q)
    result: dict[str, Any] = {
        "question": q.query(),
        "commune": {"code": commune.code, "name": commune.name} if commune is not None else None,
        "point": [round(q.lon, 6), round(q.lat, 6)] if q.kind == "point" else None,
        "parcel": _parcel_entry(parcel, pol) if parcel is not None else None,
        "plans": [_plan_entry(p, zones.get(p.pk, []), pol, land_use) for p in plans],
        "notes": [],
    }
    if q.kind == "point" and parcel is None:
        result["notes"].append(
            _("Thông tin thửa đất tại vị trí này chưa được công khai; dưới đây là quy hoạch tại điểm bạn chọn.")
            if pol.parcel_fields is None
            else _("Không có thửa đất nào tại điểm bạn chọn; dưới đây là quy hoạch tại điểm đó.")
        )
    if pol.zone_fields is None:
        result["notes"].append(_("Thông tin quy hoạch chưa được công khai cho tài khoản này."))
    elif not plans:
        result["notes"].append(_("Chưa có đồ án quy hoạch nào được phê duyệt hoặc lấy ý kiến."))
    return result


def places(user: Any, q: Question) -> list[dict[str, Any]]:
    """Communes, parcels and landmarks whose name matches (the map's search, dashboard.search)."""
    from dashboard.search import search

    found = [
        {k: r.get(k) for k in ("kind", "label", "detail", "lonlat", "bbox")}
        for r in search(user, q.text)
        if r["kind"] in ("commune", "land-parcels", "schools", "health-facilities")
    ]
    if not found:
        raise params.NotFound(
            _("Không tìm thấy xã, thị trấn hay địa danh nào tên “%(text)s”. Hãy thử tên khác, hoặc chạm vào bản đồ.")
            % {"text": q.text[:40]}
        )
    return found
