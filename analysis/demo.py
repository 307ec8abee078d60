"""Demo roads (a `load_demo` step), so travel-time coverage has a network to route on.

Synthetic and deterministic, not a survey: inter-commune roads join the communes' centres along a Delaunay
triangulation (50 km/h), and a village road (25 km/h) joins every school and health facility to the nearest
commune centre. Stored as the table `demo_roads` (LineString, 4326, `speed_kmh`) and registered as the
catalog layer `roads`, which `analysis.routing` uses by default. Replace it by importing real roads under the
same slug.
"""

# ruff: noqa: S608 - the SQL is assembled from module constants only.
from __future__ import annotations

from typing import TextIO

from django.db import connection, transaction

from analysis.registry import METRIC_SRID
from gis_ioc import distributed

TABLE = "demo_roads"
SLUG = "roads"

_BUILD_SQL = f"""
CREATE TABLE {TABLE} (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    road_class text NOT NULL,
    speed_kmh double precision NOT NULL,
    commune_code varchar(10),
    geom geometry(LineString, 4326) NOT NULL
);
WITH centres AS (
    SELECT code, ST_PointOnSurface(geom) AS g FROM gis_ioc_adminunit
    WHERE level = 'commune' AND valid_to IS NULL
),
triangles AS (
    SELECT (ST_Dump(ST_DelaunayTriangles(ST_Collect(ST_Transform(g, {METRIC_SRID}))))).geom AS t FROM centres
),
edges AS (
    SELECT DISTINCT ST_Transform(ST_MakeLine(LEAST(a, b), GREATEST(a, b)), 4326) AS g
    FROM (SELECT ST_PointN(ST_ExteriorRing(t), n) AS a, ST_PointN(ST_ExteriorRing(t), n + 1) AS b
          FROM triangles, generate_series(1, 3) n) s
)
INSERT INTO {TABLE} (name, road_class, speed_kmh, geom)
SELECT 'Đường liên xã ' || row_number() OVER (), 'lien_xa', 50, g FROM edges;
INSERT INTO {TABLE} (name, road_class, speed_kmh, geom)
SELECT 'Đường vào ' || f.name, 'duong_thon', 25, ST_MakeLine(c.g, f.geom)
FROM (SELECT name, geom FROM layers_school UNION ALL SELECT name, geom FROM layers_healthfacility) f
CROSS JOIN LATERAL (SELECT g FROM (SELECT ST_PointOnSurface(geom) AS g FROM gis_ioc_adminunit
                    WHERE level = 'commune' AND valid_to IS NULL) c ORDER BY c.g <-> f.geom LIMIT 1) c
WHERE NOT ST_Equals(c.g, f.geom);
UPDATE {TABLE} r SET commune_code = u.code FROM gis_ioc_adminunit u
WHERE u.level = 'commune' AND u.valid_to IS NULL AND ST_Covers(u.geom, ST_LineInterpolatePoint(r.geom, 0.5));
CREATE INDEX {TABLE}_geom_gist ON {TABLE} USING gist (geom);
"""


def clear() -> None:
    """Remove the demo roads and their catalog entry."""
    from layers.models import Layer

    with transaction.atomic():
        Layer.objects.filter(slug=SLUG, source_table=TABLE).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def load(stdout: TextIO, reset: bool = False) -> None:
    """Build the demo roads (idempotent; `reset` rebuilds them)."""
    from layers.models import Layer

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        exists = cursor.fetchone()[0]
    if exists and not reset:
        stdout.write("  demo roads: present")
        return
    if Layer.objects.filter(slug=SLUG).exclude(source_table=TABLE).exists():
        stdout.write("  demo roads: a real 'roads' layer exists, left alone")
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            distributed.read_reference_tables_locally(cursor)  # Citus: the new table is filled from them
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(_BUILD_SQL)
            cursor.execute(f"SELECT count(*), round(sum(ST_Length(geom::geography)) / 1000) FROM {TABLE}")
            count, km = cursor.fetchone()
        layer, _created = Layer.objects.update_or_create(
            slug=SLUG,
            defaults={
                "title_vi": "Đường giao thông (mẫu)",
                "title_en": "Roads (demo)",
                "description_vi": "Mạng đường tổng hợp để thử phân tích thời gian đi; không phải số liệu khảo sát.",
                "description_en": "A synthetic network for travel-time analyses; not survey data.",
                "source_table": TABLE,
                "source_model": "",
                "geometry_type": "LineString",
                "visibility": "public",
                "is_demo": True,
                "sort_order": 60,
                "style": {
                    "kind": "categories",
                    "field": "road_class",
                    "colors": {"lien_xa": "#e6550d", "duong_thon": "#fdae6b"},
                },
                "attributes": [
                    {
                        "name": "name",
                        "title_vi": "Tên đường",
                        "title_en": "Name",
                        "type": "string",
                        "visibility": "public",
                    },
                    {
                        "name": "road_class",
                        "title_vi": "Cấp đường",
                        "title_en": "Class",
                        "type": "string",
                        "visibility": "public",
                    },
                    {
                        "name": "speed_kmh",
                        "title_vi": "Tốc độ (km/h)",
                        "title_en": "Speed (km/h)",
                        "type": "number",
                        "visibility": "public",
                    },
                    {
                        "name": "commune_code",
                        "title_vi": "Mã xã",
                        "title_en": "Commune code",
                        "type": "string",
                        "visibility": "public",
                    },
                ],
            },
        )
        layer.record_change()
    stdout.write(f"  demo roads: {count} roads, {km:.0f} km")
