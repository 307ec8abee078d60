"""Platform-level views: health check and language switch."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the PostgreSQL and PostGIS versions; 503 when the database cannot be reached."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
            pg_version, postgis_version = cursor.fetchone()
    except DatabaseError as exc:
        # Drop the broken connection so the next probe reconnects instead of reusing it.
        connection.close_if_unusable_or_obsolete()
        return JsonResponse(
            {"status": "error", "database": "unreachable", "detail": str(exc).strip()[:300]}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "postgresql": pg_version, "postgis": postgis_version})


def communes_geojson(request: HttpRequest) -> JsonResponse:
    """Current commune boundaries as GeoJSON (RFC 7946 lon/lat), the reference layer of the admin map."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
                'type', 'Feature', 'properties', json_build_object('code', code, 'name', name),
                'geometry', ST_AsGeoJSON(geom, 6)::json)), '[]'::json))
            FROM gis_ioc_adminunit WHERE level = 'commune' AND valid_to IS NULL
            """
        )
        return JsonResponse(cursor.fetchone()[0])
