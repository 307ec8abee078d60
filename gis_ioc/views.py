"""Platform-level views: health check and language switch."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from gis_ioc import jobqueue, replica


def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the database versions and the job queue; 503 when the database cannot be reached.

    No live worker is reported as `"status": "degraded"` with 200: the web process itself is healthy
    (a load balancer must not take it out), but jobs will wait until a worker runs.
    """
    try:
        # cursor(), not ensure_connection(): only cursor() runs the CONN_HEALTH_CHECKS check that replaces a
        # connection the database dropped (a restart) instead of reporting it as down.
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
            pg_version, postgis_version = cursor.fetchone()
        queue = jobqueue.report()
    except DatabaseError as exc:
        # Drop the broken connection so the next probe reconnects instead of reusing it.
        connection.close_if_unusable_or_obsolete()
        return JsonResponse(
            {"status": "error", "database": "unreachable", "detail": str(exc).strip()[:300]}, status=503
        )
    body = {
        "status": "ok" if queue["workers_alive"] else "degraded",
        "database": "ok",
        "postgresql": pg_version,
        "postgis": postgis_version,
        "queue": queue,
    }
    if not queue["workers_alive"]:
        body["detail"] = str(jobqueue.NO_WORKER_MESSAGE)
    if replica.configured():
        # A lagging or unreachable replica is bypassed (reads go to the primary): reported, not an error.
        body["replica"] = replica.status(force=True).as_json()
        if not body["replica"]["used"]:
            body["status"] = "degraded"
    return JsonResponse(body)


def communes_geojson(request: HttpRequest) -> JsonResponse:
    """Current commune boundaries as GeoJSON (RFC 7946 lon/lat), the reference layer of the admin map: the
    "communes" catalog layer as the user may see it (his communes when he is scoped)."""
    from layers.query import outlines_geojson

    return JsonResponse(outlines_geojson("communes", request.user))
