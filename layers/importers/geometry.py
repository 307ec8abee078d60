"""Geometry checks shared by the import preview and the commit: what a file's shapes may be.

GDAL hands over whatever the file says: a polygon ring of two points, a line of one point, NaN or 1e15
coordinates. GEOS refuses to even build some of those (a ring that cannot close), PostgreSQL's JSON
refuses NaN, and PROJ cannot transform numbers far outside a CRS. Each is the file's fault, so each
becomes a row-numbered issue in the preview and a refusal with a reason at commit — never a server error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _

from gis_ioc.lib import crs_domain
from layers.importers.safety import ImportRefused

Bounds = tuple[float, float, float, float]


def decode(wkb: Any) -> tuple[list[shapely.Geometry | None], dict[int, str]]:
    """Shapes of a WKB column (None where missing) and, by index, why a value could not be used."""
    geoms: list[shapely.Geometry | None] = []
    problems: dict[int, str] = {}
    for i, value in enumerate(wkb):
        if value is None:
            geoms.append(None)
            continue
        try:
            geom = shapely.from_wkb(value)
        except shapely.errors.GEOSException as exc:
            geoms.append(None)
            problems[i] = _("hình học hỏng (%(e)s)") % {"e": _geos_reason(exc)}
            continue
        geoms.append(geom)
        if geom is not None and not geom.is_empty:
            coords = shapely.get_coordinates(geom)
            if not np.isfinite(coords).all():
                problems[i] = _("toạ độ không phải số hữu hạn (NaN hoặc vô cực)")
    return geoms, problems


def _geos_reason(exc: Exception) -> str:
    """GEOS's message without its class prefix: 'Points of LinearRing do not form a closed linestring'."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split(": ", 1)[-1][:160]


def out_of_range(bounds: Bounds | None, srid: int | None) -> str | None:
    """Why the file's coordinates cannot be in `srid` (a message naming the usable range), or None."""
    if bounds is None or not srid:
        return None
    try:
        if crs_domain.within_domain(bounds, srid):
            return None
        usable = crs_domain.describe(srid)
    except Exception:  # noqa: BLE001 - a CRS PROJ does not know has no domain to check against
        return None
    return _(
        "Toạ độ của tệp (x %(x0)g … %(x1)g, y %(y0)g … %(y1)g) nằm ngoài phạm vi dùng được của EPSG:%(srid)d "
        "(%(usable)s); hãy kiểm tra hoặc chọn lại hệ toạ độ."
    ) % {"x0": bounds[0], "x1": bounds[2], "y0": bounds[1], "y1": bounds[3], "srid": srid, "usable": usable}


def check_range(bounds: Bounds | None, srid: int | None) -> None:
    """ImportRefused when the file's coordinates (x/y order) lie outside the CRS they are said to be in."""
    reason = out_of_range(bounds, srid)
    if reason:
        raise ImportRefused(reason)
