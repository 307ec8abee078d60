"""Query parameters of the REST feature list, parsed into a layers.query.FeatureQuery."""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext as _

from gis_ioc import permissions
from gis_ioc.middleware import LANGUAGE_PARAM
from layers import query as q
from layers.models import Layer

RESERVED = {
    "bbox",
    "bbox-crs",
    "crs",
    "commune",
    "q",
    "date_from",
    "date_to",
    "datetime",
    "ordering",
    "fields",
    "limit",
    "offset",
    "count",
    "format",
    "filter",
    "filter-lang",
    "filter-crs",
    LANGUAGE_PARAM,
}
LOOKUPS = {"gt", "gte", "lt", "lte", "in", "ne"}


def parse_feature_query(params: QueryDict, layer: Layer, user: permissions.AnyUser) -> q.FeatureQuery:
    """Parse `?bbox=&commune=&q=&date_from=&date_to=&<field>[__gte|__lte|__gt|__lt|__in|__ne]=&ordering=
    &fields=&limit=&offset=&count=exact` (QueryError names the parameter at fault)."""
    source = q.layer_source(layer)
    columns = q.visible_columns(source, user, "rest")
    query = q.FeatureQuery(
        bbox=q.parse_bbox(params.get("bbox")),
        bbox_crs=q.parse_crs(params.get("bbox-crs"), "bbox-crs"),
        crs=q.parse_crs(params.get("crs"), "crs"),
        filter_crs=q.parse_crs(params.get("filter-crs"), "filter-crs"),
        limit=q.parse_int(params.get("limit"), "limit", 100, 1, q.MAX_LIMIT),
        offset=q.parse_int(params.get("offset"), "offset", 0, 0, 10**9),
        sortby=q.parse_sort(params.get("ordering"), set(columns) | {"id"}, "ordering"),
        properties=q.parse_properties(params.get("fields"), set(columns), "fields"),
        text=params.get("q", "").strip()[:200],
    )
    count = params.get("count")
    if count not in (None, "", "exact", "estimate"):
        raise q.QueryError("count", _("count phải là exact hoặc estimate."))
    query.exact_count = count == "exact"
    communes = [c.strip() for c in params.get("commune", "").split(",") if c.strip()]
    for code in communes:
        if not code.isdigit() or len(code) > 10:
            raise q.QueryError("commune", _("Mã xã là mã số GSO, ví dụ 24931."))
    query.communes = communes
    if params.get("datetime"):
        # OGC's parameter, also here: an instant or start/end (for a layer of unit versions: valid then).
        if params.get("date_from") or params.get("date_to"):
            raise q.QueryError("datetime", _("Dùng datetime hoặc date_from/date_to, không dùng cả hai."))
        query.time_start, query.time_end = q.parse_datetime(params.get("datetime"))
    elif params.get("date_from") or params.get("date_to"):
        query.time_start = q.parse_instant(params.get("date_from", ""), "date_from")
        query.time_end = q.parse_instant(params.get("date_to", ""), "date_to")
    if params.get("filter"):
        from layers.ogc.cql import parse_filter

        query.cql = parse_filter(str(params.get("filter")), params.get("filter-lang"))
    for key in params:
        if key in RESERVED:
            continue
        name, _sep, lookup = key.partition("__")
        if name not in columns or (lookup and lookup not in LOOKUPS):
            raise q.QueryError(key, _("Tham số không được hỗ trợ: %(p)s") % {"p": key[:60]})
        value = params.get(key) or ""
        if lookup == "in":
            query.filters.append((name, "in", [v for v in value.split(",") if v != ""]))
        else:
            query.filters.append((name, lookup or "eq", value))
    return query
