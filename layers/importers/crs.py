"""Coordinate reference systems of incoming files: read the declared one, or guess it from the coordinates.

Cadastral files of Lâm Đồng are in VN-2000 / TM-3 107-45 (EPSG:5899) and often come without a .prj.
When nothing is declared, the coordinate ranges decide between WGS84 (degrees), swapped lat/lon, and the
VN-2000 projected systems; the guess is shown in the preview for the user to confirm. Reprojection itself
happens in PostGIS (ST_Transform), whose spatial_ref_sys carries the 7-parameter towgs84 datum shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db import connection
from pyproj import CRS, Transformer

WGS84 = 4326
VN2000_TOWGS84 = "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
# Candidate projected systems when no CRS is declared: the district's own zone first.
TM3_ZONES = [5899, 5896, 5897, 5898, *range(9205, 9219)]
UTM = [3405, 3406]
# Vietnam, generously: longitude 102–110 E, latitude 8–24 N.
VN_LON = (101.5, 110.5)
VN_LAT = (7.5, 24.5)


@dataclass
class CrsGuess:
    srid: int | None
    source: str  # "declared", "guessed", "unknown"
    swapped: bool = False
    candidates: list[int] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "srid": self.srid,
            "source": self.source,
            "swapped": self.swapped,
            "candidates": self.candidates,
            "note": self.note,
            "name": crs_name(self.srid) if self.srid else "",
        }


def crs_name(srid: int) -> str:
    try:
        return CRS.from_epsg(srid).name
    except Exception:  # noqa: BLE001 - an unknown code simply has no name
        return f"EPSG:{srid}"


def epsg_of(crs_text: str | None) -> int | None:
    """EPSG code of a WKT/PROJ/"EPSG:n" declaration, or None when it cannot be identified."""
    if not crs_text:
        return None
    try:
        crs = CRS.from_user_input(crs_text)
    except Exception:  # noqa: BLE001 - pyproj raises CRSError or others on garbage
        return None
    code = crs.to_epsg(min_confidence=70)
    if code is None and crs.name and "VN-2000" in crs.name:
        # ESRI .prj files name the zone but carry no authority code.
        for candidate in [*TM3_ZONES, *UTM, 4756]:
            if CRS.from_epsg(candidate).equals(crs, ignore_axis_order=True):
                return candidate
    if code == 4326 or (crs.is_geographic and code is None and "WGS" in (crs.name or "")):
        return WGS84
    return code


def _in_vietnam(lon: float, lat: float) -> bool:
    return VN_LON[0] <= lon <= VN_LON[1] and VN_LAT[0] <= lat <= VN_LAT[1]


def guess_from_bounds(bounds: tuple[float, float, float, float] | None) -> CrsGuess:
    """Guess the CRS from a bounding box (xmin, ymin, xmax, ymax) of undeclared coordinates."""
    if not bounds or any(v is None for v in bounds):
        return CrsGuess(None, "unknown", note="no coordinates")
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90 and _in_vietnam(cx, cy):
        return CrsGuess(WGS84, "guessed", candidates=[WGS84, 4756])
    if -90 <= xmin <= xmax <= 90 and -180 <= ymin <= ymax <= 180 and _in_vietnam(cy, cx):
        return CrsGuess(WGS84, "guessed", swapped=True, candidates=[WGS84], note="lat/lon swapped")
    if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90:
        return CrsGuess(WGS84, "guessed", candidates=[WGS84], note="outside Vietnam")
    swapped = False
    if 800_000 <= cx <= 2_700_000 and 100_000 <= cy <= 900_000:
        cx, cy, swapped = cy, cx, True  # northing first, as surveyors write X/Y
    if not (100_000 <= cx <= 900_000 and 800_000 <= cy <= 2_700_000):
        return CrsGuess(None, "unknown", note="coordinates match no Vietnamese system")
    local = int(getattr(settings, "IOC_LOCAL_SRID", 5899))
    ranked = _rank_projected(cx, cy, local)
    return CrsGuess(ranked[0], "guessed", swapped=swapped, candidates=ranked)


@lru_cache(maxsize=64)
def _to_wgs84(srid: int) -> Transformer:
    return Transformer.from_crs(srid, WGS84, always_xy=True)


def _rank_projected(x: float, y: float, local: int) -> list[int]:
    """Candidate VN-2000 systems, those placing the point inside Vietnam first, the district's zone first.

    Every TM-3 zone has the same false easting, so the numbers alone cannot tell zones apart: the
    district's own zone is preferred, which is what a district office receives almost always.
    """
    district_lon = _district_lon()
    scored = []
    for srid in [local, *[z for z in TM3_ZONES if z != local], *UTM]:
        lon, lat = _to_wgs84(srid).transform(x, y)
        inside = _in_vietnam(lon, lat)
        scored.append((0 if srid == local and inside else 1, 0 if inside else 1, abs(lon - district_lon), srid))
    return [s[-1] for s in sorted(scored)]


def _district_lon() -> float:
    return float(getattr(settings, "IOC_DISTRICT_LON", 108.55))


def ensure_srid(srid: int) -> None:
    """Add a VN-2000 system missing from PostGIS's spatial_ref_sys (e.g. the 92xx TM-3 zones), with towgs84."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", [srid])
        if cur.fetchone():
            return
        crs = CRS.from_epsg(srid)
        proj4 = crs.to_proj4()
        if "VN-2000" in crs.name and "towgs84" not in proj4:
            proj4 = proj4.replace("+type=crs", "").strip() + " " + VN2000_TOWGS84
        cur.execute(
            "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)"
            " VALUES (%s, 'EPSG', %s, %s, %s)"
            " ON CONFLICT (srid) DO NOTHING",
            [srid, srid, crs.to_wkt("WKT1_GDAL"), proj4],
        )
