"""What the policy allows, computed without any channel's code.

The rows of a layer are read here with the ORM of its model (`Layer.base_queryset()`, the catalog's own
source filter) or plain SQL over its table — never through layers.query, tiles.mvt or a view — and then
the policy of gis_ioc.permissions is applied: `can_view_layer`, `visible_fields(user, layer, channel)` and
`commune_scope`. The rules the policy is being changed to are encoded here already, so the matrix fails
where today's code leaks:

- a commune-scoped user sees only rows whose commune is in his scope;
- a layer that cannot be scoped (no commune column) shows nothing to a scoped user;
- an empty scope list means no commune at all, not "no limit";
- a private layer is absent (404) for whoever may not see it;
- fields outside visible_fields never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from gis_ioc import permissions
from layers.models import Layer


@dataclass(frozen=True)
class Row:
    """One row of a layer as stored: key, the commune that scopes it (None: cannot be scoped), the commune
    its geometry lies in (None without geometry), and the columns that hold a value."""

    id: str
    scope_commune: str | None
    geo_commune: str | None
    non_null: frozenset[str]
    point: tuple[float, float] | None = None  # lon/lat of a point on the row's geometry


@dataclass(frozen=True)
class Source:
    """How the oracle reads a layer: its real columns and whether it carries a commune."""

    columns: frozenset[str]
    commune_column: str | None
    has_geometry: bool


def source(layer: Layer) -> Source:
    """The layer's real columns (model fields or table columns) and its commune column."""
    model = layer.model_class()
    if model is not None:
        names = {f.name for f in model._meta.concrete_fields} | {f.attname for f in model._meta.concrete_fields}
        commune = (
            "commune_code"
            if "commune_code" in names
            else ("code" if model._meta.db_table == "gis_ioc_adminunit" else None)
        )
        has_geom = bool(layer.geometry_field) and (
            layer.geometry_field in names or (layer.geometry_field == "commune__geom" and "commune" in names)
        )
        return Source(frozenset(names), commune, has_geom)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s",
            [layer.source_table],
        )
        names = {r[0] for r in cur.fetchall()}
    return Source(frozenset(names), "commune_code" if "commune_code" in names else None, layer.geometry_field in names)


def geo_communes(
    geoms: list[Any], parse: str = "ST_GeomFromEWKB"
) -> list[tuple[str | None, tuple[float, float] | None]]:
    """(current commune, lon/lat) of each geometry's point-on-surface; `parse` reads the given form
    (EWKB bytes, GeoJSON or WKT text, all in EPSG:4326)."""
    if not geoms:
        return []
    kind = "bytea" if parse == "ST_GeomFromEWKB" else "text"
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT (SELECT u.code FROM gis_ioc_adminunit u WHERE u.level = 'commune' AND u.valid_to IS NULL
                    AND ST_Covers(u.geom, p.pt) LIMIT 1), ST_X(p.pt), ST_Y(p.pt)
            FROM unnest(%s::{kind}[]) WITH ORDINALITY AS g(raw, n)
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_SetSRID({parse}(g.raw), 4326)) AS pt) p
            ORDER BY g.n
            """,
            [list(geoms)],
        )
        return [(r[0], (r[1], r[2]) if r[1] is not None else None) for r in cur.fetchall()]


def rows(layer: Layer) -> list[Row]:
    """Every row of the layer, before any permission (the catalog's source filter applied, and for a layer
    of versioned rows — a validity pair — only the rows valid today, which is what it shows)."""
    src = source(layer)
    attrs = [a["name"] for a in layer.attributes or [] if a.get("name") in src.columns]
    model = layer.model_class()
    if model is not None:
        qs = layer.base_queryset().order_by("pk")
        if layer.temporal_field and layer.valid_to_field:
            import datetime as dt

            from django.db.models import Q

            today = dt.date.today()
            qs = qs.filter(**{f"{layer.temporal_field}__lte": today}).filter(
                Q(**{f"{layer.valid_to_field}__isnull": True}) | Q(**{f"{layer.valid_to_field}__gt": today})
            )
        geom_path = layer.geometry_field if src.has_geometry else None
        wanted = ["pk", *attrs] + ([src.commune_column] if src.commune_column else [])
        if geom_path:
            from django.contrib.gis.db.models.functions import AsWKB

            qs = qs.annotate(_lm_geom=AsWKB(geom_path))
            wanted.append("_lm_geom")
        values = list(qs.values(*wanted))
        geo = geo_communes([bytes(v["_lm_geom"]) if v.get("_lm_geom") else None for v in values]) if geom_path else []
        out = []
        for i, v in enumerate(values):
            out.append(
                Row(
                    id=str(v["pk"]),
                    scope_commune=v.get(src.commune_column) if src.commune_column else None,
                    geo_commune=geo[i][0] if geom_path else None,
                    non_null=frozenset(a for a in attrs if v.get(a) not in (None, "")),
                    point=geo[i][1] if geom_path else None,
                )
            )
        return out
    q = connection.ops.quote_name
    cols = ", ".join(q(a) for a in attrs)
    commune = q(src.commune_column) if src.commune_column else "NULL"
    geom = f"ST_AsBinary({q(layer.geometry_field)})" if src.has_geometry else "NULL"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {q(layer.id_field)}, {commune}, {geom}{', ' + cols if cols else ''} "  # noqa: S608
            f"FROM {q(layer.source_table)} ORDER BY 1"
        )
        raw = cur.fetchall()
    geo = geo_communes([bytes(r[2]) if r[2] is not None else None for r in raw])
    return [
        Row(
            str(r[0]),
            r[1],
            geo[i][0],
            frozenset(a for a, v in zip(attrs, r[3:], strict=True) if v not in (None, "")),
            geo[i][1],
        )
        for i, r in enumerate(raw)
    ]


def scope(user: Any) -> frozenset[str] | None:
    """The user's communes (None: not limited). An existing but empty scope list limits to nothing."""
    codes = permissions.commune_scope(user)
    if codes is not None:
        return codes
    if user is None or not user.is_authenticated or permissions.is_admin(user):
        return None
    try:
        held = user.scope.commune_codes
    except Exception:  # noqa: BLE001 - no UserScope row: not limited
        return None
    return frozenset(held or ())


def can_view(user: Any, layer: Layer) -> bool:
    return permissions.can_view_layer(user, layer)


def visible_rows(user: Any, layer: Layer, all_rows: list[Row]) -> list[Row]:
    """The rows this user may see: none of a private layer; only his communes when scoped; nothing of a
    layer that cannot be scoped when he is scoped."""
    if not can_view(user, layer):
        return []
    limit = scope(user)
    if limit is None:
        return list(all_rows)
    if source(layer).commune_column is None:
        return []
    return [r for r in all_rows if r.scope_commune in limit]


def fields(user: Any, layer: Layer, channel: str) -> frozenset[str]:
    """The attributes this user may see through a policy channel ("rest", "ogc", "tiles", "export",
    "dashboard"), limited to the layer's real columns."""
    if not can_view(user, layer):
        return frozenset()
    return frozenset(permissions.visible_fields(user, layer, channel)) & source(layer).columns


def visible_communes(user: Any) -> frozenset[str]:
    """Current communes the user may see (every one when not limited)."""
    from gis_ioc.models import AdminUnit

    codes = set(AdminUnit.objects.current().communes().values_list("code", flat=True))
    limit = scope(user)
    return frozenset(codes if limit is None else codes & limit)


def statistic_visible(user: Any, tables: frozenset[str]) -> bool:
    """A statistic may be shown when the user may see a catalog layer over every table it reads (an
    aggregate of a table is as private as the table); a table behind no layer (census population) does
    not limit it."""
    by_table: dict[str, list[Layer]] = {}
    for layer in Layer.objects.vector():
        try:
            table = layer.db_table()
        except LookupError:
            continue
        by_table.setdefault(table, []).append(layer)
    for table in tables:
        layers = by_table.get(table)
        if not layers:
            continue
        if not any(can_view(user, lyr) for lyr in layers):
            return False
    return True
