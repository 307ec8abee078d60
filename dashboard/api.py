"""The dashboard's JSON API: one aggregated request per view (all communes at once, never per commune)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import data, params, search, stats
from gis_ioc import permissions, replica, unit_sets


def json_errors(view: Callable[..., Any]) -> Callable[..., JsonResponse]:
    """Turn the parameter errors into 400/404 JSON bodies a person can read. These views only read, so the
    unit sets are checked once per request, not once per statistic (unit_sets.read_once)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            with unit_sets.read_once():
                return view(request, *args, **kwargs)
        except params.BadRequest as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        except params.NotFound as exc:
            return JsonResponse({"error": str(exc)}, status=404)

    return wrapper


def unit_history(code: str) -> list[dict[str, Any]]:
    """The commune's versions (what each was made of, since when, by which decision), when it has more
    than one or came from a reform; [] for a unit no reform touched."""
    from gis_ioc.unit_set_api import history

    versions = history(code)
    return versions if len(versions) > 1 or any(v["made_of"] for v in versions) else []


def _method_k(request: HttpRequest) -> tuple[str, int]:
    return request.GET.get("method", "quantiles"), params.integer(request, "k", default=5) or 5


@require_GET
@json_errors
def stats_view(request: HttpRequest) -> JsonResponse:
    """/dashboard/api/stats?stat=&start=&end=&method=&k= : every commune's value, classes and breaks."""
    start, end = params.time_range(request)
    choice = params.unit_choice(request)
    codes = [u.code for u in params.visible_communes(request.user, choice)]
    method, k = _method_k(request)
    return JsonResponse(
        stats.choropleth(request.user, request.GET.get("stat"), start, end, codes, method, k, units=choice.slug)
    )


# A view over a range that ended before today cannot change until the data does: its body is kept in the
# cache (the shared store when one is configured), keyed by what decides it — the user's identity, roles and
# commune scope (a role change is a new key), the question asked, the language, and the version of every
# catalog row (every writer bumps its version through the one change signal; the admin edits the row itself)
# plus the unit sets' fingerprint.
VIEW_CACHE_SECONDS = 24 * 3600


def _data_stamp() -> str:
    """Every catalog row whole (its data version, and its fields' visibility edited in the admin) in one
    short statement, with the unit sets' fingerprint."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM layers_layer t")
        layers = cursor.fetchone()[0]
    return f"{layers}|{unit_sets.fingerprint()}"


def _view_key(request: HttpRequest) -> str:
    user = request.user
    scope = permissions.commune_scope(user)
    who = [
        str(user.pk),
        ",".join(sorted(permissions.role_names(user))),
        "*" if scope is None else ",".join(sorted(scope)),
    ]
    question = sorted(request.GET.items())
    text = repr((who, question, translation.get_language(), _data_stamp()))
    return "dashboard-view:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@require_GET
@json_errors
def view_data(request: HttpRequest) -> JsonResponse:
    """The view's JSON; from the cache when its range ended before today (see VIEW_CACHE_SECONDS)."""
    start, end = params.time_range(request)
    behind = replica.reading_from_replica() and replica.status().lag_seconds != 0
    if end >= dt.date.today() or behind:  # a replica not caught up would put an older body under a new stamp
        return JsonResponse(_view_body(request))
    key = _view_key(request)
    body = cache.get(key)
    if body is None:
        body = _view_body(request)
        cache.set(key, body, VIEW_CACHE_SECONDS)
    return JsonResponse(body)


@require_GET
@json_errors
def forecast_view(request: HttpRequest) -> JsonResponse:
    """/dashboard/api/forecast?stat=&commune= : the next months with their band and the backtest
    (layers/forecast.py), for the user's communes or one of them. The figures depend only on the data and the
    communes asked, so they are kept until the data or the unit sets change (fitting takes a second or two)."""
    from layers import forecast

    user = request.user
    code = request.GET.get("stat")
    stats.get(user, code)  # a statistic the user may not see does not exist
    if code not in forecast.FORECASTABLE:
        names = ", ".join(forecast.FORECASTABLE)
        raise params.BadRequest(_("Chỉ dự báo được các chỉ tiêu: %(names)s.") % {"names": names})
    choice = params.unit_choice(request)
    focus = request.GET.get("commune")
    codes = (
        [params.commune(user, focus, choice).code] if focus else [u.code for u in params.visible_communes(user, choice)]
    )
    text = repr((code, sorted(codes), choice.slug, dt.date.today().isoformat(), _data_stamp()))
    key = "dashboard-forecast:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    body = cache.get(key)
    if body is None:
        try:
            body = forecast.forecast(code, codes, units=choice.slug)
        except forecast.ForecastError:
            raise params.BadRequest(_("Chưa đủ 24 tháng số liệu để dự báo chỉ tiêu này.")) from None
        cache.set(key, body, VIEW_CACHE_SECONDS)
    return JsonResponse(body)


def _view_body(request: HttpRequest) -> dict[str, Any]:
    """/dashboard/api/view : choropleth, KPI cards, series and category charts of one view, in one request.

    With ?commune=CODE the KPIs and charts are the commune's, with the district (the user's communes)
    alongside for comparison; the choropleth always covers all the user's communes.
    """
    user = request.user
    start, end = params.time_range(request)
    choice = params.unit_choice(request)
    units = choice.slug
    scope_codes = [u.code for u in params.visible_communes(user, choice)]
    focus = request.GET.get("commune")
    codes = [params.commune(user, focus, choice).code] if focus else scope_codes
    method, k = _method_k(request)
    stat = request.GET.get("stat")
    body: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat(), "communes": codes, "units": units}
    if stat:
        body["choropleth"] = stats.choropleth(user, stat, start, end, scope_codes, method, k, units=units)
        body["series"] = {"commune" if focus else "district": stats.series(user, stat, start, end, codes, units=units)}
        if focus:
            body["series"]["district"] = stats.series(user, stat, start, end, scope_codes, units=units)
    body["kpis"] = stats.kpis(user, start, end, codes, units=units)
    if focus:
        stats.add_district_average(
            body["kpis"], stats.kpis(user, start, end, scope_codes, units=units), len(scope_codes)
        )
        lists = [data.layer_rows(user, slug, codes, start, end) for slug in data.PROFILE_LISTS]
        body["lists"] = [x for x in lists if x is not None]
        body["history"] = unit_history(focus)
    body["categories"] = data.by_category(user, codes, start, end)
    return body


@require_GET
@json_errors
def commune_lists(request: HttpRequest, code: str) -> JsonResponse:
    """/dashboard/api/communes/<code>/lists : the commune's petitions, facilities and dossiers."""
    unit = params.commune(request.user, code, params.unit_choice(request))
    start, end = params.time_range(request)
    lists = [data.layer_rows(request.user, slug, [unit.code], start, end) for slug in data.PROFILE_LISTS]
    return JsonResponse({"code": unit.code, "name": unit.name, "lists": [x for x in lists if x is not None]})


@require_GET
@json_errors
def communes_view(request: HttpRequest) -> JsonResponse:
    """/dashboard/api/communes : the boundaries of the communes the user may see."""
    choice = params.unit_choice(request)
    codes = [u.code for u in params.visible_communes(request.user, choice)]
    return JsonResponse(data.communes_geojson(codes, choice.unit_set))


@require_GET
def search_view(request: HttpRequest) -> JsonResponse:
    """/dashboard/api/search?q= : communes, facilities, parcels and petitions, accents ignored."""
    return JsonResponse({"results": search.search(request.user, request.GET.get("q", ""))})
