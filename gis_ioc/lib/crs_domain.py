"""Where a coordinate reference system's numbers mean something: its domain, in its own units.

A projected CRS (VN-2000 / TM-3, UTM, Web Mercator) maps only part of the Earth; coordinates far outside
it (a bbox of ±1e15 metres) make PROJ fail inside PostGIS's ST_Transform, which is an error of the
request, not of the server. Every channel that takes coordinates in a CRS (bbox, CQL2 filter geometries,
imported files) checks them against this domain first and answers with the range a person can use.

The domain is the CRS's EPSG area of use widened by DOMAIN_MARGIN degrees — generous on purpose: a bbox
a little larger than Lâm Đồng in VN-2000 is a fair question — clipped to the world (Web Mercator stops at
±85.06° latitude), then projected.
"""

from __future__ import annotations

import math
from functools import lru_cache

from pyproj import CRS, Transformer

DOMAIN_MARGIN = 10.0  # degrees around the area of use
_MAX_LAT = 85.06  # Web Mercator's own limit; transverse Mercator is well-behaved there too

Bounds = tuple[float, float, float, float]


@lru_cache(maxsize=32)
def domain(srid: int) -> Bounds:
    """(minx, miny, maxx, maxy) in the CRS's x/y order and units where coordinates are usable."""
    crs = CRS.from_epsg(srid)
    if crs.is_geographic:
        return (-180.0, -90.0, 180.0, 90.0)
    area = crs.area_of_use
    west, south, east, north = area.bounds if area else (-180.0, -_MAX_LAT, 180.0, _MAX_LAT)
    west, east = max(-180.0, west - DOMAIN_MARGIN), min(180.0, east + DOMAIN_MARGIN)
    south, north = max(-_MAX_LAT, south - DOMAIN_MARGIN), min(_MAX_LAT, north + DOMAIN_MARGIN)
    to_crs = Transformer.from_crs(4326, srid, always_xy=True)
    minx, miny, maxx, maxy = to_crs.transform_bounds(west, south, east, north, densify_pts=41)
    return (minx, miny, maxx, maxy)


def within_domain(bounds: Bounds, srid: int) -> bool:
    """True when every number is finite and the box (x/y order) lies inside the CRS's domain."""
    if not all(math.isfinite(v) for v in bounds):
        return False
    minx, miny, maxx, maxy = domain(srid)
    return minx <= bounds[0] and miny <= bounds[1] and bounds[2] <= maxx and bounds[3] <= maxy


def describe(srid: int) -> str:
    """The domain as text for messages: 'x 1234 … 5678, y …' (rounded to whole units)."""
    minx, miny, maxx, maxy = domain(srid)
    if CRS.from_epsg(srid).is_geographic:
        return f"x {minx:g} … {maxx:g}, y {miny:g} … {maxy:g}"
    return f"x {minx:.0f} … {maxx:.0f}, y {miny:.0f} … {maxy:.0f}"
