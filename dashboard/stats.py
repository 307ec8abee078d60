"""The dashboard's view of layers.statistics: which statistics a user may see, the choropleth of one
statistic over every commune at once, the KPI cards, and the series behind the charts.

A statistic declares the tables it reads (`layers.statistics.SOURCES`); a user sees it when the
permission layer lets him see, for each of them, a catalog layer showing the whole table (so revenue, a
leaders' and agency layer, never reaches the public map). A table no layer shows hides the statistic:
visibility fails closed. Values are
always computed for a list of communes the caller already scoped to the user.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from dashboard import classify
from dashboard.params import BadRequest, NotFound
from gis_ioc import permissions
from layers.models import Layer


def _module() -> Any:
    from layers import statistics

    return statistics


def _table_layers() -> dict[str, list[Layer]]:
    """db table -> the catalog layers showing all of it (a filtered view, such as the approved zones
    only, does not publish the whole table), for every table a statistic reads."""
    tables = {table for stat in _module().STATISTICS.values() for table in stat.sources}
    vector = Layer.objects.vector()
    list(vector)  # one query: showing_all_of() iterates the evaluated queryset's cache
    return {table: vector.showing_all_of(table) for table in tables}


def can_view(user: Any, stat: Any, tables: dict[str, list[Layer]] | None = None) -> bool:
    """May the user see this statistic? Only when, for every table it reads, the user may see a layer
    showing that table. Aggregates inherit their sources' visibility: a count of staff-only records
    (parcels, dossiers) is not published on the public map; an undeclared or unpublished source hides it.
    """
    module = _module()
    sources = getattr(stat, "sources", ())
    if not sources:
        return permissions.is_admin(user)
    tables = tables if tables is not None else _table_layers()
    return all(
        table in module.REFERENCE_TABLES
        or any(permissions.can_view_layer(user, layer) for layer in tables.get(table, ()))
        for table in sources
    )


def title(stat: Any) -> str:
    if translation.get_language() == "en":
        return str(getattr(stat, "title_en", "") or stat.title_vi)
    return str(stat.title_vi)


def unit(stat: Any) -> str:
    if translation.get_language() == "en":
        return str(getattr(stat, "unit_en", "") or stat.unit or "")
    return str(getattr(stat, "unit", "") or "")


def describe(stat: Any) -> dict[str, Any]:
    return {
        "code": stat.code,
        "title": title(stat),
        "unit": unit(stat),
        "kind": str(getattr(stat, "kind", "") or ""),
    }


def visible(user: Any) -> list[dict[str, Any]]:
    """The statistics this user may map, in registry order."""
    tables = _table_layers()
    return [describe(s) for s in _module().STATISTICS.values() if can_view(user, s, tables)]


def get(user: Any, code: str | None) -> Any:
    """The statistic, or BadRequest/NotFound naming what is wrong (an invisible one does not exist)."""
    if not code:
        raise BadRequest(_("Hãy chọn một chỉ tiêu thống kê (tham số “stat”)."))
    stat = _module().STATISTICS.get(code)
    if stat is None or not can_view(user, stat):
        raise NotFound(_("Không có chỉ tiêu thống kê “%(code)s”.") % {"code": code})
    return stat


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def choropleth(
    user: Any,
    code: str | None,
    start: dt.date,
    end: dt.date,
    codes: list[str],
    method: str = "quantiles",
    k: int = 5,
    *,
    units: str | None = None,
) -> dict[str, Any]:
    """Every unit's value of one statistic in one call, classified, with the legend's breaks and how each
    figure was obtained (exact, or weighted where a unit was split).

    `code` comes straight from ?stat=: a missing or unknown one is refused by `get`; `units` is a unit
    set slug already resolved by dashboard.params.unit_choice."""
    stat = get(user, code)
    if method not in classify.METHODS:
        raise BadRequest(_("Cách phân lớp “%(m)s” không có; dùng quantiles, jenks hoặc equal.") % {"m": method})
    if not 2 <= k <= 7:
        raise BadRequest(_("Số lớp phải từ 2 đến 7."))
    module = _module()
    values = {
        c: _num(v)
        for c, v in module.commune_values(stat.code, start, end, communes=codes, units=units).items()
        if c in codes
    }
    methods = module.methods(stat.code, codes, units=units) if codes else {}
    bounds = classify.breaks(values.values(), method, k)
    palette = classify.colours(len(bounds))
    return {
        "statistic": describe(stat),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "method": method,
        "values": {c: values.get(c) for c in codes},
        "units": units,
        # Only the units whose figure is an estimate (a share of a split unit): "population" or "area".
        "estimated": {c: m for c, m in methods.items() if m != "exact"},
        "classes": {c: classify.class_of(values.get(c), bounds) for c in codes},
        "breaks": bounds,
        "colors": palette,
        "min": min((v for v in values.values() if v is not None), default=None),
        "district": _num(module.district_value(stat.code, start, end, communes=codes, units=units)),
    }


def kpis(
    user: Any, start: dt.date, end: dt.date, codes: list[str], *, units: str | None = None
) -> list[dict[str, Any]]:
    """KPI cards for the given communes: [{key, title, value, unit}], only statistics the user may see."""
    module = _module()
    tables = _table_layers()
    allowed = [c for c in module.KPI_CODES if c in module.STATISTICS and can_view(user, module.STATISTICS[c], tables)]
    # Only the KPIs the user may see are computed, all in one query.
    raw = module.district_values(allowed, start, end, communes=codes, units=units)
    cards = []
    for key, value in raw.items():
        stat = module.STATISTICS.get(key)
        if stat is None and not (user and user.is_authenticated):
            continue  # a KPI with no statistic behind it: not known to be public
        card = dict(value) if isinstance(value, dict) else {"value": value}
        card.setdefault("key", key)
        if stat is not None:
            card.setdefault("title", title(stat))
            card.setdefault("unit", unit(stat))
        else:
            card.setdefault("title", key)
            card.setdefault("unit", "")
        card["value"] = _num(card.get("value"))
        cards.append(card)
    return cards


def series(
    user: Any, code: str, start: dt.date, end: dt.date, codes: list[str], *, units: str | None = None
) -> list[list[Any]]:
    """The statistic over time (monthly, or yearly for long ranges) for the given communes."""
    get(user, code)
    interval = "year" if (end - start).days > 3 * 366 else "month"
    rows = _module().timeseries(code, start, end, communes=codes, interval=interval, units=units)
    return [[d.isoformat(), _num(v)] for d, v in rows]


def add_district_average(cards: list[dict[str, Any]], district: list[dict[str, Any]], n_communes: int) -> None:
    """Put the district figure next to each commune card: the weighted rate for ratios (rates, densities,
    per-10,000 figures), the total divided by the number of communes for counts and sums."""
    module = _module()
    by_key = {c["key"]: c.get("value") for c in district}
    for card in cards:
        value = by_key.get(card["key"])
        stat = module.STATISTICS.get(card["key"])
        if value is not None and stat is not None and not stat.ratio and stat.unit != "%" and n_communes:
            value = value / n_communes
        card["district"] = value
