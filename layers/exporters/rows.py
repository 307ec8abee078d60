"""The rows of an export: whitelisted, permission-filtered columns and geometry, read in batches.

Batches are keyset-paged on the layer's key (`pk > last ORDER BY pk LIMIT n`), so a large layer is never
held in memory, and no server-side cursor has to outlive the request that started a streamed response.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gis_ioc import permissions, replica
from layers import query as lq
from layers.models import Layer

BATCH = 5000
AFTER = "/*after*/TRUE"
EXPORT_SRIDS = {4326: "WGS 84", 5899: "VN-2000 / TM-3 107-45 (Lâm Đồng)"}


class ExportError(ValueError):
    """A request that cannot be exported (bad format, CRS, filter): the doors turn it into a 400."""


@dataclass
class ExportRows:
    layer: Layer
    fields: list[tuple[str, str]]  # (name, type: string/integer/number/date/datetime/boolean)
    srid: int
    geometry_type: str
    select_sql: str  # with the AFTER placeholder for the keyset condition
    params: list[Any]
    pk_sql: str

    def batches(self, size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
        """Lists of rows (key, *values, geometry WKB, geometry GeoJSON text) in key order."""
        last: Any = None
        while True:
            after = "TRUE" if last is None else f"{self.pk_sql} > %s"
            params = self.params if last is None else [*self.params, last]
            with replica.reader().cursor() as cur:
                cur.execute(self.select_sql.replace(AFTER, after) + f" LIMIT {int(size)}", params)
                rows = cur.fetchall()
            if not rows:
                return
            yield rows
            if len(rows) < size:
                return
            last = rows[-1][0]


def export_rows(layer: Layer, user: permissions.AnyUser, query: lq.FeatureQuery, srid: int) -> ExportRows:
    """The export of a layer for a user: LayerNotFound when they may not export it, QueryError on filters."""
    if srid not in EXPORT_SRIDS:
        raise ExportError(f"CRS EPSG:{srid} is not offered for export; use 4326 or 5899")
    if not permissions.can_export_layer(user, layer):
        raise lq.LayerNotFound(layer.slug)
    source, columns, where = lq.prepare(layer, user, query, "export")
    if source.geom is None:
        raise ExportError(f"layer {layer.slug} has no geometry")
    names = [(n, c.type) for n, c in columns.items()]
    geom = source.geom if srid == source.srid else f"ST_Transform({source.geom}, {int(srid)})"
    cols = ", ".join(c.sql for c in columns.values())
    sql = (
        f"SELECT {source.pk}, {cols + ', ' if cols else ''}ST_AsBinary({geom}), ST_AsGeoJSON({geom}, 9) "  # noqa: S608
        f"FROM {source.from_sql} WHERE {where.sql} AND {AFTER} ORDER BY {source.pk}"
    )
    with replica.reader().cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT GeometryType({source.geom}) FROM {source.from_sql} WHERE {where.sql}",  # noqa: S608
            where.params,
        )
        types = sorted({r[0] for r in cur.fetchall() if r[0]})
    gtype = layer.geometry_type or (types[0].title() if len(types) == 1 else "Unknown")
    if len(types) == 1:
        gtype = {
            "MULTIPOLYGON": "MultiPolygon",
            "POLYGON": "Polygon",
            "POINT": "Point",
            "MULTIPOINT": "MultiPoint",
            "LINESTRING": "LineString",
            "MULTILINESTRING": "MultiLineString",
        }.get(types[0], gtype)
    return ExportRows(layer, names, srid, gtype, sql, list(where.params), source.pk)
