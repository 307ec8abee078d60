"""The dashboard's JSON API: one aggregated request per view (all communes at once, never per commune)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from dashboard import data, params, search, stats


def json_errors(view: Callable[..., Any]) -> Callable[..., JsonResponse]:
    """Turn the parameter errors into 400/404 JSON bodies a person can read."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
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


@require_GET
@json_errors
def view_data(request: HttpRequest) -> JsonResponse:
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
    return JsonResponse(body)


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
