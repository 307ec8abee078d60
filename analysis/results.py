"""Writing results: a feature table registered in the layer catalog, so every channel (REST, OGC API,
tiles, MapProxy, exports, dashboard) serves it without new code.

Conventions shared with the channel owners: table in schema public, integer primary key `id`, geometry
column `geom` geometry(<Type>, 4326) with a GiST index, `commune_code` where meaningful. The caller runs
`write_features` and `register_layer` inside one transaction with the final status update, so a failed
or killed run leaves neither a table nor a catalog entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from layers.models import Layer

SQL_TYPES = {"string": "text", "integer": "integer", "number": "double precision", "date": "date"}
GEOMETRY_TYPES = ("Point", "MultiPoint", "MultiLineString", "MultiPolygon")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass
class Column:
    name: str
    title_vi: str
    title_en: str
    type: str = "string"  # string | integer | number | date


@dataclass
class FeatureSet:
    """Result features: rows are dicts of column values plus "geom" (WKB bytes or a WKT/EWKT string, 4326)."""

    geometry_type: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)
    legend: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.geometry_type not in GEOMETRY_TYPES:
            raise ValueError(f"unsupported geometry type {self.geometry_type}")
        for col in self.columns:
            if not _IDENT.match(col.name) or col.name in ("id", "geom") or col.type not in SQL_TYPES:
                raise ValueError(f"bad result column {col.name!r} ({col.type})")


def _geom_expr(geometry_type: str) -> str:
    # Normalise what PostGIS computed (a GeometryCollection from an intersection, a Polygon where the
    # column is Multi) to the declared type, so every channel can trust geometry_type.
    if geometry_type == "MultiPolygon":
        return "ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(%s)), 3))"
    if geometry_type == "MultiLineString":
        return "ST_Multi(ST_CollectionExtract(ST_GeomFromEWKB(%s), 2))"
    if geometry_type == "MultiPoint":
        return "ST_Multi(ST_CollectionExtract(ST_GeomFromEWKB(%s), 1))"
    return "ST_GeomFromEWKB(%s)"


def _wkb(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if hasattr(value, "ewkb"):  # GEOSGeometry
        return bytes(value.ewkb)
    if hasattr(value, "wkb"):  # shapely
        return bytes(value.wkb)
    raise TypeError(f"cannot write geometry of type {type(value).__name__}")


def write_features(table: str, features: FeatureSet) -> int:
    """(Re)create `table` with the features; returns the number of rows. Call inside a transaction."""
    if not _IDENT.match(table):
        raise ValueError(f"bad table name {table!r}")
    cols_sql = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in features.columns)
    names = [c.name for c in features.columns]
    gtype = features.geometry_type
    placeholders = ", ".join(["%s"] * len(names) + [_geom_expr(gtype)])
    # The 4326 SRID is set on WKB without one (shapely); EWKB keeps its own, which is 4326 by contract.
    insert = (
        f"INSERT INTO {table} ({', '.join([*names, 'geom'])}) "  # noqa: S608 - identifiers validated above
        f"SELECT {placeholders.replace('ST_GeomFromEWKB(%s)', 'ST_SetSRID(ST_GeomFromEWKB(%s), 4326)')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TABLE {table} (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            f"{', ' + cols_sql if cols_sql else ''}, geom geometry({gtype}, 4326) NOT NULL)"
        )
        params = [[row.get(n) for n in names] + [_wkb(row["geom"])] for row in features.rows]
        if params:
            cursor.executemany(insert, params)
        # Drop what normalisation emptied (e.g. a slivered intersection that was only a line).
        cursor.execute(f"DELETE FROM {table} WHERE ST_IsEmpty(geom)")  # noqa: S608
        cursor.execute(f"CREATE INDEX {table}_geom_gist ON {table} USING gist (geom)")
        if "commune_code" in names:
            cursor.execute(f"CREATE INDEX {table}_commune ON {table} (commune_code)")
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def drop_table(table: str) -> None:
    """Drop a result table if it exists."""
    if not _IDENT.match(table):
        raise ValueError(f"bad table name {table!r}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def register_layer(
    slug: str,
    table: str,
    features: FeatureSet,
    *,
    title_vi: str,
    title_en: str,
    description_vi: str = "",
    description_en: str = "",
    visibility: str = "staff",
    allowed_roles: list[str] | None = None,
) -> Layer:
    """Create or update the catalog entry of a result table, and bump its version (invalidates tiles)."""
    attributes = [
        {"name": c.name, "title_vi": c.title_vi, "title_en": c.title_en, "type": c.type, "visibility": "staff"}
        for c in features.columns
    ]
    values: dict[str, Any] = {
        "title_vi": title_vi[:200],
        "title_en": title_en[:200],
        "description_vi": description_vi,
        "description_en": description_en,
        "kind": Layer.Kind.VECTOR,
        "source_model": "",
        "source_table": table,
        "source_filter": {},
        "geometry_field": "geom",
        "geometry_type": features.geometry_type,
        "id_field": "id",
        "style": features.style,
        "legend": features.legend,
        "visibility": visibility,
        "allowed_roles": allowed_roles or [],
        "attributes": attributes,
        "search_fields": [c.name for c in features.columns if c.name == "commune_code"],
        "min_zoom": 6,
        "sort_order": 500,
    }
    layer, created = Layer.objects.update_or_create(slug=slug, defaults=values)
    if created:
        Layer.objects.filter(pk=layer.pk).update(data_updated_at=timezone.now())
    else:
        layer.record_change()
    layer.refresh_from_db()
    return layer
