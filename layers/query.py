"""Features of a catalog layer for one user, filtered, sorted and paged — assembled as GeoJSON in PostGIS.

Every feature channel (REST, OGC API – Features, exports, dashboard) goes through this module so that the
permission rules are applied once:

- the layer must be visible to the user (`permissions.can_view_layer`), otherwise it does not exist;
- only the attributes of `permissions.visible_fields(user, layer, channel)` are ever selected, filtered,
  sorted or searched on;
- a user limited to some communes only gets features of those communes (`permissions.scope_sql`).

Typical use::

    source = layer_source(layer)
    q = FeatureQuery(bbox=(108.4, 11.7, 108.6, 11.9), limit=100)
    page = features_page(layer, user, q, channel="ogc")
    page.features_json  # '[{"type":"Feature",...}, ...]' built by json_agg, never parsed in Python

Spatial filters transform the request envelope into the storage CRS (so the GiST index on the stored
column is used) and the output CRS is applied with ST_Transform on the selected page only.
Values never enter SQL text: every literal is a query parameter; identifiers come from model metadata
or the catalog whitelist, never from the request.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, connection, transaction
from django.utils.translation import gettext as _

from gis_ioc import permissions, replica
from gis_ioc.lib import crs_domain
from layers import catalog_cache
from layers import source as sources
from layers.models import Layer
from layers.source import Column, LayerSource

# --- errors -----------------------------------------------------------------------------------


class QueryError(ValueError):
    """A request parameter that cannot be honoured: the APIs turn it into a 400 naming the parameter."""

    def __init__(self, parameter: str, description: str, code: str = "InvalidParameterValue") -> None:
        super().__init__(description)
        self.parameter = parameter
        self.description = description
        self.code = code


class LayerNotFound(LookupError):
    """The layer does not exist for this user (missing, private, or raster)."""


# --- coordinate reference systems -------------------------------------------------------------

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class CRS:
    """A supported CRS: its SRID, its URI and whether its axis order is latitude first (EPSG:4326)."""

    srid: int
    uri: str
    lat_first: bool = False
    geographic: bool = False

    @property
    def precision(self) -> int:
        """Decimal digits of output coordinates: ~1 cm in degrees, 1 mm in metres."""
        return 7 if self.geographic else 3


# The CRSs the APIs offer (OGC API – Features Part 2). 5899 is Lâm Đồng's VN-2000 cadastral zone,
# 3405 VN-2000 / UTM 48N; PostGIS carries both with the 7-parameter towgs84.
SUPPORTED_CRS: dict[str, CRS] = {
    CRS84: CRS(4326, CRS84, geographic=True),
    EPSG_URI.format(4326): CRS(4326, EPSG_URI.format(4326), lat_first=True, geographic=True),
    EPSG_URI.format(3857): CRS(3857, EPSG_URI.format(3857)),
    EPSG_URI.format(5899): CRS(5899, EPSG_URI.format(5899)),
    EPSG_URI.format(3405): CRS(3405, EPSG_URI.format(3405)),
}
DEFAULT_CRS = SUPPORTED_CRS[CRS84]
_CURIE = re.compile(r"^\[?(EPSG|OGC):(\d+|CRS84)\]?$", re.IGNORECASE)


def parse_crs(value: str | None, parameter: str = "crs") -> CRS:
    """The CRS named by an OGC URI (or `EPSG:n` / `CRS84` shorthand); QueryError when not offered."""
    if value is None or value == "":
        return DEFAULT_CRS
    text = value.strip()
    if text in SUPPORTED_CRS:
        return SUPPORTED_CRS[text]
    match = _CURIE.match(text)
    if match:
        auth, code = match.group(1).upper(), match.group(2).upper()
        uri = CRS84 if (auth, code) in {("OGC", "CRS84")} else EPSG_URI.format(code) if auth == "EPSG" else ""
        if uri in SUPPORTED_CRS:
            return SUPPORTED_CRS[uri]
    offered = ", ".join(SUPPORTED_CRS)
    raise QueryError(
        parameter,
        _("Hệ toạ độ không được hỗ trợ: %(crs)s. Dùng một trong: %(offered)s")
        % {"crs": text[:200], "offered": offered},
    )


# --- the layer's source ----------------------------------------------------------------------

FIELD_TYPES = ("string", "integer", "number", "date", "datetime", "boolean")


def _q(name: str) -> str:
    """Quote an identifier taken from model metadata or the catalog (never from a request)."""
    return connection.ops.quote_name(name)


def layer_source(layer: Layer) -> LayerSource:
    """The layer's one source (layers.source); LayerNotFound when it has no readable vector source."""
    try:
        return sources.layer_source(layer)
    except sources.SourceUnavailable:
        raise LayerNotFound(layer.slug) from None


def get_layer(slug: str, user: permissions.AnyUser) -> Layer:
    """The vector layer `slug` if the user may see it; LayerNotFound otherwise (a private layer does not
    exist for whoever may not see it). Read through the one catalog cache (layers.catalog_cache)."""
    layer = catalog_cache.current(slug)
    if layer is None or layer.kind != Layer.Kind.VECTOR or not permissions.can_view_layer(user, layer):
        raise LayerNotFound(slug)
    return layer


def visible_columns(source: LayerSource, user: permissions.AnyUser, channel: str) -> dict[str, Column]:
    """The columns this user may see through this channel, in catalog order."""
    names = permissions.visible_fields(user, source.layer, channel)
    return {n: source.columns[n] for n in names if n in source.columns}


# --- the request ------------------------------------------------------------------------------

OPERATORS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "IN", "ne": "<>"}
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
# Below this many rows (estimated) an exact count costs little; above it the planner's estimate is used
# unless the client asks for an exact count.
EXACT_COUNT_BELOW = 10_000


@dataclass
class FeatureQuery:
    """Parsed, validated request filters (see the parse_* helpers)."""

    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: CRS = DEFAULT_CRS
    communes: list[str] = field(default_factory=list)
    # (attribute name, operator key of OPERATORS, raw value or list of raw values)
    filters: list[tuple[str, str, Any]] = field(default_factory=list)
    time_start: dt.date | dt.datetime | None = None
    time_end: dt.date | dt.datetime | None = None
    text: str = ""
    cql: Any = None  # a pygeofilter AST, translated by layers.ogc.cql
    filter_crs: CRS = DEFAULT_CRS
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    properties: list[str] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    crs: CRS = DEFAULT_CRS
    exact_count: bool = False

    def is_filtered(self) -> bool:
        return bool(
            self.bbox or self.communes or self.filters or self.time_start or self.time_end or self.text or self.cql
        )


def parse_bbox(value: str | None, parameter: str = "bbox") -> tuple[float, float, float, float] | None:
    """Four (or six, 3-D) comma-separated numbers, min before max, in the axis order of bbox-crs."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise QueryError(
            parameter, _("bbox cần 4 số (minx,miny,maxx,maxy) hoặc 6 số, nhận được %(n)d.") % {"n": len(parts)}
        )
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise QueryError(parameter, _("bbox chỉ gồm các số, cách nhau bởi dấu phẩy.")) from None
    if any(n != n or n in (float("inf"), float("-inf")) for n in nums):
        raise QueryError(parameter, _("bbox chứa giá trị không hữu hạn."))
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if nums[0] > nums[2] or nums[1] > nums[3]:
        raise QueryError(parameter, _("bbox: giá trị nhỏ nhất phải không lớn hơn giá trị lớn nhất."))
    return nums[0], nums[1], nums[2], nums[3]


def bbox_in_crs(bbox: tuple[float, float, float, float], crs: CRS, parameter: str = "bbox") -> tuple[float, ...]:
    """Check a bbox against its CRS and return it in x/y (lon/lat) order."""
    if crs.lat_first:
        bbox = (bbox[1], bbox[0], bbox[3], bbox[2])
    if crs.geographic:
        if not (-180 <= bbox[0] <= 180 and -180 <= bbox[2] <= 180):
            raise QueryError(parameter, _("Kinh độ phải nằm trong [-180, 180]."))
        if not (-90 <= bbox[1] <= 90 and -90 <= bbox[3] <= 90):
            raise QueryError(parameter, _("Vĩ độ phải nằm trong [-90, 90]."))
    elif not crs_domain.within_domain(bbox, crs.srid):
        # Far outside a projected CRS's area PROJ cannot transform the envelope (a database error).
        raise QueryError(
            parameter,
            _("bbox nằm ngoài phạm vi dùng được của EPSG:%(srid)d (%(range)s).")
            % {"srid": crs.srid, "range": crs_domain.describe(crs.srid)},
        )
    return bbox


def parse_int(value: str | None, parameter: str, default: int, minimum: int, maximum: int) -> int:
    """An integer parameter within bounds, or QueryError naming it."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise QueryError(parameter, _("%(p)s phải là số nguyên.") % {"p": parameter}) from None
    if number < minimum or number > maximum:
        raise QueryError(
            parameter, _("%(p)s phải nằm trong [%(lo)d, %(hi)d].") % {"p": parameter, "lo": minimum, "hi": maximum}
        )
    return number


def parse_sort(value: str | None, allowed: set[str], parameter: str = "sortby") -> list[tuple[str, bool]]:
    """`+name,-pupils` (OGC sortby) or `name,-pupils` (REST ordering) on exposed fields."""
    if not value:
        return []
    result = []
    for item in value.split(","):
        item = item.strip()
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name not in allowed:
            raise QueryError(
                parameter,
                _("Không thể sắp xếp theo '%(f)s': trường không tồn tại hoặc không được công bố.") % {"f": name[:100]},
            )
        result.append((name, desc))
    return result


def parse_properties(value: str | None, allowed: set[str], parameter: str = "properties") -> list[str] | None:
    """A comma-separated subset of the exposed fields (None = all)."""
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise QueryError(
            parameter, _("Trường không tồn tại hoặc không được công bố: %(f)s") % {"f": ", ".join(unknown)[:200]}
        )
    return names


def parse_instant(value: str, parameter: str) -> dt.date | dt.datetime | None:
    """An RFC 3339 date or date-time; '..' or '' means open."""
    value = value.strip()
    if value in ("", ".."):
        return None
    try:
        if "T" in value or " " in value:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(
            parameter, _("Thời gian không hợp lệ: '%(v)s' (dùng RFC 3339, ví dụ 2024-01-31).") % {"v": value[:60]}
        ) from None


def parse_datetime(value: str | None, parameter: str = "datetime") -> tuple[Any, Any]:
    """OGC `datetime`: an instant, or `start/end` with `..` for an open end."""
    if not value:
        return None, None
    if "/" in value:
        start_text, _sep, end_text = value.partition("/")
        start, end = parse_instant(start_text, parameter), parse_instant(end_text, parameter)
        if start is None and end is None:
            raise QueryError(parameter, _("Khoảng thời gian phải có ít nhất một đầu mút."))
        if start is not None and end is not None and _as_datetime(start) > _as_datetime(end):
            raise QueryError(parameter, _("Thời điểm bắt đầu sau thời điểm kết thúc."))
        return start, end
    instant = parse_instant(value, parameter)
    return instant, instant


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def coerce(value: Any, kind: str, parameter: str) -> Any:
    """A request value converted to the column's type (QueryError on a mismatch)."""
    try:
        if kind == "integer":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if number != number:
                raise ValueError
            return number
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1"):
                return True
            if str(value).lower() in ("false", "0"):
                return False
            raise ValueError
        if kind in ("date", "datetime"):
            if isinstance(value, dt.date):
                return value
            parsed = parse_instant(str(value), parameter)
            if parsed is None:
                raise ValueError
            return parsed
        if not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError, OverflowError):
        raise QueryError(
            parameter, _("Giá trị '%(v)s' không đúng kiểu %(t)s.") % {"v": str(value)[:60], "t": kind}
        ) from None


# --- SQL assembly -----------------------------------------------------------------------------


@dataclass
class Where:
    """A growing WHERE clause with its parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
        self.clauses.append(sql)
        self.params.extend(params)

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) or "TRUE"


def envelope_sql(source: LayerSource, bbox: tuple[float, ...], srid: int) -> tuple[str, list[Any]]:
    """The request envelope transformed into the storage CRS (never transform the indexed column)."""
    env = "ST_MakeEnvelope(%s, %s, %s, %s, %s)"
    params: list[Any] = [*bbox, srid]
    if srid != source.srid:
        env = f"ST_Transform({env}, %s)"
        params.append(source.srid)
    return env, params


def build_where(
    source: LayerSource, user: permissions.AnyUser, query: FeatureQuery, columns: dict[str, Column]
) -> Where:
    """The full filter of a request: catalog source filter, commune scope, then the request's filters."""
    where = Where()
    # Catalog filter, validity (for versioned rows: the asked time, today by default) and commune scope.
    clauses, params = source.filter_sql(user, _validity_range(query))
    if clauses:
        where.add(" AND ".join(f"({c})" for c in clauses), params)
    if query.bbox is not None:
        if source.geom is None:
            raise QueryError("bbox", _("Lớp này không có hình học, không lọc được theo bbox."))
        bbox = bbox_in_crs(query.bbox, query.bbox_crs)
        env, params = envelope_sql(source, bbox, query.bbox_crs.srid)
        # && on the transformed envelope uses the GiST index; ST_Intersects keeps only true hits.
        where.add(f"{source.geom} && {env} AND ST_Intersects({source.geom}, {env})", params + params)
    if query.communes:
        if source.commune_column is None:
            raise QueryError("commune", _("Lớp này không gắn với xã, không lọc được theo xã."))
        where.add(f"{source.commune_column} = ANY(%s)", [list(query.communes)])
    for name, op, value in query.filters:
        column = columns.get(name)
        if column is None:
            raise QueryError(
                name, _("Không lọc được theo '%(f)s': trường không tồn tại hoặc không được công bố.") % {"f": name}
            )
        if op == "in":
            values = [coerce(v, column.type, name) for v in value]
            where.add(f"{column.sql} = ANY(%s)", [values])
        else:
            where.add(f"{column.sql} {OPERATORS[op]} %s", [coerce(value, column.type, name)])
    _add_time_filter(source, query, columns, where)
    if query.text:
        _add_text_search(source, query.text, where)
    if query.cql is not None:
        from layers.ogc.cql import cql_to_sql

        sql, params = cql_to_sql(query.cql, source, columns, query.filter_crs)
        where.add(sql, params)
    return where


def _validity_range(query: FeatureQuery) -> tuple[Any, Any]:
    """The request's time as days, for layers of versioned rows (`LayerSource.validity_sql`)."""
    start, end = query.time_start, query.time_end
    return (
        start.date() if isinstance(start, dt.datetime) else start,
        end.date() if isinstance(end, dt.datetime) else end,
    )


def _add_time_filter(source: LayerSource, query: FeatureQuery, columns: dict[str, Column], where: Where) -> None:
    if source.valid_to_column is not None:
        return  # versioned rows: the time asks which were valid then (filter_sql applies it)
    if query.time_start is None and query.time_end is None:
        return
    temporal = source.layer.temporal_field
    if not temporal or temporal not in columns:
        raise QueryError("datetime", _("Lớp này không có trường thời gian để lọc."))
    column = columns[temporal]
    if query.time_start is not None and query.time_start == query.time_end:
        where.add(f"{column.sql} = %s", [query.time_start])
        return
    if query.time_start is not None:
        where.add(f"{column.sql} >= %s", [query.time_start])
    if query.time_end is not None:
        end = query.time_end
        if column.type == "datetime" and not isinstance(end, dt.datetime):
            # A date as the end of a range includes that whole day.
            where.add(f"{column.sql} < %s", [end + dt.timedelta(days=1)])
        else:
            where.add(f"{column.sql} <= %s", [end])


def _add_text_search(source: LayerSource, text: str, where: Where) -> None:
    """Accent-insensitive substring search ("thanh my" finds "Thạnh Mỹ") on the layer's search fields."""
    layer = source.layer
    table_columns = {c for c in source.columns}
    exprs = []
    for name in layer.search_fields or []:
        if layer.attribute(name) is not None and name not in table_columns:
            continue
        if name in source.columns:
            exprs.append(source.columns[name].sql)
        elif layer.attribute(name) is None:
            # A search-only column (e.g. name_ascii) that the catalog does not publish but allows searching.
            exprs.append(f"{_q(source.table)}.{_q(name)}")
    if not exprs:
        raise QueryError("q", _("Lớp này không hỗ trợ tìm kiếm văn bản."))
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    ors = " OR ".join(f"unaccent(lower({e}::text)) LIKE unaccent(lower(%s))" for e in exprs)
    where.add(ors, [pattern] * len(exprs))


def _searchable_visible(source: LayerSource, user: permissions.AnyUser, channel: str) -> LayerSource:
    """Restrict text search to fields the user may see, so a search cannot reveal hidden values."""
    visible = set(permissions.visible_fields(user, source.layer, channel))
    hidden = {n for n in source.columns if n not in visible}
    if not hidden:
        return source
    restricted = dict(source.columns)
    for name in hidden:
        restricted.pop(name, None)
    return LayerSource(**{**source.__dict__, "columns": restricted})


def order_sql(source: LayerSource, sortby: list[tuple[str, bool]], columns: dict[str, Column]) -> str:
    """ORDER BY the requested fields, then the key so that pages are stable."""
    parts = []
    for name, desc in sortby:
        expr = source.pk if name == "id" else columns[name].sql
        parts.append(f"{expr} {'DESC NULLS LAST' if desc else 'ASC NULLS LAST'}")
    parts.append(f"{source.pk} ASC")
    return ", ".join(parts)


def geometry_sql(source: LayerSource, crs: CRS) -> str:
    """GeoJSON of the geometry in the output CRS (transform applied to output rows only)."""
    if source.geom is None:
        return "NULL::json"
    geom = source.geom if crs.srid == source.srid else f"ST_Transform({source.geom}, {int(crs.srid)})"
    if crs.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {crs.precision}, 0)::json"  # options 0: no legacy \"crs\" member


def feature_sql(source: LayerSource, columns: dict[str, Column], crs: CRS) -> str:
    """The json_build_object expression of one Feature."""
    props = ", ".join(f"'{name}', {col.sql}" for name, col in columns.items() if "'" not in name)
    if len(columns) > 50:
        # json_build_object takes at most 100 arguments; merge halves for very wide layers.
        items = list(columns.items())
        halves = [items[: len(items) // 2], items[len(items) // 2 :]]
        props_sql = " || ".join(
            "jsonb_build_object(" + ", ".join(f"'{n}', {c.sql}" for n, c in half) + ")" for half in halves
        )
        props_expr = f"({props_sql})::json"
    else:
        props_expr = f"json_build_object({props})"
    return (
        f"json_build_object('type', 'Feature', 'id', {source.pk}, 'geometry', {geometry_sql(source, crs)}, "
        f"'properties', {props_expr})"
    )


PROPS_ALIAS = "ioc_props"


def feature_text_sql(source: LayerSource, columns: dict[str, Column], crs: CRS) -> tuple[str, str]:
    """One Feature as compact GeoJSON text, and the LATERAL join that names its properties.

    Same JSON as feature_sql, ~35 % cheaper on large pages: the geometry text of ST_AsGeoJSON is
    concatenated as is (no ::json parse and re-serialisation) and the properties come from row_to_json
    over a LATERAL projection (no 100-argument limit, no spaces after separators)."""
    # The alias is the public name as a quoted identifier (embedded quotes doubled), so row_to_json names
    # the member exactly as json_build_object did.
    props = ", ".join(
        '{} AS "{}"'.format(col.sql, name.replace('"', '""')) for name, col in columns.items() if "'" not in name
    )
    lateral = f", LATERAL (SELECT {props}) {PROPS_ALIAS}"
    if source.geom is None:
        geometry = "'null'"
    else:
        geometry = f"coalesce({geometry_sql(source, crs).removesuffix('::json')}, 'null')"
    expr = (
        f"""'{{"type":"Feature","id":' || to_json({source.pk})::text || ',"geometry":' || {geometry}"""
        f""" || ',"properties":' || row_to_json({PROPS_ALIAS})::text || '}}'"""
    )
    return expr, lateral


# --- results ----------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of features: the GeoJSON features array as text, and counts."""

    features_json: str
    number_returned: int
    number_matched: int | None
    matched_is_estimate: bool
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        if self.number_returned < self.limit:
            return False
        if self.number_matched is not None and not self.matched_is_estimate:
            return self.offset + self.number_returned < self.number_matched
        return True


def _selected_columns(
    source: LayerSource, user: permissions.AnyUser, query: FeatureQuery, channel: str
) -> dict[str, Column]:
    columns = visible_columns(source, user, channel)
    if query.properties is not None:
        columns = {n: columns[n] for n in query.properties if n in columns}
    return columns


def prepare(
    layer: Layer, user: permissions.AnyUser, query: FeatureQuery, channel: str
) -> tuple[LayerSource, dict[str, Column], Where]:
    """Permission check, source description and WHERE clause of a request (shared by every output)."""
    if not permissions.can_view_layer(user, layer):
        raise LayerNotFound(layer.slug)
    source = _searchable_visible(layer_source(layer), user, channel)
    columns = visible_columns(source, user, channel)
    for name, _desc in query.sortby:
        if name != "id" and name not in columns:
            raise QueryError("sortby", _("Không thể sắp xếp theo '%(f)s'.") % {"f": name})
    return source, columns, build_where(source, user, query, columns)


def outlines_geojson(
    slug: str, user: permissions.AnyUser, *, simplify: float | None = None, precision: int = 6
) -> dict[str, Any]:
    """A whole small layer (commune outlines for a map's reference layer) as one GeoJSON FeatureCollection
    in lon/lat, through the one source: the layer's visibility, its visible fields and the user's commune
    scope apply as on every channel. An empty collection when the user may not see the layer."""
    try:
        layer = get_layer(slug, user)
        source = layer_source(layer)
    except LayerNotFound:
        return {"type": "FeatureCollection", "features": []}
    if source.geom is None:
        return {"type": "FeatureCollection", "features": []}
    columns = visible_columns(source, user, "rest")
    props = ", ".join(f"%s, {c.sql}" for c in columns.values()) or ""
    geom = source.geom if source.srid == 4326 else f"ST_Transform({source.geom}, 4326)"
    if simplify:
        geom = f"ST_SimplifyPreserveTopology({geom}, %s)"
    clauses, params = source.filter_sql(user)
    where = " AND ".join(f"({c})" for c in clauses) or "TRUE"
    # Identifiers come from the layer source (model metadata, quoted); values are parameters.
    sql = (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object("  # noqa: S608
        f"'type', 'Feature', 'properties', json_build_object({props}), "
        f"'geometry', ST_AsGeoJSON({geom}, %s)::json)), '[]'::json)) FROM {source.from_sql} WHERE {where}"
    )
    args: list[Any] = [*columns.keys(), *([simplify] if simplify else []), precision, *params]
    with replica.reader().cursor() as cursor:
        cursor.execute(sql, args)
        row = cursor.fetchone()
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def features_page(layer: Layer, user: permissions.AnyUser, query: FeatureQuery, channel: str = "rest") -> Page:
    """One page of GeoJSON features for the user, assembled as text in PostGIS, with numberMatched.

    numberMatched is exact on the last page, the planner's estimate at or above EXACT_COUNT_BELOW rows,
    and otherwise exact. A filtered request asks the planner first (one EXPLAIN): when its estimate is
    small, the exact count rides in the page query as `count(*) OVER ()` — the scan that picks the page
    already visits every matching row, so the count costs the window's buffering, not a second scan.
    """
    source, columns, where = prepare(layer, user, query, channel)
    selected = _selected_columns(source, user, query, channel)
    feature, lateral = feature_text_sql(source, selected, query.crs)
    estimate = None
    if not _estimate_from_pg_class(source, query, where):
        estimate = _planner_estimate(source, where)
    fold_count = estimate is not None and estimate < EXACT_COUNT_BELOW
    # An unfiltered table's row estimate rides along in the same round trip (used only on a full page).
    reltuples = ""
    if estimate is None:
        reltuples = ", (SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass)"
    order = order_sql(source, query.sortby, columns)
    if fold_count:
        # The window runs over the keys alone (a few MB even when the estimate was far too low), then the
        # page's rows are read again by key: cheaper than buffering every matching row with its geometry.
        page_sql = (
            f"SELECT {feature} AS j, ioc_page.ioc_matched AS n FROM ("  # noqa: S608
            f"SELECT {source.pk} AS ioc_key, count(*) OVER () AS ioc_matched FROM {source.from_sql} "
            f"WHERE {where.sql} ORDER BY {order} LIMIT %s OFFSET %s) ioc_page, {source.from_sql}{lateral} "
            f"WHERE {source.pk} = ioc_page.ioc_key ORDER BY {order}"
        )
    else:
        page_sql = (
            f"SELECT {feature} AS j FROM {source.from_sql}{lateral} "  # noqa: S608
            f"WHERE {where.sql} ORDER BY {order} LIMIT %s OFFSET %s"
        )
    total = ", max(f.n)" if fold_count else ""
    sql = f"SELECT '[' || coalesce(string_agg(f.j, ','), '') || ']', count(*){total}{reltuples} FROM ({page_sql}) f"  # noqa: S608
    params = [*([source.table] if reltuples else []), *where.params, query.limit, query.offset]
    with replica.reader().cursor() as cursor:
        _execute(cursor, sql, params)
        features_json, returned, *rest = cursor.fetchone()
    folded = rest[0] if fold_count else None
    if estimate is None:
        estimate = rest[0]
    matched, is_estimate = _number_matched(source, query, where, returned, estimate, folded)
    return Page(features_json, returned, matched, is_estimate, query.limit, query.offset)


def _estimate_from_pg_class(source: LayerSource, query: FeatureQuery, where: Where) -> bool:
    return not query.exact_count and where.sql == "TRUE" and not source.join


def _planner_estimate(source: LayerSource, where: Where) -> int:
    """The planner's row estimate for the request's filter (EXPLAIN plans without running it)."""
    with replica.reader().cursor() as cursor:
        _execute(cursor, f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source.from_sql} WHERE {where.sql}", where.params)  # noqa: S608
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _plan_rows(plan[0]["Plan"])


def _plan_rows(node: dict[str, Any]) -> int:
    """The plan's row estimate. On Citus (docs/scaling.md) a distributed scan carries a fixed 100000: take
    the shard plan it shows (one of its tasks) times the number of tasks instead."""
    job = node.get("Distributed Query", {}).get("Job", {})
    try:
        shard = job["Tasks"][0]["Remote Plan"][0][0]["Plan"]
        return int(shard["Plan Rows"]) * int(job["Task Count"])
    except (KeyError, IndexError, TypeError, ValueError):
        return int(node["Plan Rows"])


def _execute(cursor: Any, sql: str, params: list[Any]) -> None:
    """Run a request's query; a value PostgreSQL cannot take (out of range, bad date) is the client's error."""
    try:
        if cursor.db.in_atomic_block:  # the cursor's own database (the primary, or the replica: gis_ioc.replica)
            with transaction.atomic(using=cursor.db.alias):  # a savepoint keeps the transaction usable after an error
                cursor.execute(sql, params)
        else:
            cursor.execute(sql, params)  # autocommit: no BEGIN/COMMIT round trips on the hot path
    except DataError as exc:
        raise QueryError("filter", _("Giá trị không hợp lệ: %(e)s") % {"e": str(exc).splitlines()[0][:200]}) from None


def _number_matched(
    source: LayerSource,
    query: FeatureQuery,
    where: Where,
    returned: int,
    estimate: int | None,
    folded: int | None,
) -> tuple[int | None, bool]:
    """Exact when free (last page, folded count), small or asked for; otherwise the planner's estimate."""
    if returned < query.limit and (returned > 0 or query.offset == 0):
        return query.offset + returned, False  # the last page tells the total for free
    if folded is not None:
        return folded, False
    if not query.exact_count and estimate is not None and estimate >= EXACT_COUNT_BELOW:
        return estimate, True
    # A small or requested count that did not ride in the page query (unfiltered small table, large
    # estimate with ?count=exact, or an offset past the end).
    with replica.reader().cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {source.from_sql} WHERE {where.sql}", where.params)  # noqa: S608
        return cursor.fetchone()[0], False


def coerce_fid(source: LayerSource, fid: str) -> Any:
    """The feature id as the key's type, or None when it cannot be one (then: not found)."""
    if source.pk_type == "integer":
        try:
            number = int(fid)
        except (TypeError, ValueError):
            return None
        return number if -(2**63) <= number < 2**63 else None
    return fid


def feature_json(
    layer: Layer,
    user: permissions.AnyUser,
    fid: str,
    crs: CRS = DEFAULT_CRS,
    channel: str = "rest",
    properties: list[str] | None = None,
) -> str | None:
    """One feature as GeoJSON text, or None when it does not exist for this user."""
    query = FeatureQuery(crs=crs, properties=properties)
    source, columns, where = prepare(layer, user, query, channel)
    key = coerce_fid(source, fid)
    if key is None:
        return None
    selected = _selected_columns(source, user, query, channel)
    sql = f"SELECT ({feature_sql(source, selected, crs)})::text FROM {source.from_sql} WHERE {where.sql} AND {source.pk} = %s"  # noqa: E501, S608
    with replica.reader().cursor() as cursor:
        cursor.execute(sql, [*where.params, key])
        row = cursor.fetchone()
    return row[0] if row else None


def feature_rows(
    layer: Layer, user: permissions.AnyUser, query: FeatureQuery, channel: str = "export", geometry: str = "wkt"
) -> Iterator[list[Any]]:
    """Rows for tabular outputs (CSV, spreadsheets): a header row, then id, visible attributes, geometry
    (WKT in the output CRS, or None when the layer has none). Streams with a server-side cursor."""
    source, columns, where = prepare(layer, user, query, channel)
    selected = _selected_columns(source, user, query, channel)
    geom = "NULL"
    if source.geom is not None:
        g = source.geom if query.crs.srid == source.srid else f"ST_Transform({source.geom}, {int(query.crs.srid)})"
        if query.crs.lat_first:
            g = f"ST_FlipCoordinates({g})"
        geom = f"ST_AsText({g}, {query.crs.precision})" if geometry == "wkt" else f"ST_AsGeoJSON({g})"
    cols = ", ".join(c.sql for c in selected.values())
    sql = (
        f"SELECT {source.pk}, {cols + ', ' if cols else ''}{geom} FROM {source.from_sql} WHERE {where.sql} "  # noqa: S608
        f"ORDER BY {order_sql(source, query.sortby, columns)} LIMIT %s OFFSET %s"
    )
    yield ["id", *selected.keys(), "geometry"]
    with replica.reader().cursor() as cursor:
        cursor.execute(sql, [*where.params, query.limit, query.offset])
        while True:
            batch = cursor.fetchmany(2000)
            if not batch:
                break
            yield from (list(r) for r in batch)


def extent(layer: Layer, user: permissions.AnyUser, channel: str = "ogc") -> tuple[float, float, float, float] | None:
    """The lon/lat bounding box of the features this user may see (uses ST_EstimatedExtent when unscoped)."""
    source, _columns, where = prepare(layer, user, FeatureQuery(), channel)
    if source.geom is None:
        return None
    geom = source.geom if source.srid == 4326 else f"ST_Transform({source.geom}, 4326)"
    box = None
    with replica.reader().cursor() as cursor:
        if where.sql == "TRUE" and source.geom_column and source.srid == 4326:
            # The planner's statistics give the extent of a large table without reading it.
            cursor.execute("SELECT ST_EstimatedExtent(%s, %s)::text", [source.table, source.geom_column])
            box = cursor.fetchone()[0]
        if not box:
            sql = f"SELECT ST_Extent({geom})::text FROM {source.from_sql} WHERE {where.sql}"  # noqa: S608
            cursor.execute(sql, where.params)
            box = cursor.fetchone()[0]
    if not box:
        return None
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", box)]
    return nums[0], nums[1], nums[2], nums[3]
