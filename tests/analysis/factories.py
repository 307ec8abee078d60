"""Small factories for analysis tests: squares measured in metres inside a commune of the demo district."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon

from gis_ioc.models import AdminUnit

UTM = 32648  # WGS 84 / UTM 48N: Đơn Dương lies in it; metres for building test shapes


def origin(commune_code: str) -> Point:
    """A point inside the commune, in UTM metres."""
    unit = AdminUnit.objects.current().communes().get(code=commune_code)
    p = unit.geom.point_on_surface
    p.srid = 4326
    return p.transform(UTM, clone=True)


def square(o: Point, x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    """A rectangle given in metres relative to the origin, as a 4326 MultiPolygon."""
    ring = ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    poly = Polygon([(o.x + x, o.y + y) for x, y in ring], srid=UTM)
    mp = MultiPolygon(poly, srid=UTM)
    return mp.transform(4326, clone=True)


def point(o: Point, x: float, y: float) -> Point:
    """A point given in metres relative to the origin, in 4326."""
    return Point(o.x + x, o.y + y, srid=UTM).transform(4326, clone=True)


def to_4326(geom: GEOSGeometry) -> GEOSGeometry:
    return geom.transform(4326, clone=True)
