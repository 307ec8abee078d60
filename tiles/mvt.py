"""Mapbox Vector Tiles from PostGIS: the tile SQL is built here and nowhere else.

One query per layer and tile: `ST_AsMVT` over `ST_AsMVTGeom`, the tile envelope from `ST_TileEnvelope`.
The features are selected with `geom && ST_Transform(envelope, 4326)`: the *envelope* is transformed,
never the indexed column, so the GiST index on the 4326 geometry answers the bbox test. A Web-Mercator
envelope maps to an exact lon/lat rectangle (the projection is separable), so nothing is lost.

Where the features live — table, join, key, typed columns, catalog filter and commune scope — is the one
layer source (`layers.source`) that every channel reads; this module only wraps it in ST_AsMVT. Only
whitelisted attributes the user may see through the "tiles" channel are selected. Coordinates are
validated before any query runs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_ioc import replica
from gis_ioc.permissions import AnyUser
from layers.source import LayerSource, SourceUnavailable
from layers.source import layer_source as shared_source

MAX_ZOOM = 24
EXTENT = 4096
BUFFER = 64
# Half the Web-Mercator world width, metres (EPSG:3857 bounds are ±this on both axes).
HALF_WORLD = 20037508.342789244
# Feature cap by zoom: (up to zoom, max features). A low-zoom tile over the whole district must stay small
# enough for a phone; at street level every feature of a tile fits.
FEATURE_CAP: tuple[tuple[int, int], ...] = ((10, 5_000), (12, 10_000), (14, 20_000), (MAX_ZOOM, 50_000))
# Lines and polygons are simplified below this zoom with a tolerance of one display pixel (a 512-px
# rendering of the 4096-unit tile); above it ST_AsMVTGeom's own grid snapping is enough.
SIMPLIFY_BELOW_ZOOM = 16
# Planner settings for the tile query only (SET LOCAL: they end with its transaction). The per-row
# ST_Transform/ST_AsMVTGeom in the select list makes PostgreSQL's cost model prefer a *parallel seq scan*
# over the GiST index (the projection cost is divided among workers), and push big tiles over the JIT
# thresholds, where compiling costs 25–165 ms and speeds up nothing (the work is in PostGIS C functions).
# Measured with EXPLAIN ANALYZE on the demo parcels: a z16 tile 27 ms -> 2.8 ms, z12 129 ms -> ~70 ms.
TILE_QUERY_SETTINGS: dict[str, str] = {"jit": "off", "max_parallel_workers_per_gather": "0"}


class TileError(Exception):
    """A request that cannot be served: `status` is the HTTP status, the message says what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    def bounds_3857(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the tile in EPSG:3857 metres."""
        size = 2 * HALF_WORLD / (1 << self.z)
        minx = -HALF_WORLD + self.x * size
        maxy = HALF_WORLD - self.y * size
        return minx, maxy - size, minx + size, maxy

    @property
    def width_m(self) -> float:
        return 2 * HALF_WORLD / (1 << self.z)


_INT = re.compile(r"^\d{1,9}$")


def parse_tile(z: str, x: str, y: str) -> Tile:
    """Validate tile coordinates from a URL before anything touches the database.

    Non-integers and negatives are a malformed request (400); a zoom beyond 24 or x/y ≥ 2^z name a
    tile that does not exist (404).
    """
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not _INT.match(str(raw)):
            raise TileError(
                400, _("Toạ độ ô %(name)s=%(value)s phải là số nguyên không âm.") % {"name": name, "value": raw}
            )
    zi, xi, yi = int(z), int(x), int(y)
    if zi > MAX_ZOOM:
        raise TileError(404, _("Mức thu phóng %(z)s nằm ngoài khoảng 0–%(max)s.") % {"z": zi, "max": MAX_ZOOM})
    limit = 1 << zi
    if xi >= limit or yi >= limit:
        raise TileError(
            404, _("Ô %(x)s/%(y)s không tồn tại ở mức %(z)s (x, y < %(n)s).") % {"x": xi, "y": yi, "z": zi, "n": limit}
        )
    return Tile(zi, xi, yi)


def feature_cap(z: int) -> int:
    """How many features a tile at this zoom may hold (IOC_TILE_MAX_FEATURES: one cap for every zoom)."""
    from tiles.conf import max_features

    return max_features() or next(cap for upto, cap in FEATURE_CAP if z <= upto)


# --- request filters ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TileFilters:
    """Query filters of a tile request: communes, a planning plan, a date range on the temporal field."""

    communes: tuple[str, ...] = ()
    plan: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def key(self) -> str:
        """A short stable text naming the filters (part of the cache key); empty when unfiltered."""
        parts = []
        if self.communes:
            parts.append("c" + "_".join(self.communes))
        if self.plan is not None:
            parts.append(f"p{self.plan}")
        if self.start or self.end:
            parts.append(f"d{self.start or ''}_{self.end or ''}")
        return "-".join(parts)

    def query_string(self) -> str:
        """The filters as a URL query string (TileJSON and style URLs carry them on)."""
        parts = []
        if self.communes:
            parts.append("commune=" + ",".join(self.communes))
        if self.plan is not None:
            parts.append(f"plan={self.plan}")
        if self.start:
            parts.append(f"start={self.start.isoformat()}")
        if self.end:
            parts.append(f"end={self.end.isoformat()}")
        return "&".join(parts)


def _parse_date(name: str, raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise TileError(
            400, _("%(name)s=%(value)s không phải ngày dạng YYYY-MM-DD.") % {"name": name, "value": raw}
        ) from exc


def parse_filters(params: Any, layer: Any | None = None) -> TileFilters:
    """Read commune/plan/start/end from a QueryDict; with a layer, refuse filters it cannot apply (400)."""
    communes: tuple[str, ...] = ()
    if params.get("commune"):
        codes = [c.strip() for c in params["commune"].split(",") if c.strip()]
        bad = [c for c in codes if not c.isdigit() or len(c) > 10]
        if bad:
            raise TileError(400, _("Mã xã không hợp lệ: %(codes)s.") % {"codes": ", ".join(bad)})
        communes = tuple(sorted(set(codes)))
    plan = None
    if params.get("plan"):
        if not params["plan"].isdigit():
            raise TileError(400, _("plan=%(value)s phải là mã số đồ án quy hoạch.") % {"value": params["plan"]})
        plan = int(params["plan"])
    start = _parse_date("start", params["start"]) if params.get("start") else None
    end = _parse_date("end", params["end"]) if params.get("end") else None
    if params.get("datetime"):
        # OGC's name for one day (the units valid on it): the same as start=end=that day.
        if start or end:
            raise TileError(400, _("Dùng datetime hoặc start/end, không dùng cả hai."))
        start = end = _parse_date("datetime", params["datetime"])
    if start and end and start > end:
        raise TileError(400, _("Ngày bắt đầu %(start)s sau ngày kết thúc %(end)s.") % {"start": start, "end": end})
    filters = TileFilters(communes, plan, start, end)
    if layer is not None:
        source = layer_source(layer)
        if source.valid_to_column is not None and not (start or end):
            # Versioned rows drawn "as of today": the day is part of the cache key, so a reform taking
            # effect at midnight is drawn from that day on, not from a tile cached the day before.
            today = timezone.localdate()
            filters = TileFilters(communes, plan, today, today)
        if plan is not None and not source.plan_column:
            raise TileError(400, _("Lớp %(slug)s không có trường đồ án quy hoạch (plan).") % {"slug": layer.slug})
        if (start or end) and not source.temporal_column:
            raise TileError(400, _("Lớp %(slug)s không có trường thời gian để lọc theo ngày.") % {"slug": layer.slug})
    return filters


# --- where the features of a layer live ------------------------------------------------------------------
def q(name: str) -> str:
    """Quote an SQL identifier."""
    return connection.ops.quote_name(name)


def layer_source(layer: Any) -> LayerSource:
    """The layer's one source (layers.source), or TileError(404) for a layer without vector geometry."""
    try:
        source = shared_source(layer)
    except SourceUnavailable:
        raise TileError(404, _("Lớp %(slug)s không có nguồn dữ liệu véc-tơ.") % {"slug": layer.slug}) from None
    if source.geom is None:
        raise TileError(404, _("Lớp %(slug)s không có hình học nên không có ô bản đồ.") % {"slug": layer.slug})
    return source


# --- the query ------------------------------------------------------------------------------------------
def _filter_sql(source: LayerSource, user: AnyUser, filters: TileFilters) -> tuple[list[str], list[Any]]:
    # Catalog filter, validity of versioned rows (on the asked days) and commune scope, as every channel.
    clauses, params = source.filter_sql(user, (filters.start, filters.end))
    if filters.communes:
        if not source.commune_column:
            raise TileError(400, _("Lớp này không có mã xã để lọc."))
        clauses.append(f"{source.commune_column} = ANY(%s)")
        params.append(list(filters.communes))
    if filters.plan is not None:
        clauses.append(f"{source.plan_column} = %s")
        params.append(filters.plan)
    if source.valid_to_column is not None:
        return clauses, params  # versioned rows: the dates asked which were valid then (filter_sql)
    for bound, op in ((filters.start, ">="), (filters.end, "<")):
        if bound is None:
            continue
        value: Any = bound if op == ">=" else bound + dt.timedelta(days=1)  # the end date is inclusive
        if source.temporal_is_datetime:
            value = timezone.make_aware(dt.datetime.combine(value, dt.time()))
        clauses.append(f"{source.temporal_column} {op} %s")
        params.append(value)
    return clauses, params


def tile_sql(
    layer: Any, user: AnyUser, tile: Tile, filters: TileFilters, fields: list[str], only_if: str = ""
) -> tuple[str, list[Any]]:
    """The complete SQL (and parameters) that renders one layer's tile as MVT bytes.

    `only_if`: an extra condition without columns (a guard, see render_tile); its parameters go last.
    """
    source = layer_source(layer)
    margin = BUFFER / EXTENT
    geom3857 = f"ST_Transform({source.geom}, 3857)"
    if not source.is_point and tile.z < SIMPLIFY_BELOW_ZOOM:
        geom3857 = f"ST_Simplify({geom3857}, {tile.width_m / 512:.6f}, true)"
    selected = [f"{source.columns[name].mvt_sql} AS {q(name)}" for name in fields if name in source.columns]
    fid = f"{source.pk} AS __fid" if source.pk_is_int else None
    select = ", ".join(
        [f"ST_AsMVTGeom({geom3857}, ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true) AS __geom"]
        + ([fid] if fid else [])
        + selected
    )
    clauses, params = _filter_sql(source, user, filters)
    where = " AND ".join(
        [f"{source.geom} && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => {margin}), {int(source.srid)})"]
        + clauses
    )
    fid_arg = ", '__fid'" if fid else ""
    # Identifiers come from the catalog through q() (quoted) and model metadata; values are bound parameters.
    sql = (
        f"SELECT ST_AsMVT(f.*, %s, {EXTENT}, '__geom'{fid_arg}) FROM ("  # noqa: S608
        f"SELECT {select} FROM {source.from_sql} WHERE {where} LIMIT {feature_cap(tile.z)}"
        f") AS f WHERE f.__geom IS NOT NULL{' AND ' + only_if if only_if else ''}"
    )
    coords = [tile.z, tile.x, tile.y]
    return sql, [layer.slug] + coords + coords + params


def _settings_prefix() -> str:
    """`SET LOCAL …;` statements for TILE_QUERY_SETTINGS (names and values are constants of this module)."""
    return "".join(f"SET LOCAL {name} = '{value}'; " for name, value in TILE_QUERY_SETTINGS.items())


def render_tile(layer: Any, user: AnyUser, tile: Tile, filters: TileFilters, fields: list[str]) -> bytes:
    """Run the tile query: the MVT bytes of one layer (empty bytes when no feature falls in the tile)."""
    sql, params = tile_sql(layer, user, tile, filters, fields)
    row = _run(sql, params)
    return bytes(row[0]) if row and row[0] is not None else b""


def render_tile_if(
    guard: tuple[str, list[Any], str], layer: Any, user: AnyUser, tile: Tile, filters: TileFilters, fields: list[str]
) -> bytes | None:
    """The tile as render_tile makes it, if `guard` holds in the same statement; None if it does not.

    `guard`: SQL returning one text value, its parameters, and the value expected (layers.catalog_cache's row hash:
    "the layer is still as this process knows it"). One round trip checks and renders.
    """
    sql, params = tile_sql(layer, user, tile, filters, fields, only_if="(SELECT value FROM ioc_guard) = %s")
    # A MATERIALIZED CTE runs once; the guard condition has no columns, so the planner makes it a one-time
    # filter above the scan: a failed guard skips the tile query altogether.
    sql = f"WITH ioc_guard (value) AS MATERIALIZED ({guard[0]}) SELECT ({sql}), (SELECT value FROM ioc_guard)"  # noqa: S608
    row = _run(sql, [*guard[1], *params, guard[2]])
    if row is None or row[1] != guard[2]:
        return None
    return bytes(row[0]) if row[0] is not None else b""


def _run(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """One tile statement under TILE_QUERY_SETTINGS, in one round trip."""
    # Django's psycopg cursor binds client-side (settings never turn on server_side_binding) and sends the
    # text as one simple-protocol query, whose statements run as one implicit transaction: `SET LOCAL`
    # covers the tile SELECT and ends with it, so nothing leaks into a pooled connection. One round trip
    # instead of four (BEGIN, set_config, SELECT, COMMIT). Inside a caller's transaction the settings last
    # to its end (tile queries only).
    with replica.reader().cursor() as cur:  # the primary, or a replica for a read-only request
        cur.execute(_settings_prefix() + sql, params)
        while cur.description is None and cur.nextset():  # skip the SET results
            pass
        return cur.fetchone()
