"""The weekly briefing: a printable district or commune report (HTML, and PDF through headless Chromium),
and every dashboard table as CSV or XLSX.

The PDF is the same HTML page printed by Chromium (Playwright `page.pdf()`); Chromium loads it from an
in-process route, not over HTTP, so it needs neither the user's session nor a second server worker, and
it can reach nothing but the report and the static files (no network).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import data, params, pdf_cache, stats
from dashboard.views import error_page
from gis_ioc.lib import tabular

CHROMIUM = getattr(settings, "IOC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
REPORT_ORIGIN = "http://report.ioc.invalid"
MAX_EXPORT_ROWS = 100_000
REPORT_LIST_ROWS = 30


# --- report ------------------------------------------------------------------------------------------
def report_context(request: HttpRequest, code: str | None) -> dict[str, Any]:
    """Everything the report shows, for the user's communes or one of them."""
    user = request.user
    start, end = params.time_range(request)
    choice = params.unit_choice(request)
    units = choice.slug
    visible = params.visible_communes(user, choice)
    scope = [u.code for u in visible]
    unit = params.commune(user, code, choice) if code else None
    codes = [unit.code] if unit else scope
    statistics = stats.visible(user)
    stat = request.GET.get("stat") or (statistics[0]["code"] if statistics else None)
    choropleth = stats.choropleth(user, stat, start, end, scope, "quantiles", 5, units=units) if stat else None
    cards = stats.kpis(user, start, end, codes, units=units)
    if unit:
        stats.add_district_average(cards, stats.kpis(user, start, end, scope, units=units), len(scope))
    svg = data.communes_svg(scope, highlight=unit.code if unit else None, unit_set=choice.unit_set)
    if choropleth:
        for p in svg["paths"]:
            cls = choropleth["classes"].get(p["code"])
            p["fill"] = choropleth["colors"][cls] if cls is not None else "#e3e3e3"
    names = {u.code: u.name for u in visible}
    lists = []
    if unit:
        lists = [data.layer_rows(user, s, codes, start, end, limit=REPORT_LIST_ROWS) for s in data.PROFILE_LISTS]
    series = stats.series(user, stat, start, end, codes, units=units) if stat else []
    return {
        "unit": unit,
        "start": start,
        "end": end,
        "generated": timezone.localtime(),
        "stat": choropleth["statistic"] if choropleth else None,
        "choropleth": choropleth,
        "commune_rows": [{"code": c, "name": names.get(c, c), "value": choropleth["values"].get(c)} for c in scope]
        if choropleth
        else [],
        "kpis": cards,
        "svg": svg,
        "legend": _legend_rows(choropleth),
        "lists": [x for x in lists if x is not None],
        "chart_data": {
            "series": series,
            "categories": data.by_category(user, codes, start, end),
            "title": choropleth["statistic"]["title"] if choropleth else "",
            "unit": choropleth["statistic"]["unit"] if choropleth else "",
            "lang": (translation.get_language() or "vi")[:2],
        },
        "query": request.GET.urlencode(),
    }


def _legend_rows(choropleth: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not choropleth:
        return []
    rows, lower = [], choropleth["min"]
    for colour, upper in zip(choropleth["colors"], choropleth["breaks"], strict=True):
        rows.append({"color": colour, "lower": lower, "upper": upper})
        lower = upper
    return rows


@require_GET
def report_page(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The printable report (A4); /pdf next to it is the same page as a PDF file."""
    try:
        return render(request, "dashboard/report.html", report_context(request, code))
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)
    except params.NotFound as exc:
        return error_page(request, str(exc), 404)


def html_to_pdf(html: str) -> bytes:
    """Print an HTML page (with /static/ assets) to an A4 PDF in headless Chromium, offline."""
    from playwright.sync_api import sync_playwright

    def serve(route: Any) -> None:
        path = route.request.url[len(REPORT_ORIGIN) :].split("?")[0]
        if path == "/report":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            return
        if path.startswith(settings.STATIC_URL):
            found = finders.find(path[len(settings.STATIC_URL) :])
            if found:
                body = Path(found).read_bytes()
                route.fulfill(status=200, content_type=mimetypes.guess_type(found)[0] or "text/plain", body=body)
                return
        route.fulfill(status=404, body="")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            # Everything else (any other host) is refused: the report must not reach the network.
            page.route("**/*", lambda r: serve(r) if r.request.url.startswith(REPORT_ORIGIN) else r.abort())
            page.goto(f"{REPORT_ORIGIN}/report", wait_until="load")
            page.wait_for_function("window.reportReady === true", timeout=15_000)
            return page.pdf(format="A4", print_background=True, margin={"top": "12mm", "bottom": "12mm"})
        finally:
            browser.close()


@require_GET
def report_pdf(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The report as a PDF file (Chromium print-to-PDF of the report page), rendered once per input."""
    try:
        key = pdf_cache.report_key(request, code)
        pdf = pdf_cache.cached(key)
        if pdf is None:
            if (retry := pdf_cache.over_rate(request)) is not None:
                response = error_page(
                    request,
                    _("Bạn đã yêu cầu quá nhiều báo cáo PDF trong một phút. Vui lòng thử lại sau %(s)d giây.")
                    % {"s": retry},
                    429,
                )
                response["Retry-After"] = str(retry)
                return response
            pdf = pdf_cache.render_once(key, lambda: _render_pdf(request, code))
        start, end = params.time_range(request)
    except params.BadRequest as exc:
        return error_page(request, str(exc), 400)
    except params.NotFound as exc:
        return error_page(request, str(exc), 404)
    name = f"bao-cao-{code or 'huyen'}-{start:%Y%m%d}-{end:%Y%m%d}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _render_pdf(request: HttpRequest, code: str | None) -> bytes:
    context = report_context(request, code)
    context["pdf"] = True
    return html_to_pdf(render_to_string("dashboard/report.html", context, request=request))


# --- tables ------------------------------------------------------------------------------------------------
def build_table(request: HttpRequest, table: str) -> tuple[str, list[str], list[list[Any]]]:
    """(title, headers, rows) of one dashboard table, for the user's communes (or ?commune=)."""
    user = request.user
    start, end = params.time_range(request)
    choice = params.unit_choice(request)
    codes = params.commune_codes_param(request, user, choice)
    names = {u.code: u.name for u in params.visible_communes(user, choice)}
    if table == "statistic":
        ch = stats.choropleth(user, request.GET.get("stat"), start, end, codes, units=choice.slug)
        head = [
            _("Mã xã"),
            _("Xã/thị trấn"),
            f"{ch['statistic']['title']} ({ch['statistic']['unit']})",
            _("Cách tính"),
        ]
        method_names = {"population": _("ước tính theo dân số"), "area": _("ước tính theo diện tích")}
        rows = [
            [c, names.get(c, c), ch["values"].get(c), method_names.get(ch["estimated"].get(c, ""), _("chính xác"))]
            for c in codes
        ]
        rows.append(["", _("Toàn địa bàn"), ch["district"], ""])
        return ch["statistic"]["title"], head, rows
    if table == "kpis":
        cards = stats.kpis(user, start, end, codes, units=choice.slug)
        return (
            _("Chỉ tiêu chính"),
            [_("Chỉ tiêu"), _("Giá trị"), _("Đơn vị")],
            [[c["title"], c["value"], c["unit"]] for c in cards],
        )
    if table in ("plan-changes", "conflicts"):
        from dashboard import planning

        return planning.table(request, table, codes)
    rows_data = data.layer_rows(user, table, codes, start, end, limit=MAX_EXPORT_ROWS)
    if rows_data is None:
        raise params.NotFound(_("Không có bảng “%(t)s”.") % {"t": table})
    cols = rows_data["columns"]
    return (
        rows_data["title"],
        [c["title"] for c in cols],
        [[r.get(c["name"]) for c in cols] for r in rows_data["rows"]],
    )


def _cell(value: Any) -> Any:
    """A table value with ISO dates (the dashboard's JSON form) turned back into dates."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


@require_GET
def table_download(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """/dashboard/tables/<table>.csv|xlsx : a table of the dashboard, whole, as a file."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("csv or xlsx")
    try:
        title, headers, rows = build_table(request, table)
    except params.BadRequest as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    except params.NotFound as exc:
        return HttpResponse(str(exc), status=404, content_type="text/plain; charset=utf-8")
    stamp = timezone.localdate().strftime("%Y%m%d")
    writer = tabular.writer_for(fmt)(headers, title=slugify(title))
    writer.extend([_cell(v) for v in row] for row in rows)
    response = HttpResponse(writer.getvalue(), content_type=writer.content_type)
    response["Content-Disposition"] = f'attachment; filename="{table}-{stamp}.{fmt}"'
    return response
