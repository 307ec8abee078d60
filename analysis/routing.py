"""Travel time over a roads layer with pgRouting: the area reachable from the facilities within N minutes.

The roads layer is any catalog layer with line geometries (slug "roads" by default); an optional numeric
`speed_kmh` column gives each road its speed, otherwise one default speed applies. Roads are noded first
(ST_UnaryUnion on a 1 cm grid: robust fixed-precision noding), so lines that cross are connected even when
the source data was not split at intersections.
Reached roads are buffered by the access distance (the last stretch on foot) to give the served area.
"""

# ruff: noqa: S608 - table and column names come from the catalog and a whitelist; values are bound parameters.
from __future__ import annotations

from typing import Any

from django.db import connection

from analysis.registry import METRIC_SRID, AnalysisError


def _roads_source(slug: str) -> tuple[str, str, str, list[Any], bool]:
    """(FROM, geometry expression, WHERE, its parameters, has a speed column) of the roads layer,
    from the one layer source (so a filtered catalog view of a table reads only its rows)."""
    from layers.models import Layer
    from layers.source import SourceUnavailable, layer_source, table_columns

    layer = Layer.objects.filter(slug=slug, kind=Layer.Kind.VECTOR).first()
    try:
        source = layer_source(layer) if layer is not None else None
    except SourceUnavailable:
        source = None
    if source is None or source.geom is None:
        raise AnalysisError(
            f"Chưa có lớp đường giao thông '{slug}' trong danh mục: không thể tính theo thời gian đi. "
            "Hãy nhập lớp đường hoặc dùng cách đo theo khoảng cách."
        )
    has_speed = "speed_kmh" in table_columns(source.table)
    where = f"{source.geom} IS NOT NULL AND ({source.base_where})"
    return source.from_sql, source.geom, where, list(source.base_params), has_speed


def served_by_travel_time(
    facility_table: str, roads_slug: str, *, minutes: float, speed_kmh: float, access_m: float
) -> bytes | None:
    """WKB (4326) of the area within `minutes` of any facility over the roads, plus `access_m` on foot."""
    from_sql, geom, where, where_params, has_speed = _roads_source(roads_slug)
    speed = "COALESCE(NULLIF(speed_kmh, 0), %s)" if has_speed else "%s"
    m = METRIC_SRID
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
        cursor.execute("DROP TABLE IF EXISTS _ioc_roads, _ioc_edges, _ioc_nodes")
        cursor.execute(
            f"CREATE TEMP TABLE _ioc_roads AS SELECT ST_Transform({geom}, {m}) AS g, {speed}::float AS kmh "
            f"FROM {from_sql} WHERE {where}",  # noqa: S608 - identifiers from the layer source
            [speed_kmh, *where_params],
        )
        cursor.execute("SELECT count(*) FROM _ioc_roads")
        if not cursor.fetchone()[0]:
            raise AnalysisError(f"Lớp đường giao thông '{roads_slug}' đang rỗng.")
        # Split every road where another crosses it (fixed-precision overlay: plain ST_Node can fail to converge on
        # near-coincident lines), then give each piece the speed of the road it lies on.
        cursor.execute(
            """
            CREATE TEMP TABLE _ioc_edges AS
            WITH pieces AS (SELECT (ST_Dump(ST_UnaryUnion(ST_Collect(g), 0.01))).geom AS g FROM _ioc_roads)
            SELECT row_number() OVER ()::bigint AS id, p.g,
                   ST_SnapToGrid(ST_StartPoint(p.g), 0.5) AS a, ST_SnapToGrid(ST_EndPoint(p.g), 0.5) AS b,
                   ST_Length(p.g) / (COALESCE((SELECT max(r.kmh) FROM _ioc_roads r
                        WHERE ST_DWithin(r.g, ST_LineInterpolatePoint(p.g, 0.5), 0.5)), %s) / 3.6) AS cost
            FROM pieces p WHERE ST_Length(p.g) > 0
        """,
            [speed_kmh],
        )
        cursor.execute("""
            CREATE TEMP TABLE _ioc_nodes AS
            SELECT row_number() OVER ()::bigint AS id, p AS g
            FROM (SELECT a AS p FROM _ioc_edges UNION SELECT b FROM _ioc_edges) s;
            CREATE INDEX ON _ioc_nodes USING gist (g);
            ALTER TABLE _ioc_edges ADD COLUMN source bigint, ADD COLUMN target bigint;
            UPDATE _ioc_edges e SET source = (SELECT n.id FROM _ioc_nodes n WHERE n.g = e.a LIMIT 1),
                                    target = (SELECT n.id FROM _ioc_nodes n WHERE n.g = e.b LIMIT 1);
        """)
        # Each facility enters the network at its nearest node, if that node is within the access distance.
        cursor.execute(
            f"""
            SELECT array_agg(DISTINCT n.id) FROM {facility_table} f
            CROSS JOIN LATERAL (SELECT id, g FROM _ioc_nodes
                                ORDER BY g <-> ST_Transform(f.geom, {m}) LIMIT 1) n
            WHERE ST_DWithin(n.g, ST_Transform(f.geom, {m}), GREATEST(%s, 1000))
        """,
            [access_m],
        )  # noqa: S608 - whitelisted facility table
        starts = cursor.fetchone()[0] or []
        limit_s = minutes * 60
        cursor.execute(
            f"""
            WITH reach AS (
                SELECT node, min(agg_cost) AS t FROM pgr_drivingDistance(
                    'SELECT id, source, target, cost, cost AS reverse_cost FROM _ioc_edges',
                    %s::bigint[], %s::float, directed => false)
                GROUP BY node
            ),
            served_edges AS (
                SELECT e.g FROM _ioc_edges e JOIN reach ra ON ra.node = e.source JOIN reach rb ON rb.node = e.target
            ),
            parts AS (
                SELECT ST_Buffer(g, GREATEST(%s, 1)) AS g FROM served_edges
                UNION ALL
                SELECT ST_Buffer(ST_Transform(geom, {m}), GREATEST(%s, 1)) FROM {facility_table}
            )
            SELECT ST_AsBinary(ST_Transform(ST_Union(g), 4326)) FROM parts
        """,
            [starts or [0], limit_s, access_m, access_m],
        )  # noqa: S608
        row = cursor.fetchone()
        cursor.execute("DROP TABLE IF EXISTS _ioc_roads, _ioc_edges, _ioc_nodes")
    return bytes(row[0]) if row and row[0] else None
