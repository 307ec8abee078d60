"""Zoning engine: how one planning plan changes the land compared with another, and which parcels
conflict with a plan. The planners' map (issue 8) and the analysis jobs both call it.

All areas are computed in PostGIS on the geography type (geodesic square metres), never in degrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from layers.landuse import LAND_USE_CODES, group_of

# The conflict rule. A parcel conflicts with a planned zone when
#   - the zone covers at least MIN_OVERLAP_SHARE of the parcel's area (a sliver along a shared boundary
#     is a digitising artefact, not a conflict), and
#   - the parcel's current land-use code differs from the zone's planned code ("code" rule, default), or
#     its legal group differs (agricultural / non-agricultural / unused: the "group" rule, which ignores
#     e.g. LUC -> LUK or ONT -> TMD changes and keeps only conversions that need a land-use-change permit).
MIN_OVERLAP_SHARE = 0.10
CONFLICT_RULES = ("code", "group")


def is_conflict(
    land_use: str | None,
    planned: str | None,
    share: float | None,
    *,
    rule: str = "code",
    min_share: float = MIN_OVERLAP_SHARE,
) -> bool:
    """THE conflict rule, for one parcel and one zone: the zone covers at least `min_share` of the parcel
    and the planned code differs from the current one (or, `rule="group"`, its legal group does).
    `parcel_conflicts` (whole communes) and the citizens' lookup (one parcel) both ask it."""
    if share is None or share < min_share or not land_use or not planned or land_use == planned:
        return False
    return not (rule == "group" and group_of(land_use) == group_of(planned))


def _communes_clause(communes: Iterable[str] | None, column: str) -> tuple[str, list[Any]]:
    if communes is None:
        return "TRUE", []
    return f"{column} = ANY(%s)", [sorted({str(c) for c in communes})]


def class_name(code: str | None) -> str:
    """The Vietnamese name of a land-use code ('' for None or an unknown code)."""
    if not code:
        return ""
    entry = LAND_USE_CODES.get(code)
    return entry[0] if entry else code


_COMPARE_SQL = """
WITH communes AS (
    SELECT code, geom FROM gis_ioc_adminunit
    WHERE level = 'commune' AND valid_from <= CURRENT_DATE AND (valid_to IS NULL OR valid_to > CURRENT_DATE)
      AND {communes}
),
a AS (SELECT land_use, geom FROM layers_planningzone WHERE plan_id = %s),
b AS (SELECT land_use, geom FROM layers_planningzone WHERE plan_id = %s),
-- Overlaps of the two plans, clipped to each commune (a zone may straddle a boundary).
pairs AS (
    SELECT c.code AS commune_code, a.land_use AS from_class, b.land_use AS to_class,
           ST_Area(ST_Intersection(ST_Intersection(a.geom, b.geom), c.geom)::geography) AS m2
    FROM a JOIN b ON a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
    JOIN communes c ON c.geom && a.geom AND c.geom && b.geom AND ST_Intersects(c.geom, a.geom)
),
-- What each plan covers per commune and class; the part of A that B leaves unplanned (and vice
-- versa) is the difference between these totals and the overlaps (zones of one plan do not overlap).
a_tot AS (
    SELECT c.code AS commune_code, a.land_use AS cls, SUM(ST_Area(ST_Intersection(a.geom, c.geom)::geography)) AS m2
    FROM a JOIN communes c ON c.geom && a.geom AND ST_Intersects(c.geom, a.geom) GROUP BY 1, 2
),
b_tot AS (
    SELECT c.code AS commune_code, b.land_use AS cls, SUM(ST_Area(ST_Intersection(b.geom, c.geom)::geography)) AS m2
    FROM b JOIN communes c ON c.geom && b.geom AND ST_Intersects(c.geom, b.geom) GROUP BY 1, 2
),
flows AS (SELECT commune_code, from_class, to_class, SUM(m2) AS m2 FROM pairs GROUP BY 1, 2, 3)
SELECT commune_code, from_class, to_class, m2 FROM flows
UNION ALL
SELECT t.commune_code, t.cls, NULL, t.m2 - COALESCE((SELECT SUM(m2) FROM flows f
    WHERE f.commune_code = t.commune_code AND f.from_class = t.cls), 0) FROM a_tot t
UNION ALL
SELECT t.commune_code, NULL, t.cls, t.m2 - COALESCE((SELECT SUM(m2) FROM flows f
    WHERE f.commune_code = t.commune_code AND f.to_class = t.cls), 0) FROM b_tot t
"""


def compare_plans(
    plan_a_id: int, plan_b_id: int, communes: Iterable[str] | None = None, *, min_hectares: float = 0.0001
) -> list[dict[str, Any]]:
    """Land-use change from plan A to plan B: per commune, hectares going from each A class to each B class.

    Rows with `to_class` None are land planned in A that B leaves unplanned; `from_class` None is land B
    plans that A did not. Rows below `min_hectares` (rounding noise of the residuals) are dropped.
    Sorted by commune, then by hectares descending.
    """
    clause, params = _communes_clause(communes, "code")
    sql = _COMPARE_SQL.format(communes=clause)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, plan_a_id, plan_b_id])
        rows = cursor.fetchall()
    out = [
        {
            "commune_code": code,
            "from_class": from_class,
            "to_class": to_class,
            "from_name": class_name(from_class),
            "to_name": class_name(to_class),
            "changed": from_class != to_class,
            "hectares": round(m2 / 10_000, 4),
        }
        for code, from_class, to_class, m2 in rows
        if m2 is not None and m2 / 10_000 >= min_hectares
    ]
    out.sort(key=lambda r: (r["commune_code"], -r["hectares"], r["from_class"] or "", r["to_class"] or ""))
    return out


_CONFLICT_SQL = """
SELECT p.id, p.commune_code, p.sheet_number, p.parcel_number, p.land_use, z.land_use, z.zone_code, z.id,
       ov.m2, ov.m2 / NULLIF(ST_Area(p.geom::geography), 0) AS share
FROM layers_landparcel p
JOIN layers_planningzone z ON z.plan_id = %s AND z.geom && p.geom AND ST_Intersects(z.geom, p.geom)
CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(p.geom, z.geom)::geography) AS m2) ov
WHERE p.land_use <> z.land_use AND {communes}
ORDER BY p.commune_code, p.sheet_number, p.parcel_number, z.zone_code
"""


def parcel_conflicts(
    plan_id: int,
    communes: Iterable[str] | None = None,
    *,
    rule: str = "code",
    min_share: float = MIN_OVERLAP_SHARE,
) -> list[dict[str, Any]]:
    """Parcels whose current land use conflicts with the class the plan gives the land under them.

    One row per (parcel, zone) pair: the zone must cover at least `min_share` (0–1) of the parcel, and
    the codes must differ (`rule="code"`) or their legal groups must differ (`rule="group"`).
    """
    if rule not in CONFLICT_RULES:
        raise ValueError(f"rule must be one of {CONFLICT_RULES}, not {rule!r}")
    if not 0 <= min_share <= 1:
        raise ValueError("min_share must be between 0 and 1")
    clause, params = _communes_clause(communes, "p.commune_code")
    with connection.cursor() as cursor:
        cursor.execute(_CONFLICT_SQL.format(communes=clause), [plan_id, *params])
        rows = cursor.fetchall()
    out = []
    for pid, code, sheet, number, land_use, planned, zone_code, zone_id, m2, share in rows:
        if not is_conflict(land_use, planned, share, rule=rule, min_share=min_share):
            continue
        out.append(
            {
                "id": pid,
                "commune_code": code,
                "sheet_number": sheet,
                "parcel_number": number,
                "land_use": land_use,
                "planned_land_use": planned,
                "zone_code": zone_code,
                "zone_id": zone_id,
                "overlap_m2": round(m2, 2),
                "overlap_share": round(share, 4),
            }
        )
    return out
