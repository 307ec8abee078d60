"""Pages: the map at / (public map for visitors, full dashboard for staff), a commune's profile, and the
planners' comparison. The pages are shells: their data comes embedded (catalog, communes, statistics)
plus one aggregated request per view to dashboard/api/view."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import data, params, stats
from gis_ioc import shell
from layers.forecast import FORECASTABLE
from live import client as live_client

# MapProxy's TMS address of its cached basemap (tiles/mapproxy.py: TMS with grid names, origin nw).
MAPPROXY_BASEMAP = "/mapproxy/tms/1.0.0/basemap/webmercator/{z}/{x}/{y}.png"
WALL_REFRESH_SECONDS = 60


def basemap_tiles() -> str:
    """The basemap's tile URL when MapProxy has one (an upstream is configured); else '' (closed networks:
    the communes are drawn on a plain background)."""
    explicit = getattr(settings, "IOC_BASEMAP_TILES", None)
    if explicit is not None:
        return str(explicit)
    try:
        from tiles import conf
    except ImportError:
        return ""
    return MAPPROXY_BASEMAP if conf.mapproxy_basemap_url() else ""


def error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The shell's error page with the view's own message (gis_ioc.shell)."""
    return shell.error_response(request, status, message)


def js_strings() -> dict[str, str]:
    """The few sentences the JavaScript writes, translated server-side (no JS i18n catalogue to load)."""
    return {
        "noData": _("Không có số liệu"),
        "district": _("Toàn địa bàn"),
        "districtAvg": _("Trung bình các xã"),
        "estimated": _("Ước tính"),
        "history": _("Lịch sử địa giới"),
        "madeOf": _("Hợp thành từ"),
        "became": _("Trở thành"),
        "now": _("nay"),
        "estimatedPopulation": _("ước tính theo tỷ lệ dân số (đơn vị bị chia tách)"),
        "estimatedArea": _("ước tính theo tỷ lệ diện tích (đơn vị bị chia tách)"),
        "commune": _("Xã"),
        "back": _("Quay lại toàn địa bàn"),
        "rows": _("dòng"),
        "noResults": _("Không tìm thấy kết quả"),
        "loading": _("Đang tải…"),
        "overTime": _("Theo thời gian"),
        "byCommune": _("Theo xã"),
        "error": _("Lỗi"),
        "report": _("Báo cáo PDF"),
        "value": _("Giá trị"),
        "features": _("Đối tượng trên bản đồ"),
        "conflicts": _("thửa đất mâu thuẫn với quy hoạch B"),
        "shown": _("hiển thị %(n)s thửa đầu; tải CSV/XLSX để có đủ"),
        "noConflicts": _("Không có thửa đất nào mâu thuẫn."),
        "forecast": _("Dự báo 6 tháng tới"),
        "forecastMean": _("Dự báo"),
        "forecastBand": _("Khoảng dự báo 80%"),
        "forecastHistory": _("Đã ghi nhận"),
        "forecastNote": _(
            "Kiểm tra lại trên 12 tháng qua: sai số trung bình {mae} (dự báo “bằng cùng kỳ năm trước”: {naive})."
        ),
    }


def unit_set_options() -> list[dict[str, str]]:
    """The unit-set switch: every set, administrative ones by period then the statistical groupings."""
    from gis_ioc.models import UnitSet

    language = translation.get_language()
    return [
        {"slug": s.slug, "title": s.title(language), "period": s.period}
        for s in UnitSet.objects.order_by("-kind", "level", "valid_from")
        if s.level in ("commune", "area")
    ]


def _refresh_seconds(request: HttpRequest) -> int:
    """Control-room refresh period: ?refresh=N seconds (5 to 3600), 60 by default."""
    try:
        return min(3600, max(5, int(request.GET.get("refresh", WALL_REFRESH_SECONDS))))
    except ValueError:
        return WALL_REFRESH_SECONDS


def _map_context(request: HttpRequest, focus: str | None = None) -> dict[str, Any]:
    user = request.user
    start, end = params.time_range(request)
    choice = params.unit_choice(request)
    communes = params.visible_communes(user, choice)
    statistics = stats.visible(user)
    stat = request.GET.get("stat") or (statistics[0]["code"] if statistics else "")
    method = request.GET.get("method", "quantiles")
    first = {"start": start.isoformat(), "end": end.isoformat(), "method": method, **choice.query()}
    if stat:
        first["stat"] = stat
    if focus:
        first["commune"] = focus
    return {
        # The page asks for its first view's data before its scripts load (see map.html).
        "first_view_url": "/dashboard/api/view?" + urlencode(first),
        "signed_in": user.is_authenticated,
        "wall": request.GET.get("mode") == "wall",
        "start": start,
        "end": end,
        "focus": focus,
        "unit_choice": choice,
        "unit_sets": unit_set_options(),
        "page_config": {
            "signedIn": user.is_authenticated,
            "wall": request.GET.get("mode") == "wall",
            "refreshSeconds": _refresh_seconds(request),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "stat": stat,
            "method": method,
            "focus": focus,
            "units": choice.query(),
            "basemap": basemap_tiles(),
            "lang": (request.LANGUAGE_CODE or "vi")[:2],
            "strings": js_strings(),
            "forecastable": list(FORECASTABLE),  # statistics with a forecast figure (layers/forecast.py)
            "live": live_client.page_config(request),  # the live stream (dashboard/js/live.js); None: visitors
        },
        "catalog": data.catalog_for(user),
        "statistics": statistics,
        "communes_geojson": data.communes_geojson([c.code for c in communes], choice.unit_set),
        "communes": communes,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The map: public layers and statistics for visitors, the full dashboard for signed-in users."""
    try:
        return live_client.allow_connect(request, render(request, "dashboard/map.html", _map_context(request)))
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)


@require_GET
def commune_index(request: HttpRequest) -> HttpResponse:
    """/communes/: the communes this user may open a profile of (the menu's "commune profiles")."""
    try:
        choice = params.unit_choice(request)
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)
    communes = sorted(params.visible_communes(request.user, choice), key=lambda unit: unit.name)
    return render(request, "dashboard/communes.html", {"communes": communes, "unit_set": choice.unit_set})


@require_GET
def commune_profile(request: HttpRequest, code: str) -> HttpResponse:
    """The same map page, opened on one commune's profile (shareable address /communes/<code>/)."""
    try:
        unit = params.commune(request.user, code, params.unit_choice(request))
        page = render(request, "dashboard/map.html", _map_context(request, focus=unit.code))
        return live_client.allow_connect(request, page)
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)
    except params.NotFound as exc:
        return error_page(request, str(exc), 404)
