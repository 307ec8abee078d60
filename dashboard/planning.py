"""The planners' map: two planning plans side by side, the hectares changing from each zone class to each
class per commune (analysis.zoning.compare_plans), and the parcels whose current land use conflicts with
the planned zone (analysis.zoning.parcel_conflicts).

Planning is public by law (công khai quy hoạch), so plans and zones follow the planning-zones layer's
visibility; the conflicting parcels are cadastral data and follow the land-parcels layer's.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import data, params
from dashboard.views import js_strings
from gis_ioc import permissions
from layers.models import Layer, PlanningPlan

CONFLICT_CACHE_SECONDS = 3600
MAP_CONFLICTS = 3000  # features drawn and listed on the page; the CSV/XLSX has them all
CONFLICT_FIELDS = ("id", "commune_code", "sheet_number", "parcel_number", "land_use", "planned_land_use", "zone_code")


def _layer_allows(user: Any, slug: str) -> bool:
    layer = Layer.objects.filter(slug=slug).first()
    return layer is not None and permissions.can_view_layer(user, layer)


def may_compare(user: Any) -> bool:
    """Who may compare plans: whoever may see the planning zones (public by law unless the catalog says
    otherwise). The comparison page and the site menu both ask this."""
    return _layer_allows(user, "planning-zones")


def _plan(user: Any, value: str | int | None, name: str) -> PlanningPlan:
    if value in (None, ""):
        raise params.BadRequest(_("Hãy chọn đồ án quy hoạch “%(name)s”.") % {"name": name})
    try:
        plan_id = int(value)
    except (TypeError, ValueError):
        raise params.BadRequest(_("“%(name)s” phải là mã số của một đồ án quy hoạch.") % {"name": name}) from None
    plan = PlanningPlan.objects.filter(pk=plan_id).first()
    if plan is None or not _layer_allows(user, "planning-zones"):
        raise params.NotFound(_("Không có đồ án quy hoạch số %(id)s.") % {"id": plan_id})
    return plan


def _plans(user: Any, a_value: str | None, b_value: str | None) -> tuple[PlanningPlan, PlanningPlan]:
    a = _plan(user, a_value, "a")
    b = _plan(user, b_value, "b")
    if a.pk == b.pk:
        raise params.BadRequest(_("Hãy chọn hai đồ án quy hoạch khác nhau để so sánh."))
    return a, b


def json_errors(view: Callable[..., Any]) -> Callable[..., JsonResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except params.BadRequest as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        except params.NotFound as exc:
            return JsonResponse({"error": str(exc)}, status=404)

    return wrapper


def changes(user: Any, a: PlanningPlan, b: PlanningPlan, codes: list[str]) -> list[dict[str, Any]]:
    """Rows of compare_plans for the user's communes, with commune names."""
    from analysis.zoning import compare_plans

    names = {u.code: u.name for u in params.visible_communes(user)}
    rows = compare_plans(a.pk, b.pk, communes=codes)
    for row in rows:
        row["commune_name"] = names.get(row["commune_code"], row["commune_code"])
    return rows


def conflicts(user: Any, plan: PlanningPlan, codes: list[str], rule: str = "code") -> list[dict[str, Any]] | None:
    """Conflicting parcels of a plan in the given communes; None when the user may not see parcels.

    The overlay of a whole district's parcels with a plan takes seconds (about 20 s for 130,000 parcels),
    so results are cached per plan, communes and rule, keyed by the versions of the two layers: any edit
    or import of parcels or zones bumps a version (Layer.touch) and the next request recomputes.
    """
    from analysis.zoning import CONFLICT_RULES, parcel_conflicts

    if not _layer_allows(user, "land-parcels"):
        return None
    if rule not in CONFLICT_RULES:
        raise params.BadRequest(_("Quy tắc “%(r)s” không có; dùng code hoặc group.") % {"r": rule})
    versions = dict(Layer.objects.filter(slug__in=["land-parcels", "planning-zones"]).values_list("slug", "version"))
    key = (
        "dashboard:conflicts:"
        + hashlib.sha256(json.dumps([plan.pk, sorted(codes), rule, versions], sort_keys=True).encode()).hexdigest()
    )
    rows = cache.get(key)
    if rows is None:
        rows = [dict(r) for r in parcel_conflicts(plan.pk, communes=codes, rule=rule)]
        cache.set(key, rows, CONFLICT_CACHE_SECONDS)
    return rows


def conflict_communes(request: HttpRequest) -> list[str]:
    """?commune= (one commune the user may see), else the user's first commune: one commune at a time,
    because a district-wide list (tens of thousands of parcels) is a download, not a page."""
    code = request.GET.get("commune")
    if code:
        return [params.commune(request.user, code).code]
    visible = params.visible_communes(request.user)
    return [visible[0].code] if visible else []


@require_GET
def compare_page(request: HttpRequest) -> HttpResponse:
    """/planning/compare/?a=&b= : the two plans on synchronised maps, the change table, the conflicts."""
    user = request.user
    if not may_compare(user):
        raise PermissionDenied(_("Lớp khu quy hoạch không được công khai cho tài khoản này."))
    plans = list(PlanningPlan.objects.order_by("-period_start", "pk"))
    a_id = request.GET.get("a") or (str(plans[1].pk) if len(plans) > 1 else "")
    b_id = request.GET.get("b") or (str(plans[0].pk) if plans else "")
    context: dict[str, Any] = {"plans": plans, "a_id": a_id, "b_id": b_id, "error": None}
    status = 200
    codes = [u.code for u in params.visible_communes(user)]
    can_see_parcels = _layer_allows(user, "land-parcels")
    conflict_code = request.GET.get("commune") if request.GET.get("commune") in codes else (codes[0] if codes else "")
    a: PlanningPlan | None = None
    b: PlanningPlan | None = None
    try:
        if len(plans) >= 2:
            a, b = _plans(user, a_id, b_id)
            context.update(a=a, b=b, changes=changes(user, a, b, codes))
    except params.BadRequest as exc:
        context["error"], status = str(exc), 400
    except params.NotFound as exc:
        context["error"], status = str(exc), 404
    context["page_config"] = {
        "a": a.pk if a else None,
        "b": b.pk if b else None,
        "strings": js_strings(),
        "lang": (request.LANGUAGE_CODE or "vi")[:2],
        "canSeeParcels": can_see_parcels,
        "conflictCommune": conflict_code,
        "conflictLimit": MAP_CONFLICTS,
    }
    context["can_see_parcels"] = can_see_parcels
    context["communes"] = params.visible_communes(user)
    context["conflict_commune"] = conflict_code
    context["communes_geojson"] = data.communes_geojson(codes)
    context["landuse_colors"] = data.landuse_colors()
    return render(request, "dashboard/compare.html", context, status=status)


@require_GET
@json_errors
def compare_api(request: HttpRequest) -> JsonResponse:
    """/planning/api/compare?a=&b=[&commune=] : the change table (all the user's communes) and plan B's
    conflicts (one commune), as JSON."""
    a, b = _plans(request.user, request.GET.get("a"), request.GET.get("b"))
    codes = [u.code for u in params.visible_communes(request.user)]
    found = conflicts(request.user, b, conflict_communes(request), request.GET.get("rule", "code"))
    return JsonResponse({"a": a.pk, "b": b.pk, "changes": changes(request.user, a, b, codes), "conflicts": found})


def _feature_collection(sql: str, args: list[Any]) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchone()[0]


@require_GET
@json_errors
def plan_zones(request: HttpRequest, plan_id: int) -> JsonResponse:
    """The zones of one plan (in the user's communes) as GeoJSON, for the comparison maps."""
    plan = _plan(request.user, plan_id, "plan")
    clause, args = permissions.scope_sql(request.user, "commune_code")
    fc = _feature_collection(
        f"""
        SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
            'type', 'Feature', 'id', id,
            'properties', json_build_object('zone_code', zone_code, 'land_use', land_use,
                                            'commune_code', commune_code, 'max_density', max_density,
                                            'max_height', max_height),
            'geometry', ST_AsGeoJSON(geom, 6)::json)), '[]'::json))
        FROM layers_planningzone WHERE plan_id = %s AND {clause}
        """,  # noqa: S608 - clause comes from the permission module, values are bound
        [plan.pk, *args],
    )
    return JsonResponse(fc)


@require_GET
@json_errors
def conflicts_geojson(request: HttpRequest, plan_id: int) -> JsonResponse:
    """The parcels of one commune (?commune=) conflicting with a plan, as GeoJSON with the list's columns
    (staff who may see parcels only); at most MAP_CONFLICTS features, `total` says how many there are."""
    plan = _plan(request.user, plan_id, "plan")
    rows = conflicts(request.user, plan, conflict_communes(request), request.GET.get("rule", "code"))
    if rows is None:
        raise params.NotFound(_("Bạn không được xem lớp thửa đất."))
    by_id = {r["id"]: r for r in rows[:MAP_CONFLICTS]}
    fc = _feature_collection(
        """
        SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
            'type', 'Feature', 'id', id, 'properties', json_build_object('id', id),
            'geometry', ST_AsGeoJSON(geom, 7)::json)), '[]'::json))
        FROM layers_landparcel WHERE id = ANY(%s)
        """,
        [list(by_id)],
    )
    for feature in fc["features"]:
        row = by_id[feature["id"]]
        feature["properties"] = {k: row.get(k) for k in CONFLICT_FIELDS}
    fc["features"].sort(key=lambda f: (f["properties"]["sheet_number"], f["properties"]["parcel_number"]))
    fc["total"] = len(rows)
    fc["truncated"] = len(rows) > MAP_CONFLICTS
    return JsonResponse(fc)


def table(request: HttpRequest, name: str, codes: list[str]) -> tuple[str, list[str], list[list[Any]]]:
    """The comparison's tables for CSV/XLSX: zone-class changes (a, b) or conflicts (plan)."""
    user = request.user
    if name == "plan-changes":
        a, b = _plans(user, request.GET.get("a"), request.GET.get("b"))
        rows = changes(user, a, b, codes)
        head = [_("Mã xã"), _("Xã/thị trấn"), _("Từ loại đất"), _("Sang loại đất"), _("Diện tích (ha)")]
        return (
            _("Biến động quy hoạch"),
            head,
            [[r["commune_code"], r["commune_name"], r["from_class"], r["to_class"], r["hectares"]] for r in rows],
        )
    plan = _plan(user, request.GET.get("plan") or request.GET.get("b"), "plan")
    found = conflicts(user, plan, codes, request.GET.get("rule", "code"))
    if found is None:
        raise params.NotFound(_("Bạn không được xem lớp thửa đất."))
    head = [_("Mã xã"), _("Tờ bản đồ số"), _("Thửa số"), _("Hiện trạng"), _("Quy hoạch"), _("Mã khu")]
    return (
        _("Thửa đất mâu thuẫn quy hoạch"),
        head,
        [[r[k] for k in CONFLICT_FIELDS[1:]] for r in found],
    )
