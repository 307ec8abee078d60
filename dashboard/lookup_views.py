"""The citizens' planning lookup over HTTP: the page, its JSON API, the printable A4 sheet and its PDF.

/planning/lookup/            the page (server-rendered answer; the script asks for `?fragment=1` on a tap)
/planning/api/lookup         the same answer as JSON
/planning/lookup/print       the A4 sheet: answer, map extract (inline SVG, offline), QR code to the page
/planning/lookup/pdf         that sheet printed by Chromium (dashboard.reports.html_to_pdf, pdf_cache)

Every door counts against the public read limit (petitions.throttle, scope "planning-lookup"); the PDF
also against the PDF renderings' limit, like the reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import data, lookup, params, pdf_cache
from dashboard.views import error_page
from gis_ioc import permissions
from petitions import throttle

THROTTLE_SCOPE = "planning-lookup"


def _refused(request: HttpRequest, refusal: throttle.Refusal, as_json: bool) -> HttpResponse:
    if as_json:
        response: HttpResponse = JsonResponse({"error": refusal.message}, status=refusal.status)
    else:
        response = error_page(request, refusal.message, refusal.status)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _decorate(result: dict[str, Any]) -> dict[str, Any]:
    """Dates for people (dd/mm/yyyy) beside the ISO values of the answer."""
    for plan in result["plans"]:
        when = plan["properties"].get("approved_on")
        plan["approved_on_text"] = dt.date.fromisoformat(when).strftime("%d/%m/%Y") if when else ""
    return result


def _solve(request: HttpRequest) -> tuple[dict[str, Any], int]:
    """The page's context for the request's question: answer or places or error, and the HTTP status."""
    context: dict[str, Any] = {"answer": None, "places": None, "error": None, "question": None}
    if not any(request.GET.get(k) for k in ("key", "q", "lon", "lat")):
        return context, 200
    try:
        question = lookup.parse(request.GET)
        context["question"] = question
        if question.kind == "place":
            context["places"] = lookup.places(request.user, question)
        else:
            context["answer"] = _decorate(lookup.answer(request.user, question))
            context["links"] = _links(question)
    except params.BadRequest as exc:
        context["error"] = str(exc)
        return context, 400
    except params.NotFound as exc:
        context["error"] = str(exc)
        return context, 404
    return context, 200


def _links(question: lookup.Question) -> dict[str, str]:
    query = urlencode(question.query())
    return {
        "page": f"{reverse('planning-lookup')}?{query}",
        "print": f"{reverse('planning-lookup-print')}?{query}",
        "pdf": f"{reverse('planning-lookup-pdf')}?{query}",
        "api": f"{reverse('planning-api-lookup')}?{query}",
    }


def _page_config(request: HttpRequest) -> dict[str, Any]:
    """What the page's script needs: the plans' zones as tiles, whether parcels are drawn, the colours."""
    pol = lookup.policy(request.user)
    plans = lookup._plans(pol)
    return {
        "approvedPlan": next((p.pk for p in plans if p.status == "approved"), None),
        "parcels": pol.parcel_fields is not None,
        "colors": data.landuse_colors(),
        "strings": {"searching": _("Đang tra cứu…"), "failed": _("Không tra cứu được. Vui lòng thử lại.")},
    }


@require_GET
def lookup_page(request: HttpRequest) -> HttpResponse:
    """/planning/lookup/ : the search form, the map and the answer (?key=, ?lon=&lat=, ?q=)."""
    fragment = request.GET.get("fragment") == "1"
    if refusal := throttle.check(request, THROTTLE_SCOPE):
        return _refused(request, refusal, as_json=False)
    context, status = _solve(request)
    if fragment:
        return render(request, "dashboard/lookup_answer.html", context, status=status)
    context["page_config"] = _page_config(request)
    context["values"] = {k: request.GET.get(k, "") for k in ("key", "q")}
    return render(request, "dashboard/lookup.html", context, status=status)


@require_GET
def lookup_api(request: HttpRequest) -> JsonResponse:
    """/planning/api/lookup?key=|lon=&lat=|q= : the answer (or the places named `q`) as JSON."""
    if refusal := throttle.check(request, THROTTLE_SCOPE):
        return _refused(request, refusal, as_json=True)  # type: ignore[return-value]
    try:
        question = lookup.parse(request.GET)
        if question.kind == "place":
            return JsonResponse({"places": lookup.places(request.user, question)})
        result = lookup.answer(request.user, question)
    except params.BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except params.NotFound as exc:
        return JsonResponse({"error": str(exc)}, status=404)
    result["links"] = _links(question)
    return JsonResponse(result)


# --- the printed sheet ---------------------------------------------------------------------------------
def _sheet_context(request: HttpRequest) -> dict[str, Any]:
    """The A4 sheet's context; raises BadRequest/NotFound (a place name has no sheet)."""
    question = lookup.parse(request.GET)
    if question.kind == "place":
        raise params.BadRequest(
            _("Phiếu in cần số hiệu thửa đất hoặc một vị trí trên bản đồ, không phải tên địa danh.")
        )
    result = _decorate(lookup.answer(request.user, question))
    page_url = request.build_absolute_uri(_links(question)["page"])
    return {
        "answer": result,
        "links": _links(question),
        "page_url": page_url,
        "qr_svg": _qr_svg(page_url),
        "extract": map_extract(request.user, result),
        "generated": timezone.localtime(),
        "colors": data.landuse_colors(),
    }


def _qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=3, border=2, dark="#000", light="#fff")


@require_GET
def lookup_print(request: HttpRequest) -> HttpResponse:
    """/planning/lookup/print : the A4 sheet (browser print, and what the PDF prints)."""
    if refusal := throttle.check(request, THROTTLE_SCOPE):
        return _refused(request, refusal, as_json=False)
    try:
        return render(request, "dashboard/lookup_sheet.html", _sheet_context(request))
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)
    except params.NotFound as exc:
        return error_page(request, str(exc), 404)


@require_GET
def lookup_pdf(request: HttpRequest) -> HttpResponse:
    """/planning/lookup/pdf : the sheet as an A4 PDF, rendered once per input (dashboard.pdf_cache)."""
    from dashboard.reports import html_to_pdf

    if refusal := throttle.check(request, THROTTLE_SCOPE):
        return _refused(request, refusal, as_json=False)
    try:
        question = lookup.parse(request.GET)
        context = _sheet_context(request)  # first: a bad question is a 4xx before any rendering is counted
        key = pdf_cache.page_key(request, "planning-lookup", question.query())
        pdf = pdf_cache.cached(key)
        if pdf is None:
            if (retry := pdf_cache.over_rate(request)) is not None:
                message = _("Bạn đã yêu cầu quá nhiều tệp PDF trong một phút. Vui lòng thử lại sau %(s)d giây.") % {
                    "s": retry
                }
                return _refused(request, throttle.Refusal(429, message, retry), as_json=False)
            context["pdf"] = True
            pdf = pdf_cache.render_once(
                key, lambda: html_to_pdf(render_to_string("dashboard/lookup_sheet.html", context, request=request))
            )
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)
    except params.NotFound as exc:
        return error_page(request, str(exc), 404)
    name = "quy-hoach-" + "-".join(v.replace("/", "-").replace(".", "_") for v in question.query().values()) + ".pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Content-Language"] = translation.get_language() or "vi"
    return response


# --- the map extract -----------------------------------------------------------------------------------
# Web Mercator metres for the picture (a sheet-sized view, so its scale error is irrelevant); the zones are
# selected with `&&` against the box brought back to 4326, so their GiST index is used.
_BOX_SQL = """
WITH f AS (SELECT ST_Transform({geometry}, 3857) AS g),
b AS (SELECT ST_Expand(g, GREATEST(60, 0.5 * GREATEST(ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g)))) AS box, g
      FROM f)
SELECT ST_XMin(box), -ST_YMax(box), ST_XMax(box) - ST_XMin(box), ST_YMax(box) - ST_YMin(box),
       ST_AsSVG(g, 0, 1), ST_X(ST_Centroid(g)), -ST_Y(ST_Centroid(g)), ST_AsEWKT(ST_Transform(box, 4326))
FROM b
"""
_ZONES_SQL = """
WITH b AS (SELECT ST_GeomFromEWKT(%s) AS box)
SELECT z.zone_code, z.land_use, ST_AsSVG(c.g, 0, 1), ST_X(ST_PointOnSurface(c.g)), -ST_Y(ST_PointOnSurface(c.g))
FROM layers_planningzone z CROSS JOIN b
CROSS JOIN LATERAL (SELECT ST_Intersection(ST_Transform(z.geom, 3857), ST_Transform(b.box, 3857)) AS g) c
WHERE z.plan_id = %s AND z.geom && b.box AND {scope} AND NOT ST_IsEmpty(c.g)
ORDER BY z.zone_code
"""


def map_extract(user: Any, result: dict[str, Any]) -> dict[str, Any] | None:
    """The parcel (or the point) and the approved plan's zones around it, as SVG paths for the sheet."""
    from django.db import connection

    parcel = result.get("parcel")
    if parcel is not None:
        geometry, args = "(SELECT geom FROM layers_landparcel WHERE id = %s)", [parcel["id"]]
    elif result.get("point"):
        geometry, args = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)", list(result["point"])
    else:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_BOX_SQL.format(geometry=geometry), args)
        x, y, w, h, focus, cx, cy, box = cursor.fetchone()
        plan = next((p for p in result["plans"] if not p["draft"]), None)
        zones: list[dict[str, Any]] = []
        if plan is not None and plan["zone"] is not None:
            scope, scope_args = permissions.scope_sql(user, "z.commune_code")
            cursor.execute(_ZONES_SQL.format(scope=scope), [box, plan["id"], *scope_args])
            colors = data.landuse_colors()
            zones = [
                {"code": code, "land_use": use, "d": d, "lx": lx, "ly": ly, "fill": colors.get(use, "#bdbdbd")}
                for code, use, d, lx, ly in cursor.fetchall()
            ]
    size = max(w, h)
    return {
        "viewbox": f"{x} {y} {w} {h}",
        "focus": focus if parcel is not None else None,
        "point": [cx, cy],
        "zones": zones,
        "stroke": size / 250,
        "font": size / 28,
        "radius": size / 60,
        "scale_m": _scale_bar(w),
        "scale_x": x + w * 0.05,
        "scale_y": y + h * 0.94,
    }


def _scale_bar(width_m: float) -> int:
    """A round length near a fifth of the picture's width (metres)."""
    target = width_m / 5
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step >= target:
            return step
    return 10000
